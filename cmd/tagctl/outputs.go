package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/doctagger/doctagger/client"
)

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

// The output file: -o FILE, gzip-compressed when FILE ends in .gz, and
// with --resume read first and then appended to.

// output is where the results go.
type output struct {
	w     io.Writer
	gz    *gzip.Writer // when compressing
	file  *os.File     // nil for standard output
	path  string
	done  map[string]bool // --resume: the ids the file holds with a final result
	kept  int             // lines kept from an earlier run
	final int             // of which: failed documents (kept: retrying cannot help)
	drop  int             // lines dropped: retryable failures, a torn last line, duplicates
}

// sync pushes what the gzip writer holds to the file, in a form a reader
// (or a later --resume) can decode.
func (o *output) sync() error {
	if o.gz != nil {
		return o.gz.Flush()
	}
	return nil
}

func (o *output) close() error {
	if o.file == nil {
		return nil
	}
	var err error
	if o.gz != nil {
		err = o.gz.Close()
	}
	if cerr := o.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// openOutput opens the output: standard output when path is "" or "-";
// else the file, created (or truncated), or with resume read and then
// appended to.
func openOutput(path string, resume bool, stdout io.Writer) (*output, error) {
	if path == "" || path == "-" {
		return &output{w: stdout}, nil
	}
	gz := strings.HasSuffix(strings.ToLower(path), ".gz")
	o := &output{path: path}
	if resume {
		o.done = map[string]bool{}
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	var (
		f   *os.File
		err error
	)
	if resume {
		f, err = o.resume(gz)
	} else {
		f, err = os.Create(path)
	}
	if err != nil {
		return nil, err
	}
	o.file, o.w = f, f
	if gz {
		o.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // a new gzip member when appending
		o.w = o.gz
	}
	return o, nil
}

// finalError reports whether a failed document's result stays in the file
// when resuming: the server refused the document itself (INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE), which another try cannot change. A
// document that failed for a reason of the job (no server, a refused
// token, a deadline, an interrupted run) is tagged again.
func finalError(code codes.Code) bool {
	switch code {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return true
	}
	return false
}

// resultRecord is what --resume reads of an output line.
type resultRecord struct {
	Result *struct {
		DocumentID string `json:"documentId"`
		Error      *struct {
			Code codes.Code `json:"code"`
		} `json:"error"`
	} `json:"result"`
}

// resume reads the output an earlier run left: the ids with a final result
// go to o.done. A line cut short by a kill (the last one, or the end of a
// gzip stream that was not closed) is dropped, and so are retryable
// failures and repeated ids; the file is then rewritten without them (a
// plain file whose only fault is its last line is cut instead). It returns
// the file open for appending.
func (o *output) resume(gz bool) (*os.File, error) {
	if _, err := os.Stat(o.path); errors.Is(err, os.ErrNotExist) {
		return os.Create(o.path) // the first run
	}
	sc, err := scanOutput(o.path, gz, nil)
	if err != nil {
		return nil, err
	}
	o.done, o.kept, o.final, o.drop = sc.done, sc.kept, sc.final, sc.drop
	if !sc.rewrite {
		out, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		if !gz {
			if err := out.Truncate(sc.goodEnd); err != nil { // a torn last line
				out.Close()
				return nil, err
			}
		}
		return out, nil
	}
	// Write the kept lines to a new file, then put it in place.
	tmp := o.path + ".resume-tmp"
	tf, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	var w io.Writer = tf
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(tf, gzip.BestSpeed)
		w = zw
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	_, err = scanOutput(o.path, gz, func(line []byte) { bw.Write(line) })
	if err == nil {
		err = bw.Flush()
	}
	if zw != nil && err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, o.path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("--resume: rewriting %s: %w", o.path, err)
	}
	return os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND, 0)
}

// outputScan is what scanOutput found.
type outputScan struct {
	done              map[string]bool
	kept, final, drop int
	goodEnd           int64 // plain file: bytes up to the end of the last kept line
	rewrite           bool  // lines to drop before the end, or a gzip stream cut short
}

// scanOutput reads an output file and passes each line to keep (when not
// nil) that a resumed run keeps.
func scanOutput(path string, gz bool, keep func([]byte)) (outputScan, error) {
	sc := outputScan{done: map[string]bool{}}
	f, err := os.Open(path)
	if err != nil {
		return sc, err
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			if fi, serr := f.Stat(); serr == nil && fi.Size() < 32 {
				sc.rewrite = true // killed before the first gzip header was whole
				return sc, nil
			}
			return sc, fmt.Errorf("--resume: reading %s: %w", path, err)
		}
		r = zr
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var offset int64
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if len(line) > 0 {
				sc.drop++ // torn: no newline
				sc.rewrite = sc.rewrite || gz
			}
			if !errors.Is(err, io.EOF) {
				if !gz {
					return sc, fmt.Errorf("--resume: reading %s: %w", path, err)
				}
				sc.rewrite = true // a gzip stream cut short by a kill: keep what decoded
			}
			return sc, nil
		}
		offset += int64(len(line))
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		var rec resultRecord
		ok := json.Unmarshal(trimmed, &rec) == nil && rec.Result != nil && !sc.done[rec.Result.DocumentID]
		if ok && rec.Result.Error != nil && !finalError(rec.Result.Error.Code) {
			ok = false
		}
		if !ok {
			sc.drop++
			sc.rewrite = true
			continue
		}
		sc.done[rec.Result.DocumentID] = true
		sc.kept++
		if rec.Result.Error != nil {
			sc.final++
		}
		sc.goodEnd = offset
		if keep != nil {
			keep(line)
		}
	}
}
