package web_test

// The playground in a real browser: Debian's chromium, headless, driven by
// chromedp against the real server on 127.0.0.1. It skips when no chromium
// is installed (.ci/checks.d/30-chromium.sh installs it in CI).
//
// Screenshots go to $DOCTAGGER_SCREENSHOT_DIR, or to a directory under the
// system temp dir; the test logs where.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/unicode/norm"

	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/server"
	"github.com/doctagger/doctagger/web"
)

// maxDoc is the server's document limit in this test: small, so the
// over-size case is cheap, and big enough for the article below.
const maxDoc = 1500

// article is a short Vietnamese news text written for this test. It should
// tag ehealth, semiconductors, ai, drones and green_transition, with an
// excluded match (thẻ căn cước ... gắn chip) and an AI exclusion (học máy tính).
const article = `Hà Nội – Bộ Y tế cho biết hơn 400 bệnh viện đã triển khai bệnh án điện tử và khám bệnh từ xa.

Tập đoàn FPT khởi công nhà máy chip tại Bắc Ninh; kỹ sư dùng trí tuệ nhân tạo để kiểm tra tấm wafer. Thẻ căn cước gắn chip mới đã được cấp cho 70 triệu người.

Sinh viên đi học máy tính buổi tối. Nông dân Đồng Tháp dùng máy bay không người lái để phun thuốc, góp phần giảm phát thải 🌱 theo mục tiêu net zero.`

var allThemes = []string{"ai", "drones", "ehealth", "green_transition", "semiconductors"}

func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DOCTAGGER_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("no chromium installed (/usr/bin/chromium): skipping the browser test; install it with `apt-get install -y chromium` (CI does: .ci/checks.d/30-chromium.sh) or set DOCTAGGER_CHROMIUM")
	return ""
}

// startServer runs the real server with the playground on 127.0.0.1.
func startServer(t *testing.T, edit func(*server.Config)) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.WatchRules = false
	cfg.MaxDocumentBytes = maxDoc
	cfg.ShutdownGrace = time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.UI = web.Handler()
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("server did not stop within 15s")
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("server failed to start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready within 10s")
	}
	return "http://" + srv.HTTPAddr().String()
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	}
	// Everything the browser does in this test is bounded by this timeout.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser() // closes the browser and waits for it
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now so that a broken install fails here, clearly.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// step runs actions with their own deadline, so that a hung wait names itself.
func step(t *testing.T, ctx context.Context, name string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		failed(t, ctx, name, err)
	}
}

// value runs one action that returns a value, with its own deadline.
func value[T any](t *testing.T, ctx context.Context, name string, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		failed(t, ctx, name, err)
	}
	return v
}

func evaluate[T any](t *testing.T, ctx context.Context, name, expr string) T {
	t.Helper()
	return value(t, ctx, name, 10*time.Second, chromedp.Evaluate[T](expr))
}

// failed keeps a screenshot of the page as it was, then fails the test.
func failed(t *testing.T, ctx context.Context, name string, err error) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(sctx, chromedp.CaptureScreenshot()); serr == nil && len(png) > 0 {
		saveShot(t, "failure-"+strings.ReplaceAll(name, " ", "-"), png)
	}
	t.Fatalf("%s: %v", name, err)
}

// insertText types text as a paste would (Input.insertText: one input event).
func insertText(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
		return err
	})
}

func phoneViewport() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true,
		})
		return err
	})
}

func shotDir(t *testing.T) string {
	dir := os.Getenv("DOCTAGGER_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "doctagger-playground")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(shotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// apiEvidence is what the REST API says about the text, for comparison.
type apiEvidence struct {
	Term      string `json:"term"`
	Text      string `json:"text"`
	RuneStart int    `json:"runeStart"`
	RuneEnd   int    `json:"runeEnd"`
}

type apiTag struct {
	Theme    string        `json:"theme"`
	Score    float64       `json:"score"`
	Evidence []apiEvidence `json:"evidence"`
	Dropped  []struct {
		Evidence apiEvidence `json:"evidence"`
		Reason   string      `json:"reason"`
	} `json:"dropped"`
}

type apiResult struct {
	Tags           []apiTag `json:"tags"`
	Untagged       []apiTag `json:"untagged"`
	RulesetVersion string   `json:"rulesetVersion"`
}

func tagViaAPI(t *testing.T, base, text string) apiResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"document": map[string]any{"id": "playground", "text": text, "languageCode": "vi"},
		"options":  map[string]any{"includeUntagged": true},
	})
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(base+"/v1/documents:tag", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result apiResult `json:"result"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("API: HTTP %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Result
}

// pageSpan is one evidence row of the page with the text of its highlight
// put back together from the highlighted pieces.
type pageSpan struct {
	Theme     string `json:"theme"`
	Kind      string `json:"kind"`
	Term      string `json:"term"`
	RuneStart int    `json:"runeStart"`
	RuneEnd   int    `json:"runeEnd"`
	Text      string `json:"text"`
	Pieces    int    `json:"pieces"`
	Struck    bool   `json:"struck"`
}

type pageState struct {
	Tagged   []string   `json:"tagged"`
	Untagged []string   `json:"untagged"`
	Spans    []pageSpan `json:"spans"`
	DocText  string     `json:"docText"`
	Meta     string     `json:"meta"`
	Error    string     `json:"error"`
}

const readPage = `(() => {
  const spans = [];
  for (const tr of document.querySelectorAll('#evidence tr[data-span]')) {
    const id = tr.dataset.span;
    const pieces = [...document.querySelectorAll('#doc .hl')].filter(m => m.dataset.spans.split(' ').includes(id));
    spans.push({
      theme: tr.dataset.theme, kind: tr.dataset.kind, term: tr.dataset.term,
      runeStart: +tr.dataset.runeStart, runeEnd: +tr.dataset.runeEnd,
      text: pieces.map(m => m.textContent).join(''), pieces: pieces.length,
      struck: pieces.length > 0 && pieces.every(m => getComputedStyle(m).textDecorationLine.includes('line-through')),
    });
  }
  const err = document.getElementById('error');
  return {
    tagged: [...document.querySelectorAll('#scores li.is-tagged')].map(li => li.dataset.theme).sort(),
    untagged: [...document.querySelectorAll('#scores li.is-untagged')].map(li => li.dataset.theme).sort(),
    spans,
    docText: document.getElementById('doc').textContent,
    meta: document.getElementById('result-meta').textContent,
    error: err.hidden ? '' : err.innerText,
  };
})()`

// pasteAndTag replaces the text area's content as a paste would and presses Tag.
func pasteAndTag(t *testing.T, ctx context.Context, name, text string) pageState {
	t.Helper()
	step(t, ctx, name+": paste", 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('text').value = ''`),
		chromedp.Focus(chromedp.ID("text")),
		insertText(text),
	)
	before := evaluate[int](t, ctx, name+": count", `+(document.getElementById('tag-form').dataset.done || 0)`)
	step(t, ctx, name+": tag", 30*time.Second,
		chromedp.Click(chromedp.ID("tag")),
		// data-done counts finished requests, answered or failed.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](fmt.Sprintf(`+(document.getElementById('tag-form').dataset.done || 0) > %d`, before),
				chromedp.WithPollingTimeout(25*time.Second))(ctx, tg)
			return err
		}),
	)
	return evaluate[pageState](t, ctx, name+": read the page", readPage)
}

// checkAgainstAPI: the page shows the themes the API tags, and every
// highlight's text is exactly the evidence text of the API.
func checkAgainstAPI(t *testing.T, name string, st pageState, text string, api apiResult, wantThemes ...string) {
	t.Helper()
	if st.Error != "" {
		t.Fatalf("%s: the page shows an error: %s", name, st.Error)
	}
	var apiTagged []string
	for _, tg := range api.Tags {
		apiTagged = append(apiTagged, tg.Theme)
	}
	if got, want := strings.Join(st.Tagged, ","), strings.Join(slices.Sorted(slices.Values(apiTagged)), ","); got != want {
		t.Errorf("%s: page tags %s, API tags %s", name, got, want)
	}
	if got, want := strings.Join(st.Tagged, ","), strings.Join(slices.Sorted(slices.Values(wantThemes)), ","); got != want {
		t.Errorf("%s: tagged %s, want %s", name, got, want)
	}
	if st.DocText != text {
		t.Errorf("%s: the highlighted text is not the text sent:\n%q\n%q", name, st.DocText, text)
	}
	if !strings.Contains(st.Meta, api.RulesetVersion) {
		t.Errorf("%s: ruleset version %s not shown in %q", name, api.RulesetVersion, st.Meta)
	}
	type key struct {
		theme, kind, term string
		rs, re            int
	}
	page := map[key]pageSpan{}
	for _, s := range st.Spans {
		page[key{s.Theme, s.Kind, s.Term, s.RuneStart, s.RuneEnd}] = s
	}
	n, dropped := 0, 0
	check := func(theme, kind string, ev apiEvidence) {
		n++
		k := key{theme, kind, ev.Term, ev.RuneStart, ev.RuneEnd}
		s, ok := page[k]
		if !ok {
			t.Errorf("%s: evidence %+v (%s %s) is not on the page", name, ev, theme, kind)
			return
		}
		if s.Text != ev.Text {
			t.Errorf("%s: %s %s %q: highlighted %q (%d pieces), API text %q", name, theme, kind, ev.Term, s.Text, s.Pieces, ev.Text)
		}
		if kind == "dropped" && !s.Struck {
			t.Errorf("%s: dropped %s %q is not struck through", name, theme, ev.Text)
		}
	}
	for _, tg := range append(append([]apiTag{}, api.Tags...), api.Untagged...) {
		for _, ev := range tg.Evidence {
			check(tg.Theme, "counted", ev)
		}
		for _, d := range tg.Dropped {
			dropped++
			check(tg.Theme, "dropped", d.Evidence)
		}
	}
	if len(st.Spans) != n {
		t.Errorf("%s: page lists %d evidence rows, API has %d", name, len(st.Spans), n)
	}
	if dropped == 0 {
		t.Errorf("%s: the article should have dropped matches (exclusions)", name)
	}
	t.Logf("%s: %d themes, %d evidence (%d dropped) match the API", name, len(st.Tagged), n, dropped)
}

func TestPlaygroundInChromium(t *testing.T) {
	base := startServer(t, nil)
	ctx := newBrowser(t)

	step(t, ctx, "open the page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#theme-list input[type=checkbox]`)),
	)
	if n := evaluate[int](t, ctx, "themes", `document.querySelectorAll('#theme-list input[type=checkbox]').length`); n != len(allThemes) {
		t.Errorf("%d theme checkboxes, want %d", n, len(allThemes))
	}
	// Vietnamese UI, as analysts use it.
	step(t, ctx, "switch to Vietnamese", 10*time.Second,
		chromedp.SetValue(chromedp.ID("ui-lang"), "vi"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('ui-lang').dispatchEvent(new Event('change')), undefined`),
		chromedp.WaitVisible(chromedp.CSS(`#theme-list input[type=checkbox]`)),
	)

	// NFC text.
	nfc := norm.NFC.String(article)
	st := pasteAndTag(t, ctx, "NFC", nfc)
	checkAgainstAPI(t, "NFC", st, nfc, tagViaAPI(t, base, nfc), allThemes...)

	// Focusing (or hovering) a highlight shows term, pattern and weight.
	step(t, ctx, "focus a highlight", 10*time.Second,
		chromedp.Focus(chromedp.CSS(`#doc mark.hl.counted`)),
		chromedp.WaitVisible(chromedp.ID("tip")),
	)
	tip := value(t, ctx, "tooltip text", 10*time.Second, chromedp.Text(chromedp.ID("tip")))
	for _, want := range []string{"Thuật ngữ", "Mẫu", "Trọng số"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip %q lacks %q", tip, want)
		}
	}
	saveShot(t, "playground-desktop", value(t, ctx, "desktop screenshot", 20*time.Second, chromedp.FullScreenshot(100)))

	// The same article in NFD (combining marks as separate code points).
	nfd := norm.NFD.String(article)
	if nfd == nfc {
		t.Fatal("the NFD variant equals the NFC text")
	}
	st = pasteAndTag(t, ctx, "NFD", nfd)
	checkAgainstAPI(t, "NFD", st, nfd, tagViaAPI(t, base, nfd), allThemes...)

	// Phone width: no sideways scrolling of the page.
	step(t, ctx, "phone width", 10*time.Second, phoneViewport(), chromedp.Sleep(300*time.Millisecond))
	if evaluate[bool](t, ctx, "overflow", `document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`) {
		t.Errorf("the page scrolls sideways at phone width")
	}
	saveShot(t, "playground-phone", value(t, ctx, "phone screenshot", 20*time.Second, chromedp.FullScreenshot(100)))

	// Weak terms with no strong term (unsupported) and an exclusion, in
	// themes under their threshold: struck through, with the reason.
	weak := "Intel ra mắt chip mới, có robot và thuật toán. Tối nay nghe nhạc drone."
	st = pasteAndTag(t, ctx, "weak", weak)
	checkAgainstAPI(t, "weak", st, weak, tagViaAPI(t, base, weak), "semiconductors")
	// (ai and drones at least: e-health also lists "thuật toán", a weak
	// term of its digital layer with no health setting near it.)
	if got := strings.Join(st.Untagged, ","); !strings.Contains(","+got+",", ",ai,") || !strings.Contains(","+got+",", ",drones,") {
		t.Errorf("under threshold: %s, want ai and drones among them", got)
	}
	reasons := evaluate[string](t, ctx, "reasons", `[...document.querySelectorAll('#evidence tr.dropped .c-kind')].map(td => td.textContent).join(' | ')`)
	for _, want := range []string{"thuật ngữ yếu", "nhac-drone"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("dropped reasons %q lack %q", reasons, want)
		}
	}

	// A term without its own setting (needs unmet): "AI" on a nutrition label, with no word of computing near it.
	label := "Bảng dinh dưỡng ghi AI của chất xơ là 25 gam mỗi ngày."
	st = pasteAndTag(t, ctx, "needs unmet", label)
	checkAgainstAPI(t, "needs unmet", st, label, tagViaAPI(t, base, label))
	if reasons := evaluate[string](t, ctx, "reasons", `[...document.querySelectorAll('#evidence tr.dropped .c-kind')].map(td => td.textContent).join(' | ')`); !strings.Contains(reasons, "không có từ ngữ cảnh") {
		t.Errorf("dropped reasons %q lack the needs-unmet reason", reasons)
	}

	// Over-size text: a visible error naming the sizes.
	big := strings.Repeat("Trí tuệ nhân tạo và bán dẫn. ", maxDoc/20)
	st = pasteAndTag(t, ctx, "over-size", big)
	if st.Error == "" {
		t.Fatal("over-size text: no error shown")
	}
	digits := strings.NewReplacer(".", "", ",", "", "\u00a0", "", " ", "").Replace(st.Error)
	for _, want := range []string{fmt.Sprint(maxDoc), fmt.Sprint(len(big)), "400", "DOCUMENT_TOO_LARGE"} {
		if !strings.Contains(digits, want) {
			t.Errorf("over-size error %q lacks %s", st.Error, want)
		}
	}
	visible := evaluate[bool](t, ctx, "error box", `(() => { const e = document.getElementById('error'); const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && e.getAttribute('role') === 'alert'; })()`)
	if !visible {
		t.Error("the error box is not visible")
	}
	saveShot(t, "playground-phone-error", value(t, ctx, "error screenshot", 20*time.Second, chromedp.FullScreenshot(100)))
	checkNoProblems(t, ctx)
}

// checkNoProblems: no uncaught script error and no Content-Security-Policy
// violation happened on the page.
func checkNoProblems(t *testing.T, ctx context.Context) {
	t.Helper()
	if p := evaluate[[]string](t, ctx, "page problems", `window.__playgroundProblems || ["app.js did not run"]`); len(p) > 0 {
		t.Errorf("page problems: %q", p)
	}
}

// With authentication on, the page says so, and tags once given a token.
func TestPlaygroundAuthInChromium(t *testing.T) {
	base := startServer(t, func(c *server.Config) { c.AuthTokens = []string{"s3cret"} })
	ctx := newBrowser(t)
	step(t, ctx, "open the page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	errText := value(t, ctx, "error text", 10*time.Second, chromedp.Text(chromedp.ID("error")))
	if !strings.Contains(errText, "401") || !strings.Contains(strings.ToLower(errText), "token") {
		t.Errorf("401 error %q", errText)
	}
	step(t, ctx, "enter the token", 20*time.Second,
		chromedp.SendKeys(chromedp.ID("opt-token"), "s3cret"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('opt-token').dispatchEvent(new Event('change')), undefined`),
		chromedp.WaitVisible(chromedp.CSS(`#theme-list input[type=checkbox]`)),
	)
	st := pasteAndTag(t, ctx, "with token", "Bệnh viện triển khai bệnh án điện tử.")
	if st.Error != "" || strings.Join(st.Tagged, ",") != "ehealth" {
		t.Errorf("with a token: tagged %v, error %q", st.Tagged, st.Error)
	}
	// The strong term, and "Bệnh viện", a context term (its setting,
	// weight 0).
	var texts []string
	for _, sp := range st.Spans {
		texts = append(texts, sp.Text)
	}
	if strings.Join(texts, "|") != "Bệnh viện|bệnh án điện tử" {
		t.Errorf("spans %+v", st.Spans)
	}
	// A title is sent as the document's title and shown above the text,
	// its evidence (inTitle) highlighted in it, the text's below.
	step(t, ctx, "set a title", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('opt-title').value = 'Máy bay không người lái giao thuốc', undefined`))
	st = pasteAndTag(t, ctx, "with a title", "Bệnh viện triển khai bệnh án điện tử.")
	texts = texts[:0]
	for _, sp := range st.Spans {
		texts = append(texts, sp.Text)
	}
	if !slices.Contains(st.Tagged, "drones") || !slices.Contains(texts, "Máy bay không người lái") || !slices.Contains(texts, "bệnh án điện tử") ||
		!strings.HasPrefix(st.DocText, "Máy bay không người lái giao thuốc") {
		t.Errorf("with a title: tagged %v, spans %q, document %q", st.Tagged, texts, st.DocText)
	}
	checkNoProblems(t, ctx)
}

// A caller over its quota is told when to try again (429 QUOTA_EXCEEDED,
// Retry-After).
func TestPlaygroundQuotaInChromium(t *testing.T) {
	// One document, then one each 100 s.
	base := startServer(t, func(c *server.Config) { c.Quota = middleware.Quota{DocumentsPerSecond: 0.01, Burst: 1} })
	ctx := newBrowser(t)
	step(t, ctx, "open the page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#theme-list input[type=checkbox]`)),
	)
	text := "Bệnh viện triển khai bệnh án điện tử."
	if st := pasteAndTag(t, ctx, "within the quota", text); st.Error != "" || strings.Join(st.Tagged, ",") != "ehealth" {
		t.Fatalf("within the quota: tagged %v, error %q", st.Tagged, st.Error)
	}
	st := pasteAndTag(t, ctx, "over the quota", text)
	for _, want := range []string{"429", "QUOTA_EXCEEDED", "quota"} {
		if !strings.Contains(st.Error, want) {
			t.Errorf("over-quota error %q lacks %q", st.Error, want)
		}
	}
	m := regexp.MustCompile(`try again in (\d+) s`).FindStringSubmatch(st.Error)
	if m == nil {
		t.Fatalf("over-quota error %q does not say when to try again", st.Error)
	}
	if n, _ := strconv.Atoi(m[1]); n < 90 || n > 100 {
		t.Errorf("try again in %d s, want the Retry-After of the quota's next document (about 100 s)", n)
	}
	checkNoProblems(t, ctx)
}

// A result over the message limit (413 RESULT_TOO_LARGE) is an error, and
// its limit, a message's, is not taken for the document limit that the
// counter shows.
func TestPlaygroundResultTooLargeInChromium(t *testing.T) {
	base := startServer(t, func(c *server.Config) { c.MaxMessageBytes = maxDoc + 1024 })
	ctx := newBrowser(t)
	step(t, ctx, "open the page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#theme-list input[type=checkbox]`)),
	)
	text := strings.Repeat("Trí tuệ nhân tạo, chip bán dẫn. ", 35)
	if len(text) > maxDoc {
		t.Fatalf("the text is %d bytes, over the document limit", len(text))
	}
	st := pasteAndTag(t, ctx, "result too large", text)
	for _, want := range []string{"413", "RESULT_TOO_LARGE"} {
		if !strings.Contains(st.Error, want) {
			t.Errorf("error %q lacks %q", st.Error, want)
		}
	}
	if count := value(t, ctx, "counter", 10*time.Second, chromedp.Text(chromedp.ID("text-count"))); strings.Contains(count, "/") {
		t.Errorf("counter %q shows a document limit learned from RESULT_TOO_LARGE", count)
	}
	checkNoProblems(t, ctx)
}
