package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
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

// Unmarshal decodes a request, reading document text as plain strings.
func (m *restJSON) Unmarshal(data []byte, v any) error {
	fixed, err := textFieldsToBase64(data)
	if err != nil {
		return err
	}
	return m.JSONPb.Unmarshal(fixed, v)
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

// textFieldsToBase64 rewrites "document": {"text": "..."} and
// "documents": [{"text": "..."}, ...] so that protojson reads the text as
// bytes. Other shapes are left for protojson to judge.
func textFieldsToBase64(data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(`"text"`)) {
		return data, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	changed := false
	if raw, ok := top["document"]; ok {
		if out, ok := fixDocument(raw); ok {
			top["document"] = out
			changed = true
		}
	}
	if raw, ok := top["documents"]; ok {
		var docs []json.RawMessage
		if json.Unmarshal(raw, &docs) == nil {
			any := false
			for i, d := range docs {
				if out, ok := fixDocument(d); ok {
					docs[i] = out
					any = true
				}
			}
			if any {
				top["documents"], _ = json.Marshal(docs)
				changed = true
			}
		}
	}
	if !changed {
		return data, nil
	}
	return json.Marshal(top)
}

func fixDocument(raw json.RawMessage) (json.RawMessage, bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return nil, false
	}
	text, ok := doc["text"]
	if !ok {
		return nil, false
	}
	s, ok := unquoteRaw(bytes.TrimSpace(text))
	if !ok {
		return nil, false
	}
	doc["text"] = json.RawMessage(strconv.Quote(base64.StdEncoding.EncodeToString(s)))
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
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
