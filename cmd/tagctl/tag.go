package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/tagger/eval"
)

func init() {
	register(command{name: "tag", summary: "tag files, directories or NDJSON documents on the server (NDJSON, CSV or table out)", run: tagCmd})
}

// stdin is the standard input; tests replace it.
var stdin io.Reader = os.Stdin

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	if file, ok := f.(*os.File); ok {
		return term.IsTerminal(int(file.Fd()))
	}
	return false
}

const tagUsage = `[FILE|DIR|-]...

Tags documents on a doctagger server and writes one result per document.
Inputs: plain-text files (one document each, id = path), directories (every
file below them, hidden ones skipped), NDJSON files (*.ndjson, *.jsonl, also
.gz), and "-" for standard input (NDJSON, or one plain-text document with
--plain). Without an argument, standard input is read.

An NDJSON line is a document, {"id": ..., "text": ..., "languageCode": ...}
(the id may also be a number; "language_code" and, as older tagctl
versions read it, "language" are accepted for the language; other keys are
ignored), or a line of the REST stream (POST /v1/documents:streamTag),
{"document": {...}, "options": {...}}: its options replace those of the
flags (or of an earlier line of the file) for that line and the next lines
of the file that carry none, as in the REST stream. A document without an
id is named FILE:LINE; a line that is malformed or not valid UTF-8 is a
failed document with id FILE:LINE.

Output (--format ndjson): one line per document as the REST stream writes
them, {"result": {"documentId", "tags", "rulesetVersion", "words",
"untagged", "sequence", "error"}} (the API's DocumentResult in its JSON
form, lowerCamelCase; "sequence" is the document's place in the input, and
"error" a google.rpc.Status for a failed document).

The exit status is 0 when every document was tagged and 1 when any failed;
each failure is written to stderr (id and reason) and to the output.`

type tagFlags struct {
	plain, evidence, untagged bool
	format, themes, language  string
	minScore                  float64
	concurrency, window       int
	output, progress          string
	quiet, ordered            bool
	retryFor                  time.Duration
}

func tagCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tag", tagUsage, stderr)
	var r remote
	r.register(fs)
	var f tagFlags
	fs.BoolVar(&f.plain, "plain", false, "read standard input as one plain-text document (id \"-\") instead of NDJSON")
	fs.StringVar(&f.format, "format", "ndjson", "output format: ndjson, csv or table")
	fs.BoolVar(&f.evidence, "evidence", false, "ask for each tag's evidence (the matched text and where), written in NDJSON output")
	fs.BoolVar(&f.untagged, "untagged", false, "also ask for the themes that matched but stayed under their threshold (NDJSON output)")
	fs.StringVar(&f.themes, "themes", "", "comma-separated theme ids to tag (default: every theme)")
	fs.Float64Var(&f.minScore, "min-score", 0, "drop tags scoring below this, on top of each theme's threshold")
	fs.StringVar(&f.language, "language", "", "language hint for documents that carry none (vi, en): the language of the labels")
	fs.IntVar(&f.concurrency, "concurrency", 4, "streams (gRPC) or requests (REST) at once; each stream goes to one replica, so use 2 or more per replica")
	fs.IntVar(&f.window, "window", 0, "documents in flight over all streams (default 128 per stream)")
	fs.DurationVar(&f.retryFor, "retry-for", 30*time.Second, "how long to keep reopening streams while no replica answers before the remaining documents fail")
	fs.StringVar(&f.output, "o", "", "write the results to this file instead of standard output")
	fs.BoolVar(&f.ordered, "ordered", false, "write the results in input order (holds back at most --window results)")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fs.BoolVar(&f.quiet, "q", false, "no closing summary on stderr (failures are still reported)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	switch {
	case f.format != "ndjson" && f.format != "csv" && f.format != "table":
		fmt.Fprintf(stderr, "tagctl tag: --format %q: want ndjson, csv or table\n", f.format)
		return errUsage
	case f.progress != "auto" && f.progress != "always" && f.progress != "never":
		fmt.Fprintf(stderr, "tagctl tag: --progress %q: want auto, always or never\n", f.progress)
		return errUsage
	case f.concurrency < 1 || f.window < 0 || f.minScore < 0 || f.minScore > 1 || f.retryFor <= 0:
		fmt.Fprintln(stderr, "tagctl tag: --concurrency must be at least 1, --window not negative, --min-score in [0, 1], --retry-for positive")
		return errUsage
	}
	if !utf8.ValidString(f.themes) || !utf8.ValidString(f.language) {
		fmt.Fprintln(stderr, "tagctl tag: --themes and --language must be valid UTF-8")
		return errUsage
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		if isTerminal(stdin) {
			fmt.Fprintln(stderr, "tagctl tag: no input: give files or directories, or pipe NDJSON documents to standard input (see -h)")
			return errUsage
		}
		inputs = []string{"-"}
	}
	sources, err := expandInputs(inputs, f.plain)
	if err != nil {
		return err
	}

	out := stdout
	if f.output != "" {
		file, err := os.Create(f.output)
		if err != nil {
			return err
		}
		defer file.Close()
		out = file
	}

	opts := &pb.TagOptions{MinScore: f.minScore, OmitEvidence: !f.evidence, IncludeUntagged: f.untagged}
	for _, th := range strings.Split(f.themes, ",") {
		if th = strings.TrimSpace(th); th != "" {
			opts.Themes = append(opts.Themes, th)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	j := &tagJob{
		w:       newResultWriter(out, f.format),
		stderr:  stderr,
		start:   time.Now(),
		themes:  map[string]int{},
		version: map[string]int{},
		peers:   map[string]int{},
	}
	if f.progress == "always" || f.progress == "auto" && isTerminal(stderr) {
		j.bar = newProgressBar(stderr, countDocs(sources))
	}
	docs := readDocs(sources, f.language, j.inputError)

	var (
		results iter.Seq[client.Result]
		stats   client.StreamStats
	)
	if r.rest != "" {
		rc, err := r.httpClient()
		if err != nil {
			return err
		}
		defer rc.close()
		results = rc.tagStream(ctx, docs, restOptions{tag: opts, concurrency: f.concurrency, chunk: 200, maxAttempts: 5, failAfter: f.retryFor})
	} else {
		c, err := r.client()
		if err != nil {
			return err
		}
		defer c.Close()
		results = c.TagStream(ctx, docs, client.StreamOptions{Tag: opts, Streams: f.concurrency, Window: f.window, FailAfter: f.retryFor, Stats: &stats})
	}
	if f.ordered {
		results = client.InOrder(results)
	}
	for res := range results {
		j.result(res)
	}
	if err := j.finish(); err != nil {
		return err
	}
	if !f.quiet {
		j.summary(&stats, r.rest != "")
	}
	switch {
	case ctx.Err() != nil:
		return exitError{code: 130}
	case j.failed > 0:
		return exitError{code: 1}
	}
	return nil
}

// tagJob collects the results: output, failures, progress and counts.
type tagJob struct {
	mu      sync.Mutex // input errors come from the reading goroutine
	w       resultWriter
	werr    error
	stderr  io.Writer
	bar     *progressbar.ProgressBar
	start   time.Time
	total   int
	failed  int
	themes  map[string]int
	version map[string]int
	peers   map[string]int
}

func (j *tagJob) result(r client.Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.total++
	if r.Err != nil {
		j.failed++
		j.clearBar()
		st := status.Convert(r.Err)
		fmt.Fprintf(j.stderr, "tagctl tag: failed %s: %s: %s\n", r.ID, codeName(st.Code()), st.Message())
	} else {
		for _, t := range r.Tags {
			j.themes[t.GetTheme()]++
		}
		j.version[r.RulesetVersion]++
		if r.Peer != "" {
			j.peers[r.Peer]++
		}
	}
	if j.werr == nil {
		j.werr = j.w.write(r)
	}
	if j.bar != nil {
		j.bar.Add(1)
	}
}

// inputError reports a document that could not be read (a malformed NDJSON
// line, an unreadable file) as a failed document.
func (j *tagJob) inputError(id string, st *status.Status) {
	j.result(client.Result{Index: -1, ID: id, Err: st.Err()})
}

func (j *tagJob) clearBar() {
	if j.bar != nil {
		j.bar.Clear()
	}
}

func (j *tagJob) finish() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.bar != nil {
		j.bar.Finish()
		j.bar.Clear()
	}
	if err := j.w.flush(); j.werr == nil {
		j.werr = err
	}
	if j.werr != nil {
		return fmt.Errorf("writing the results: %w", j.werr)
	}
	return nil
}

func (j *tagJob) summary(stats *client.StreamStats, rest bool) {
	d := time.Since(j.start)
	rate := float64(j.total) / max(d.Seconds(), 1e-9)
	fmt.Fprintf(j.stderr, "tagctl tag: %d documents, %d failed, %s (%.0f documents/s)\n", j.total, j.failed, d.Round(time.Millisecond), rate)
	fmt.Fprintf(j.stderr, "  tags per theme: %s\n", formatCounts(j.themes, "none"))
	fmt.Fprintf(j.stderr, "  ruleset versions: %s\n", formatCounts(j.version, "none"))
	if !rest {
		fmt.Fprintf(j.stderr, "  replicas: %s\n", formatCounts(j.peers, "none"))
		fmt.Fprintf(j.stderr, "  streams: %d opened, %d broken, %d documents resent\n", stats.Opened.Load(), stats.Broken.Load(), stats.Resent.Load())
	}
}

// formatCounts is "a 12, b 7" by decreasing count.
func formatCounts(m map[string]int, empty string) string {
	if len(m) == 0 {
		return empty
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func newProgressBar(w io.Writer, total int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("tagging"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("docs"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
}

// Inputs.

type sourceKind int

const (
	plainFile sourceKind = iota
	ndjsonFile
	stdinNDJSON
	stdinPlain
)

type source struct {
	path string
	kind sourceKind
}

func isNDJSON(path string) bool {
	p := strings.TrimSuffix(strings.ToLower(path), ".gz")
	return strings.HasSuffix(p, ".ndjson") || strings.HasSuffix(p, ".jsonl")
}

// expandInputs turns the arguments into sources; directories are walked in
// lexical order, skipping hidden files and directories.
func expandInputs(args []string, plain bool) ([]source, error) {
	var out []source
	stdinSeen := false
	for _, arg := range args {
		if arg == "-" {
			if stdinSeen {
				return nil, errors.New(`"-" (standard input) given twice`)
			}
			stdinSeen = true
			out = append(out, source{path: "-", kind: map[bool]sourceKind{false: stdinNDJSON, true: stdinPlain}[plain]})
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, fileSource(arg))
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != arg && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 && !d.IsDir() {
				out = append(out, fileSource(path))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fileSource(path string) source {
	if isNDJSON(path) {
		return source{path: path, kind: ndjsonFile}
	}
	return source{path: path, kind: plainFile}
}

// countDocs counts the documents for the progress bar: -1 when standard
// input is read (unknown).
func countDocs(sources []source) int64 {
	var n int64
	for _, s := range sources {
		switch s.kind {
		case plainFile:
			n++
		case ndjsonFile:
			rc, err := openInput(s.path)
			if err != nil {
				n++ // counted as one failure
				continue
			}
			br := bufio.NewReaderSize(rc, 256<<10)
			for {
				line, err := br.ReadSlice('\n')
				if len(bytes.TrimSpace(line)) > 0 {
					n++
				}
				for errors.Is(err, bufio.ErrBufferFull) { // the rest of a long line
					_, err = br.ReadSlice('\n')
				}
				if err != nil {
					break
				}
			}
			rc.Close()
		default:
			return -1
		}
	}
	return n
}

func openInput(path string) (io.ReadCloser, error) { return eval.Open(path) }

// maxLine bounds one NDJSON line (a document of up to the server's default
// 1 MiB limit, escaped, fits easily).
const maxLine = 64 << 20

// readDocs reads the documents of every source in order. A source or line
// that cannot be read is reported to bad (id, reason) and skipped.
func readDocs(sources []source, language string, bad func(id string, st *status.Status)) iter.Seq[client.Document] {
	return func(yield func(client.Document) bool) {
		for _, s := range sources {
			switch s.kind {
			case plainFile:
				data, err := os.ReadFile(s.path)
				if err != nil {
					bad(s.path, status.New(codes.InvalidArgument, err.Error()))
					continue
				}
				if !yield(client.Document{ID: s.path, Text: string(data), Language: language}) {
					return
				}
			case stdinPlain:
				data, err := io.ReadAll(stdin)
				if err != nil {
					bad("-", status.Newf(codes.InvalidArgument, "reading standard input: %v", err))
					continue
				}
				if !yield(client.Document{ID: "-", Text: string(data), Language: language}) {
					return
				}
			case ndjsonFile:
				rc, err := openInput(s.path)
				if err != nil {
					bad(s.path, status.New(codes.InvalidArgument, err.Error()))
					continue
				}
				ok := readNDJSON(rc, s.path, language, yield, bad)
				rc.Close()
				if !ok {
					return
				}
			case stdinNDJSON:
				if !readNDJSON(stdin, "-", language, yield, bad) {
					return
				}
			}
		}
	}
}

var errLongLine = errors.New("line too long")

// readLine reads one line without its newline; a line over maxLine is
// skipped up to its end and reported as errLongLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLongLine
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

// Outputs.

type resultWriter interface {
	write(client.Result) error
	flush() error
}

func newResultWriter(w io.Writer, format string) resultWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "csv":
		return &csvWriter{bw: bw, w: csv.NewWriter(bw)}
	case "table":
		return &tableWriter{bw: bw, tw: tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)}
	}
	return &ndjsonWriter{bw: bw}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// codeName is the canonical name of a gRPC code: INVALID_ARGUMENT.
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

type csvWriter struct {
	bw     *bufio.Writer
	w      *csv.Writer
	header bool
}

// writeHeader writes the header row once, before the first record (or
// alone, for an empty input).
func (w *csvWriter) writeHeader() {
	if !w.header {
		w.header = true
		w.w.Write([]string{"id", "themes", "scores", "ruleset_version", "words", "error_code", "error"})
	}
}

func (w *csvWriter) write(r client.Result) error {
	w.writeHeader()
	if r.Err != nil {
		st := status.Convert(r.Err)
		return w.w.Write([]string{r.ID, "", "", "", "", codeName(st.Code()), st.Message()})
	}
	themes := make([]string, len(r.Tags))
	scores := make([]string, len(r.Tags))
	for i, t := range r.Tags {
		themes[i] = t.GetTheme()
		scores[i] = strconv.FormatFloat(round4(t.GetScore()), 'f', -1, 64)
	}
	return w.w.Write([]string{r.ID, strings.Join(themes, ";"), strings.Join(scores, ";"), r.RulesetVersion, strconv.Itoa(r.Words), "", ""})
}

func (w *csvWriter) flush() error {
	w.writeHeader()
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return err
	}
	return w.bw.Flush()
}

type tableWriter struct {
	bw     *bufio.Writer
	tw     *tabwriter.Writer
	header bool
}

func (w *tableWriter) write(r client.Result) error {
	if !w.header {
		w.header = true
		fmt.Fprintln(w.tw, "ID\tTAGS\tWORDS\tRULESET\tERROR")
	}
	id := strings.NewReplacer("\t", " ", "\n", " ").Replace(r.ID)
	if r.Err != nil {
		st := status.Convert(r.Err)
		_, err := fmt.Fprintf(w.tw, "%s\t-\t-\t-\t%s: %s\n", id, codeName(st.Code()), strings.ReplaceAll(st.Message(), "\t", " "))
		return err
	}
	tags := make([]string, len(r.Tags))
	for i, t := range r.Tags {
		tags[i] = fmt.Sprintf("%s(%.2f)", t.GetTheme(), t.GetScore())
	}
	tagText := strings.Join(tags, " ")
	if tagText == "" {
		tagText = "-"
	}
	_, err := fmt.Fprintf(w.tw, "%s\t%s\t%d\t%s\t\n", id, tagText, r.Words, r.RulesetVersion)
	return err
}

func (w *tableWriter) flush() error {
	if err := w.tw.Flush(); err != nil {
		return err
	}
	return w.bw.Flush()
}
