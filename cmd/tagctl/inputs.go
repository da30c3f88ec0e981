package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/term"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/internal/corpus"
	"github.com/doctagger/doctagger/internal/evaluation"
)

// stdin is the standard input; tests replace it.
var stdin io.Reader = os.Stdin

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	if file, ok := f.(*os.File); ok {
		return term.IsTerminal(int(file.Fd()))
	}
	return false
}

// Inputs: files, directories, NDJSON and standard input, read as a stream
// (a document is read when the job is ready for it).

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

func openInput(path string) (io.ReadCloser, error) { return corpus.Open(path) }

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

// A shard of the input (--shard I/N): the documents whose id hashes to I.

type shard struct{ index, count int }

// parseShard reads "I/N", 0 <= I < N.
func parseShard(s string) (shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
		return shard{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, such as 0/4 (the Kubernetes Job's $JOB_COMPLETION_INDEX/N)", s)
	}
	return shard{index, count}, nil
}

// shardOf is the shard of an id among n: the 64-bit FNV-1a hash of the
// id's bytes, modulo n. It depends on the id alone, so N workers given the
// same input split it with no coordination, on any machine, run after run.
func shardOf(id string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return int(h.Sum64() % uint64(n))
}

// selection picks the documents of a run: those of its shard that the
// output does not hold yet (--resume). It remembers each picked document's
// place in the whole input, for the results' sequence.
type selection struct {
	shard   shard           // count 0: every document
	done    map[string]bool // ids already in the output
	mu      sync.Mutex
	place   map[int64]int64 // the job's index of a document: its place in the input
	skipped int             // in the input, not this run's: other shards, or done
	resumed int             // of which: already in the output
}

// wants reports whether the document (or the failed input line) with this
// id is this run's.
func (s *selection) wants(id string) bool {
	if s.shard.count > 1 && shardOf(id, s.shard.count) != s.shard.index {
		s.skipped++
		return false
	}
	if s.done[strings.ToValidUTF8(id, "\uFFFD")] {
		s.skipped++
		s.resumed++
		return false
	}
	return true
}

// filter passes on the documents of docs that the run wants, numbering
// them as the job will (from 0) and noting their place in the input.
func (s *selection) filter(docs iter.Seq[client.Document]) iter.Seq[client.Document] {
	return func(yield func(client.Document) bool) {
		var place, index int64
		for d := range docs {
			p := place
			place++
			s.mu.Lock()
			ok := s.wants(d.ID)
			if ok {
				s.place[index] = p
				index++
			}
			s.mu.Unlock()
			if ok && !yield(d) {
				return
			}
		}
	}
}

// sequence is the result's place in the input, from 1 (0 for an input
// line or file that could not be read), as the REST stream numbers its
// results; it forgets the document.
func (s *selection) sequence(index int64) int64 {
	if index < 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.place[index]
	if !ok {
		return index + 1
	}
	delete(s.place, index)
	return p + 1
}

// firstLineTitles makes the first line of each document's text its title
// (tag --title-first-line, as eval --title-first-line does); a document
// that has a title, or a text of one line, is left as it is.
func firstLineTitles(docs iter.Seq[client.Document]) iter.Seq[client.Document] {
	return func(yield func(client.Document) bool) {
		for d := range docs {
			if d.Title == "" {
				d.Title, d.Text = evaluation.SplitTitle(d.Text)
			}
			if !yield(d) {
				return
			}
		}
	}
}
