// Package gateway is the service's REST side: grpc-gateway routes and an
// NDJSON stream that decode each request once from JSON, by one set of
// rules (json.go), call the tagging service in process through the gRPC
// server's own interceptors (inprocess.go), and write the answers to JSON
// once (resultjson.go). Authentication, limits, metrics and the call log
// are the gRPC server's, so REST and gRPC behave alike.
package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire"
)

// restJSON is the REST marshaler: protojson with the API's JSON names
// (lowerCamelCase), zero values written out, and one set of rules for every
// request body, unary or NDJSON line, whatever it holds:
//   - a body is one JSON object; data after it, a duplicate key, an unknown
//     field or a value of the wrong type makes it malformed (400
//     MALFORMED_BODY, or MALFORMED_LINE for an NDJSON line);
//   - a string that is not valid UTF-8, or whose escapes hold a lone UTF-16
//     surrogate ("\ud800"), fails the document (or options) holding it with
//     INVALID_UTF8, naming the field, as over gRPC: in a batch or stream the
//     other documents are tagged.
type restJSON struct {
	runtime.JSONPb
}

func newRESTJSON() *restJSON {
	return &restJSON{runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// Marshal writes the tagging answers with the hand-written encoder (see
// resultjson.go), everything else with protojson.
func (m *restJSON) Marshal(v any) ([]byte, error) {
	if b, ok, err := appendResultsJSON(make([]byte, 0, 1024), v); ok {
		return b, err
	}
	return m.JSONPb.Marshal(v)
}

// Unmarshal decodes a request by the rules above. The error is a status
// with details (MALFORMED_BODY).
func (m *restJSON) Unmarshal(data []byte, v any) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return m.JSONPb.Unmarshal(data, v)
	}
	if st := decodeRequest(data, msg); st != nil {
		return st.Err()
	}
	return nil
}

// NewDecoder reads the whole body and decodes it once. The gateway wraps
// a decoding error into a bare INVALID_ARGUMENT: the status with its
// details is kept on the body (restBody) for the error handler.
func (m *restJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := readBody(r)
		if err != nil {
			if b, ok := r.(*restBody); ok && !b.over {
				b.decodeErr = bodyError(err)
			}
			return err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return io.EOF // an empty body is the empty request
		}
		err = m.Unmarshal(data, v)
		if b, ok := r.(*restBody); ok && err != nil {
			b.decodeErr = status.Convert(err)
		}
		return err
	})
}

// readBody reads a request body in one buffer, sized by its declared
// length when there is one.
func readBody(r io.Reader) ([]byte, error) {
	if b, ok := r.(*restBody); ok && b.size > 0 {
		buf := bytes.NewBuffer(make([]byte, 0, b.size+1))
		_, err := buf.ReadFrom(r)
		return buf.Bytes(), err
	}
	return io.ReadAll(r)
}

// decodeRequest decodes one JSON request into msg. protojson alone decides
// what is well-formed; only when it fails does it look for strings that
// are not valid UTF-8 (rare), decode them in their valid form (U+FFFD) and
// mark the message holding each, as lenientCodec does over gRPC.
func decodeRequest(data []byte, msg proto.Message) *status.Status {
	err := protojson.Unmarshal(data, msg)
	if err == nil {
		return nil
	}
	fixed, bad := sanitizeJSONStrings(data)
	if len(bad) > 0 {
		proto.Reset(msg)
		if protojson.Unmarshal(fixed, msg) == nil {
			if st := markInvalidStrings(msg.ProtoReflect(), bad); st != nil {
				return st
			}
			return nil
		}
		proto.Reset(msg)
	}
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MALFORMED_BODY, "body", "malformed request body: "+protojsonMessage(err), nil)
}

// protojsonMessage drops protojson's "proto: " prefix and its unstable
// (randomised) separator.
func protojsonMessage(err error) string {
	s := err.Error()
	for _, p := range []string{"proto:\u00a0", "proto: "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

// badString is a JSON string value that was not valid UTF-8 (or held a
// lone surrogate escape): where it is, as a path of keys and indices from
// the top object, and the byte offset of its first bad character as decoded.
type badString struct {
	path   []string
	offset int
}

// sanitizeJSONStrings rewrites each string value of data that is not valid
// UTF-8, or escapes a lone surrogate, in its valid form (U+FFFD for each bad
// sequence), and says where each was. Structure it cannot follow is left
// alone: protojson judges it.
func sanitizeJSONStrings(data []byte) ([]byte, []badString) {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var (
		stack []frame
		out   []byte
		bad   []badString
		last  int // data[last:] is not copied to out yet
	)
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			stack = append(stack, frame{wantKey: true})
		case '[':
			stack = append(stack, frame{array: true})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].array {
					stack[n-1].index++
				} else {
					stack[n-1].wantKey = true
				}
			}
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].wantKey = false
			}
		case '"':
			end := stringEnd(data, i)
			if end < 0 {
				return data, nil
			}
			tok := data[i:end]
			n := len(stack)
			if n > 0 && !stack[n-1].array && stack[n-1].wantKey {
				key, _ := decodeJSONString(tok)
				stack[n-1].key = key
			} else if !utf8.Valid(tok) || hasLoneSurrogate(tok) {
				s, at := decodeJSONString(tok)
				path := make([]string, 0, n)
				for _, f := range stack {
					if f.array {
						path = append(path, strconv.Itoa(f.index))
					} else {
						path = append(path, f.key)
					}
				}
				bad = append(bad, badString{path: path, offset: at})
				quoted, _ := json.Marshal(s)
				out = append(append(out, data[last:i]...), quoted...)
				last = end
			}
			i = end - 1
		}
	}
	if len(bad) == 0 {
		return data, nil
	}
	return append(out, data[last:]...), bad
}

// stringEnd is the index just past the JSON string starting at data[i]
// (a quote), or -1.
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// decodeJSONString decodes a JSON string token (with its quotes), putting
// U+FFFD for each byte that is not valid UTF-8 and each lone surrogate
// escape. at is the byte offset, in the decoded string, of the first such,
// or -1.
func decodeJSONString(tok []byte) (s string, at int) {
	at = -1
	tok = tok[1 : len(tok)-1]
	out := make([]byte, 0, len(tok))
	bad := func() {
		if at < 0 {
			at = len(out)
		}
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	for i := 0; i < len(tok); {
		c := tok[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(tok[i:])
			if r == utf8.RuneError && size == 1 {
				bad()
			} else {
				out = append(out, tok[i:i+size]...)
			}
			i += size
			continue
		}
		if i+1 >= len(tok) {
			bad()
			break
		}
		switch e := tok[i+1]; e {
		case 'u':
			r, ok := readU(tok[i+2:])
			if !ok {
				bad()
				i += 2
				continue
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && i+1 < len(tok) && tok[i] == '\\' && tok[i+1] == 'u' {
					if r2, ok := readU(tok[i+2:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
				}
				bad()
				continue
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, unescape(e))
			i += 2
		}
	}
	return string(out), at
}

func unescape(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // '"', '\\', '/'
}

// hasLoneSurrogate reports whether a JSON string token escapes a UTF-16
// surrogate that is not half of a pair.
func hasLoneSurrogate(tok []byte) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] != '\\' {
			continue
		}
		i++
		if i >= len(tok) || tok[i] != 'u' {
			continue // \n, \\ ...: one character escaped
		}
		r, ok := readU(tok[i+1:])
		if !ok {
			return false
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true // a low half first
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(tok) || tok[i+1] != '\\' || tok[i+2] != 'u' {
				return true
			}
			r2, ok := readU(tok[i+3:])
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

func readU(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// markInvalidStrings marks, for each bad string, the message holding it
// (a Document, TagOptions) as lenientCodec does, so that the service fails
// that document or request and names the field. A bad string the API's
// messages cannot hold there fails the whole request.
func markInvalidStrings(m protoreflect.Message, bad []badString) *status.Status {
	for _, b := range bad {
		holder, field, ok := stringField(m, b.path)
		if !ok {
			where := "/" + joinPath(b.path)
			return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_UTF8, "body", fmt.Sprintf("the string at %s is not valid UTF-8", where), nil)
		}
		wire.MarkInvalidUTF8(holder, wire.InvalidField{Name: field, Offset: b.offset})
	}
	return nil
}

func joinPath(path []string) string {
	var b bytes.Buffer
	for i, p := range path {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p)
	}
	return b.String()
}

// stringField follows a JSON path of keys and indices from m to a string
// field: the message that holds it and the field's name ("text", or
// "themes[1]" for an element of a repeated field).
func stringField(m protoreflect.Message, path []string) (protoreflect.Message, string, bool) {
	for i := 0; i < len(path); i++ {
		fields := m.Descriptor().Fields()
		fd := fields.ByJSONName(path[i])
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(path[i]))
		}
		if fd == nil {
			return nil, "", false
		}
		last := i == len(path)-1
		switch {
		case fd.IsList() && i+1 < len(path):
			idx, err := strconv.Atoi(path[i+1])
			list := m.Mutable(fd).List()
			if err != nil || idx < 0 || idx >= list.Len() {
				return nil, "", false
			}
			if fd.Kind() == protoreflect.StringKind && i+2 == len(path) {
				return m, fmt.Sprintf("%s[%d]", fd.Name(), idx), true
			}
			if fd.Message() == nil {
				return nil, "", false
			}
			m = list.Get(idx).Message()
			i++
		case fd.Kind() == protoreflect.StringKind && last && !fd.IsList() && !fd.IsMap():
			return m, string(fd.Name()), true
		case fd.Message() != nil && !fd.IsMap() && !last:
			m = m.Mutable(fd).Message()
		default:
			return nil, "", false
		}
	}
	return nil, "", false
}

var errLineTooLong = errors.New("line too long")
