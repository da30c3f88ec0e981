package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/wrapperspb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
)

// NDJSON input. A line is one document, in either shape:
//
//   - flat: {"id": ..., "text": ..., "title": ..., "languageCode": ...}, the API's
//     Document (the server's NDJSON stream reads it too). tagctl is more
//     lenient than the server here: the id may be a number (kept as written),
//     the language may also be spelt "language_code" or, as tagctl's earlier
//     versions wrote it, "language" (the server takes neither that nor a
//     numeric id), and other keys are ignored (a gold or corpus file can be
//     tagged as it is). "text" is required, "title" optional.
//   - a REST stream request: {"document": {...}, "options": {...}}, read as
//     the server reads it (protojson: lowerCamelCase or proto names, no
//     unknown field, no duplicate key). Its options work as in the stream:
//     they replace the options in force (from the flags, or an earlier line
//     of the same file) for this line and the next lines of the file that
//     carry none.
//
// A line that holds a "document" or "options" key is a REST request. In
// both shapes a missing or empty id becomes FILE:LINE, and a document
// without a language takes --language.

// lineDoc is what a line gave: a document, or options alone, or an error
// (status INVALID_ARGUMENT with its reason) for the line.
type lineDoc struct {
	doc     *client.Document // nil when the line has no document
	options *pb.TagOptions   // set when the line carries options
}

// parseLine reads one non-blank line; name and lineNo say where it is.
func parseLine(line []byte, name string, lineNo int) (lineDoc, *status.Status) {
	if off := invalidUTF8(line); off >= 0 {
		// encoding/json would read the bad bytes as U+FFFD and the
		// document would be tagged as if its text were different.
		return lineDoc{}, lineStatus(pb.ErrorReason_INVALID_UTF8, name, lineNo,
			fmt.Sprintf("line %d of %s is not valid UTF-8 (invalid byte sequence at byte offset %d of the line)", lineNo, name, off))
	}
	if off, esc := loneSurrogate(line); off >= 0 {
		// No UTF-8 string holds it: the server fails such a string as
		// INVALID_UTF8, encoding/json reads it as U+FFFD.
		return lineDoc{}, lineStatus(pb.ErrorReason_INVALID_UTF8, name, lineNo,
			fmt.Sprintf("line %d of %s is not valid UTF-8: it escapes a lone UTF-16 surrogate (%s at byte offset %d of the line)", lineNo, name, esc, off))
	}
	fields, err := topLevel(line)
	if err != nil {
		return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo,
			fmt.Sprintf("malformed JSON on line %d of %s: %v", lineNo, name, err))
	}
	where := fmt.Sprintf("%s:%d", name, lineNo)
	_, hasDoc := fields["document"]
	_, hasOpts := fields["options"]
	if hasDoc || hasOpts {
		var req pb.StreamTagDocumentsRequest
		if err := protojson.Unmarshal(line, &req); err != nil {
			return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo,
				fmt.Sprintf("malformed request on line %d of %s (a line with \"document\" or \"options\" is a REST stream request, {\"document\": {\"id\", \"text\", \"languageCode\"}, \"options\": {...}}): %v", lineNo, name, err))
		}
		out := lineDoc{options: req.GetOptions()}
		if d := req.GetDocument(); d != nil {
			out.doc = &client.Document{ID: cmpOr(d.GetId(), where), Text: d.GetText(), Title: d.GetTitle(), Language: d.GetLanguageCode()}
		}
		return out, nil
	}

	doc := client.Document{ID: where}
	text, ok, err := jsonString(fields["text"])
	switch {
	case err != nil:
		return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo, fmt.Sprintf("line %d of %s: \"text\": %v", lineNo, name, err))
	case !ok:
		return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo, fmt.Sprintf("line %d of %s has no \"text\"", lineNo, name))
	}
	doc.Text = text
	title, _, err := jsonString(fields["title"])
	if err != nil {
		return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo, fmt.Sprintf("line %d of %s: \"title\": %v", lineNo, name, err))
	}
	doc.Title = title
	var langKey string
	for _, key := range []string{"languageCode", "language_code", "language"} {
		lang, ok, err := jsonString(fields[key])
		if err != nil {
			return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo, fmt.Sprintf("line %d of %s: %q: %v", lineNo, name, key, err))
		}
		if !ok {
			continue
		}
		if langKey != "" {
			return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo,
				fmt.Sprintf("line %d of %s has both %q and %q: give the language once, as \"languageCode\"", lineNo, name, langKey, key))
		}
		langKey, doc.Language = key, lang
	}
	switch id := bytes.TrimSpace(fields["id"]); {
	case len(id) == 0 || string(id) == "null":
	case id[0] == '"':
		s, _, err := jsonString(id)
		if err != nil {
			return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo, fmt.Sprintf("line %d of %s: \"id\": %v", lineNo, name, err))
		}
		doc.ID = cmpOr(s, where)
	case id[0] == '-' || id[0] >= '0' && id[0] <= '9':
		doc.ID = string(id) // as written: a float64 would round ids above 2^53
	default:
		return lineDoc{}, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, lineNo,
			fmt.Sprintf("line %d of %s: \"id\" is %s; want a string or a number", lineNo, name, id))
	}
	return lineDoc{doc: &doc}, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// lineStatus is the error of a line that cannot be read: INVALID_ARGUMENT
// with the reason the server gives such a line of its NDJSON stream, and
// the line in the metadata.
func lineStatus(reason pb.ErrorReason, name string, lineNo int, msg string) *status.Status {
	return pb.NewStatus(codes.InvalidArgument, reason, "", msg,
		map[string]string{"file": strings.ToValidUTF8(name, "\uFFFD"), pb.MetaLine: strconv.Itoa(lineNo)})
}

// topLevel splits a JSON object into its keys and raw values, refusing a
// duplicate key or data after the object.
func topLevel(line []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the object")
	}
	return fields, nil
}

// jsonString decodes a JSON string value as protojson does; ok is false
// when raw is absent or null.
func jsonString(raw json.RawMessage) (s string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if raw[0] != '"' {
		return "", false, fmt.Errorf("%s is not a string", raw)
	}
	var v wrapperspb.StringValue
	if err := protojson.Unmarshal(raw, &v); err != nil {
		return "", false, err
	}
	return v.GetValue(), true, nil
}

// loneSurrogate finds, in the JSON strings of b, an escaped UTF-16
// surrogate that is not half of a pair ("\ud800"): its byte offset and
// text, or -1.
func loneSurrogate(b []byte) (int, string) {
	inString := false
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			r, ok := hex4(i)
			if !ok {
				i++ // an escape of one character
				continue
			}
			switch {
			case r >= 0xd800 && r < 0xdc00:
				if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo < 0xe000 {
					i += 11
					continue
				}
				return i, string(b[i : i+6])
			case r >= 0xdc00 && r < 0xe000:
				return i, string(b[i : i+6])
			}
			i += 5
		}
	}
	return -1, ""
}

// invalidUTF8 is the byte offset of the first invalid UTF-8 sequence in b,
// or -1 when b is valid UTF-8.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for off := 0; off < len(b); {
		r, size := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && size == 1 {
			return off
		}
		off += size
	}
	return -1
}

// readNDJSON reads the documents of one NDJSON input, giving each the
// options in force at its line (nil: the flags'). A line that cannot be
// read is reported to bad and changes nothing.
func readNDJSON(r io.Reader, name, language string, yield func(client.Document) bool, bad func(string, *status.Status)) bool {
	var options *pb.TagOptions
	for l := range parsedLines(r, name) {
		where := fmt.Sprintf("%s:%d", name, l.lineNo)
		if errors.Is(l.err, errLongLine) {
			bad(where, lineStatus(pb.ErrorReason_MALFORMED_LINE, name, l.lineNo, fmt.Sprintf("line %d of %s is longer than %d bytes", l.lineNo, name, maxLine)))
		} else if l.err != nil && !errors.Is(l.err, io.EOF) {
			bad(where, status.Newf(codes.InvalidArgument, "reading %s: %v", name, l.err))
			return true
		} else if !l.blank {
			ld, st := l.ld, l.st
			switch {
			case st != nil:
				bad(where, st)
			case ld.options != nil:
				options = ld.options
			}
			if st == nil && ld.doc == nil {
				bad(where, lineStatus(pb.ErrorReason_MISSING_DOCUMENT, name, l.lineNo, fmt.Sprintf("line %d of %s has options but no \"document\"", l.lineNo, name)))
			}
			if ld.doc != nil {
				d := *ld.doc
				d.Language = cmpOr(d.Language, language)
				d.Options = options
				if !yield(d) {
					return false
				}
			}
		}
		if l.err != nil {
			return true
		}
	}
	return true
}

// parsedLine is one line of an NDJSON input, parsed.
type parsedLine struct {
	lineNo int
	blank  bool
	ld     lineDoc
	st     *status.Status
	err    error // from reading: errLongLine, io.EOF (with the last line), or another
}

// parseBatch is how many lines are parsed at once, in parallel.
const parseBatch = 256

// parsedLines reads r's lines and parses them on every core (JSON
// decoding, not tagging, bounds a job in process), a batch ahead of the
// caller, and yields them in order.
func parsedLines(r io.Reader, name string) iter.Seq[parsedLine] {
	return func(yield func(parsedLine) bool) {
		batches := make(chan []parsedLine, 2)
		stop := make(chan struct{})
		defer close(stop)
		workers := runtime.GOMAXPROCS(0)
		go func() {
			defer close(batches)
			br := bufio.NewReaderSize(r, 256<<10)
			lineNo := 0
			for {
				batch := make([]parsedLine, 0, parseBatch)
				lines := make([][]byte, 0, parseBatch)
				for len(batch) < parseBatch {
					lineNo++
					line, err := readLine(br)
					batch = append(batch, parsedLine{lineNo: lineNo, err: err, blank: len(bytes.TrimSpace(line)) == 0})
					lines = append(lines, line)
					if err != nil && !errors.Is(err, errLongLine) {
						break
					}
				}
				var wg sync.WaitGroup
				per := (len(batch) + workers - 1) / workers
				for start := 0; start < len(batch); start += per {
					wg.Go(func() {
						for k := start; k < min(start+per, len(batch)); k++ {
							if l := &batch[k]; !l.blank && (l.err == nil || errors.Is(l.err, io.EOF)) {
								l.ld, l.st = parseLine(lines[k], name, l.lineNo)
							}
						}
					})
				}
				wg.Wait()
				select {
				case batches <- batch:
				case <-stop:
					return
				}
				if last := batch[len(batch)-1]; last.err != nil && !errors.Is(last.err, errLongLine) {
					return
				}
			}
		}()
		for batch := range batches {
			for _, l := range batch {
				if !yield(l) {
					return
				}
			}
		}
	}
}

// Output.

// resultJSON writes the API's JSON as the REST mirror does: protojson with
// lowerCamelCase names and zero values written out (compacted).
var resultJSON = protojson.MarshalOptions{EmitDefaultValues: true}

// resultLine is a result as a line of the REST NDJSON stream:
// {"result": DocumentResult}. Its sequence is the document's place in
// tagctl's input (1 for the first document; 0 for a line or file that
// could not be read).
func resultLine(r client.Result) ([]byte, error) {
	res := &pb.DocumentResult{
		// A Go string may hold any bytes (a file name); JSON may not.
		DocumentId:     strings.ToValidUTF8(r.ID, "\uFFFD"),
		Tags:           r.Tags,
		RulesetVersion: r.RulesetVersion,
		Words:          int32(r.Words),
		Untagged:       r.Untagged,
	}
	if r.Index >= 0 {
		res.Sequence = r.Index + 1
	}
	if r.Err != nil {
		res.Error = status.Convert(r.Err).Proto()
		res.Error.Message = strings.ToValidUTF8(res.Error.Message, "\uFFFD")
	}
	data, err := resultJSON.Marshal(&pb.StreamTagDocumentsResponse{Result: res})
	if err != nil && res.Error != nil && len(res.Error.Details) > 0 {
		// A detail of a type tagctl does not know, or one holding a
		// string that is not UTF-8: the code and message still go out.
		res.Error.Details = nil
		data, err = resultJSON.Marshal(&pb.StreamTagDocumentsResponse{Result: res})
	}
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, data); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type ndjsonWriter struct {
	bw *bufio.Writer
}

func (w *ndjsonWriter) write(r client.Result) error {
	line, err := resultLine(r)
	if err != nil {
		return fmt.Errorf("the result of %q: %w", r.ID, err)
	}
	w.bw.Write(line)
	return w.bw.WriteByte('\n')
}

func (w *ndjsonWriter) flush() error { return w.bw.Flush() }

// statusProto is google.rpc.Status.
type statusProto = spb.Status
