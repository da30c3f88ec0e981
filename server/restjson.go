package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// restJSON is the gateway's JSON marshaler. It is runtime.JSONPb (lowerCamelCase
// names, empty lists and zero numbers written out) except that Document.text,
// a proto `bytes` field, is a plain JSON string over REST rather than base64.
// Invalid UTF-8 inside that string is passed through unchanged, so the
// server reports it for that document like it does over gRPC.
type restJSON struct {
	runtime.JSONPb
}

func newRESTJSON() *restJSON {
	return &restJSON{runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// Unmarshal decodes a request, reading document text as plain strings. A
// document id or language that is not valid UTF-8, which protojson would
// reject for the whole request, is decoded in its valid form and its
// document marked as lenientCodec marks it over gRPC: the server then fails
// that document alone (INVALID_UTF8, naming the field), batch and stream
// going on.
func (m *restJSON) Unmarshal(data []byte, v any) error {
	fixed, bad, err := rewriteDocuments(data)
	if err != nil {
		return err
	}
	if err := m.JSONPb.Unmarshal(fixed, v); err != nil {
		return err
	}
	if msg, ok := v.(proto.Message); ok && bad.any() {
		bad.mark(msg.ProtoReflect())
	}
	return nil
}

// NewDecoder returns a decoder that reads one JSON value at a time.
func (m *restJSON) NewDecoder(r io.Reader) runtime.Decoder {
	dec := json.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		return m.Unmarshal(raw, v)
	})
}

// invalidFields names, per document of a request, the string fields that
// held invalid UTF-8 in its JSON.
type invalidFields struct {
	document  []string         // of "document"
	documents map[int][]string // of "documents", by index
}

func (f invalidFields) any() bool { return len(f.document) > 0 || len(f.documents) > 0 }

// mark adds lenientCodec's marker to each document of the decoded request
// r that had invalid fields.
func (f invalidFields) mark(r protoreflect.Message) {
	fields := r.Descriptor().Fields()
	if fd := fields.ByName("document"); fd != nil && fd.Message() != nil && len(f.document) > 0 {
		markInvalidUTF8(r.Mutable(fd).Message(), f.document)
	}
	if fd := fields.ByName("documents"); fd != nil && fd.IsList() && fd.Message() != nil {
		list := r.Mutable(fd).List()
		for i, names := range f.documents {
			if i < list.Len() {
				markInvalidUTF8(list.Get(i).Message(), names)
			}
		}
	}
}

// rewriteDocuments rewrites "document": {...} and "documents": [{...}, ...]
// so that protojson reads each text as bytes (base64) and each id and
// language as valid UTF-8, saying which of those were not. Other shapes are
// left for protojson to judge.
func rewriteDocuments(data []byte) ([]byte, invalidFields, error) {
	var bad invalidFields
	if !bytes.Contains(data, []byte(`"text"`)) && utf8.Valid(data) {
		return data, bad, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, bad, fmt.Errorf("invalid JSON: %w", err)
	}
	changed := false
	if raw, ok := top["document"]; ok {
		if out, names, ok := fixDocument(raw); ok {
			top["document"], bad.document = out, names
			changed = true
		}
	}
	if raw, ok := top["documents"]; ok {
		var docs []json.RawMessage
		if json.Unmarshal(raw, &docs) == nil {
			fixedAny := false
			for i, d := range docs {
				if out, names, ok := fixDocument(d); ok {
					docs[i] = out
					fixedAny = true
					if len(names) > 0 {
						if bad.documents == nil {
							bad.documents = map[int][]string{}
						}
						bad.documents[i] = names
					}
				}
			}
			if fixedAny {
				top["documents"], _ = json.Marshal(docs)
				changed = true
			}
		}
	}
	if !changed {
		return data, bad, nil
	}
	out, err := json.Marshal(top)
	return out, bad, err
}

// fixDocument rewrites one document object: its text as base64, its id
// and language in their valid UTF-8 form (invalid names those that were
// not). ok is false when there is nothing to rewrite.
func fixDocument(raw json.RawMessage) (out json.RawMessage, invalid []string, ok bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return nil, nil, false
	}
	changed := false
	if text, ok := doc["text"]; ok {
		if s, ok := unquoteRaw(bytes.TrimSpace(text)); ok {
			doc["text"] = json.RawMessage(strconv.Quote(base64.StdEncoding.EncodeToString(s)))
			changed = true
		}
	}
	for _, name := range []string{"id", "language"} {
		v, ok := doc[name]
		if !ok {
			continue
		}
		tok := bytes.TrimSpace(v)
		// Raw bytes that are not UTF-8, or an escaped lone surrogate
		// ("\ud800"), which protojson rejects too (unquoteRaw makes it U+FFFD).
		if s, ok := unquoteRaw(tok); ok && (!utf8.Valid(s) || hasLoneSurrogate(tok)) {
			doc[name], _ = json.Marshal(strings.ToValidUTF8(string(s), "\uFFFD"))
			invalid = append(invalid, name)
			changed = true
		}
	}
	if !changed {
		return nil, nil, false
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, false
	}
	return out, invalid, true
}

// unquoteRaw decodes a JSON string token to its bytes, keeping bytes that are
// not valid UTF-8 as they are (encoding/json would replace them by U+FFFD).
func unquoteRaw(tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return nil, false
	}
	tok = tok[1 : len(tok)-1]
	if bytes.IndexByte(tok, '\\') < 0 {
		return tok, true
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(tok) {
			return nil, false
		}
		switch tok[i] {
		case '"', '\\', '/':
			out = append(out, tok[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := readU(tok[i+1:])
			if !ok {
				return nil, false
			}
			i += n
			if utf16.IsSurrogate(r) {
				if len(tok) > i+2 && tok[i+1] == '\\' && tok[i+2] == 'u' {
					if r2, n2, ok := readU(tok[i+3:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
							i += 2 + n2
						}
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return out, true
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
		r, n, ok := readU(tok[i+1:])
		if !ok {
			return false
		}
		i += n
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true // a low half first
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(tok) || tok[i+1] != '\\' || tok[i+2] != 'u' {
				return true
			}
			r2, n2, ok := readU(tok[i+3:])
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return true
			}
			i += 2 + n2
		}
	}
	return false
}

func readU(b []byte) (rune, int, bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return rune(v), 4, true
}

var errLineTooLong = errors.New("line too long")
