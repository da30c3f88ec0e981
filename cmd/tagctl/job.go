package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"google.golang.org/grpc/status"

	"github.com/doctagger/doctagger/client"
)

// tagJob collects the results: output, failures, progress and counts.
type tagJob struct {
	mu         sync.Mutex // input errors come from the reading goroutine
	w          resultWriter
	out        *output
	werr       error
	stderr     io.Writer
	bar        *progressbar.ProgressBar
	sel        *selection
	onlyTagged bool
	hint       func(error) string
	hinted     string
	start      time.Time
	lastFlush  time.Time
	total      int
	failed     int
	untagged   int // not written (--only-tagged)
	themes     map[string]int
	version    map[string]int
	peers      map[string]int
}

// flushEvery is how often the output is pushed to its file while results
// come, so that a killed run leaves them for --resume (and a reader of the
// file sees them).
const flushEvery = time.Second

func (j *tagJob) result(r client.Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.total++
	// The place in the whole input, as the REST stream numbers results.
	r.Index = j.sel.sequence(r.Index) - 1
	if r.Err != nil {
		j.failed++
		j.clearBar()
		st := status.Convert(r.Err)
		fmt.Fprintf(j.stderr, "tagctl tag: failed %s: %s: %s\n", r.ID, codeName(st.Code()), st.Message())
		if j.hinted == "" && j.hint != nil {
			j.hinted = j.hint(r.Err)
		}
	} else {
		for _, t := range r.Tags {
			j.themes[t.GetTheme()]++
		}
		j.version[r.RulesetVersion]++
		if r.Peer != "" {
			j.peers[r.Peer]++
		}
	}
	if j.onlyTagged && r.Err == nil && len(r.Tags) == 0 {
		j.untagged++
	} else if j.werr == nil {
		j.werr = j.w.write(r)
	}
	if now := time.Now(); now.Sub(j.lastFlush) >= flushEvery && j.werr == nil {
		j.lastFlush = now
		if j.werr = j.w.flush(); j.werr == nil {
			j.werr = j.out.sync()
		}
	}
	if j.bar != nil {
		j.bar.Add(1)
	}
}

// inputError reports a document that could not be read (a malformed NDJSON
// line, an unreadable file) as a failed document, when it is this run's.
func (j *tagJob) inputError(id string, st *status.Status) {
	j.sel.mu.Lock()
	ok := j.sel.wants(id)
	j.sel.mu.Unlock()
	if ok {
		j.result(client.Result{Index: -1, ID: id, Err: st.Err()})
	}
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
	if err := j.out.close(); j.werr == nil {
		j.werr = err
	}
	if j.werr != nil {
		return fmt.Errorf("writing the results: %w", j.werr)
	}
	return nil
}

// summary is written to stderr at the end; mode is "grpc", "rest" or
// "local".
func (j *tagJob) summary(stats *client.StreamStats, mode string) {
	d := time.Since(j.start)
	rate := float64(j.total) / max(d.Seconds(), 1e-9)
	fmt.Fprintf(j.stderr, "tagctl tag: %d documents, %d failed, %s (%.0f documents/s)\n", j.total, j.failed, d.Round(time.Millisecond), rate)
	fmt.Fprintf(j.stderr, "  tags per theme: %s\n", formatCounts(j.themes, "none"))
	fmt.Fprintf(j.stderr, "  ruleset versions: %s\n", formatCounts(j.version, "none"))
	if j.onlyTagged {
		fmt.Fprintf(j.stderr, "  untagged, not written (--only-tagged): %d\n", j.untagged)
	}
	if j.sel.shard.count > 1 || j.sel.done != nil {
		fmt.Fprintf(j.stderr, "  skipped: %d documents of the input (other shards, or already in the output)\n", j.sel.skipped)
	}
	if j.out.done != nil {
		fmt.Fprintf(j.stderr, "  resumed: %d results kept from the output (%d of them failed documents), %d dropped to redo (failed for the job's sake, or cut short)\n",
			j.out.kept, j.out.final, j.out.drop)
	}
	if mode == "grpc" {
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
