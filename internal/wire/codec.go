// Package wire holds what the service does to messages on the wire before
// the service sees them: a gRPC codec that lets one document with invalid
// UTF-8 fail alone instead of its whole message, the marker it leaves on
// such a message (also left by the REST decoder, read by the service), and
// the bound on how far compressed data may inflate.
package wire

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Protobuf rejects a proto3 string field holding invalid UTF-8 while
// decoding the whole message, and grpc-go then fails the call with
// INTERNAL: one bad document id in a batch, or in one message of a stream,
// would sink them all. lenientCodec decodes such a message anyway: each
// invalid string is replaced by its valid form (U+FFFD for the bad bytes)
// and its message gets an unknown field, invalidUTF8Field, naming the
// field, so that the service fails just that document (or request) with
// INVALID_ARGUMENT, giving the offset of the first bad byte.
//
// The same goes for a request of the API (package tagger.v1) that cannot be
// decoded at all, or is over the message limit: grpc-go would end the call,
// and in a stream lose the results of the documents before it. The codec
// answers an empty message marked as such (Malformed), which the service
// fails alone: the call with INVALID_ARGUMENT or RESOURCE_EXHAUSTED, or, in
// a stream, that one request, the stream going on. (The transport's own
// limit must then be above the codec's: see NewLenientCodec.)
type lenientCodec struct {
	encoding.CodecV2
	maxMessage int
}

// The field numbers of the markers: the largest valid ones, which no
// message of the API uses.
const (
	invalidUTF8Field protowire.Number = protowire.MaxValidNumber
	malformedField   protowire.Number = protowire.MaxValidNumber - 1
)

// NewLenientCodec is the server codec: grpc-go's proto codec, lenient on
// invalid UTF-8, undecodable requests and requests over maxMessage bytes
// as described above. The server's transport limit (grpc.MaxRecvMsgSize)
// must be above maxMessage for the last to reach it.
func NewLenientCodec(maxMessage int) encoding.CodecV2 {
	return lenientCodec{encoding.GetCodecV2(grpcproto.Name), maxMessage}
}

func (c lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if ok && c.maxMessage > 0 && data.Len() > c.maxMessage && apiMessage(m) {
		proto.Reset(m) // not even decoded
		markMalformed(m, Malformed{TooLarge: data.Len()})
		return nil
	}
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil || !ok {
		return err
	}
	fixed, changed := sanitizeUTF8(data.Materialize(), m.ProtoReflect().Descriptor())
	if changed {
		proto.Reset(m)
		if proto.Unmarshal(fixed, m) == nil {
			return nil
		}
	}
	if apiMessage(m) {
		proto.Reset(m)
		markMalformed(m, Malformed{Err: err.Error()})
		return nil
	}
	return err
}

// apiMessage reports whether m is a message of the API, whose handlers
// read the Malformed marker (health and reflection do not).
func apiMessage(m proto.Message) bool {
	return strings.HasPrefix(string(m.ProtoReflect().Descriptor().FullName()), "tagger.v1.")
}

// Malformed says why a request could not be decoded (see lenientCodec).
type Malformed struct {
	TooLarge int    // its size, when over the message limit
	Err      string // the decoding error otherwise
}

func markMalformed(m proto.Message, why Malformed) {
	value := "error:" + why.Err
	if why.TooLarge > 0 {
		value = "size:" + strconv.Itoa(why.TooLarge)
	}
	m.ProtoReflect().SetUnknown(appendMark(nil, malformedField, value))
}

// MarkTooLarge empties m and marks it as the codec marks a request over the
// message limit, so that the service answers it the same way whatever
// carried it (the REST side checks the size of what it decoded).
func MarkTooLarge(m proto.Message, size int) {
	proto.Reset(m)
	markMalformed(m, Malformed{TooLarge: size})
}

// MalformedOf is why the codec could not decode m, or nil.
func MalformedOf(m proto.Message) *Malformed {
	marks := marks(m, malformedField)
	if len(marks) == 0 {
		return nil
	}
	kind, rest, _ := strings.Cut(marks[0], ":")
	if kind == "size" {
		size, _ := strconv.Atoi(rest)
		return &Malformed{TooLarge: size}
	}
	return &Malformed{Err: rest}
}

// appendMark appends a marker, an unknown field num holding value.
func appendMark(b []byte, num protowire.Number, value string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, value)
}

// marks is the values of the markers num on m, in order.
func marks(m proto.Message, num protowire.Number) []string {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil
	}
	var values []string
	b := m.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return values
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[l:])
			values = append(values, string(v))
		}
		fl := protowire.ConsumeFieldValue(n, typ, b[l:])
		if fl < 0 {
			return values
		}
		b = b[l+fl:]
	}
	return values
}

// sanitizeUTF8 rewrites the wire form b of a message of type md, replacing
// invalid UTF-8 in string fields (in nested messages too) and marking each
// message that had some. It reports whether it changed anything; on
// malformed input it changes nothing and the original error stands.
func sanitizeUTF8(b []byte, md protoreflect.MessageDescriptor) ([]byte, bool) {
	out := make([]byte, 0, len(b)+16)
	changed := false
	var bad []InvalidField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, false
		}
		field, rest := b[:n+m], b[n+m:]
		b = rest
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil {
			out = append(out, field...)
			continue
		}
		v, _ := protowire.ConsumeBytes(field[n:])
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			out = protowire.AppendTag(out, num, typ)
			out = protowire.AppendString(out, strings.ToValidUTF8(string(v), "\uFFFD"))
			bad = append(bad, InvalidField{Name: string(fd.Name()), Offset: firstInvalid(string(v))})
			changed = true
		case fd.Kind() == protoreflect.MessageKind:
			inner, innerChanged := sanitizeUTF8(v, fd.Message())
			if !innerChanged {
				out = append(out, field...)
				continue
			}
			out = protowire.AppendTag(out, num, typ)
			out = protowire.AppendBytes(out, inner)
			changed = true
		default:
			out = append(out, field...)
		}
	}
	for _, f := range bad {
		out = appendInvalidUTF8Mark(out, f)
	}
	return out, changed
}

// InvalidField is a string field that was not valid UTF-8 on the wire (or
// in the JSON), and the byte offset of its first bad byte in the value.
type InvalidField struct {
	Name   string // the proto field name ("text", "id")
	Offset int
}

// firstInvalid is the byte offset of the first invalid UTF-8 sequence in s,
// or -1.
func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

func appendInvalidUTF8Mark(b []byte, f InvalidField) []byte {
	return appendMark(b, invalidUTF8Field, f.Name+"@"+strconv.Itoa(f.Offset))
}

// MarkInvalidUTF8 marks a decoded message as the codec marks its wire
// form: its fields named were not valid UTF-8 (the REST decoder uses it).
func MarkInvalidUTF8(m protoreflect.Message, fields ...InvalidField) {
	b := m.GetUnknown()
	for _, f := range fields {
		b = appendInvalidUTF8Mark(b, f)
	}
	m.SetUnknown(b)
}

// InvalidUTF8Fields names the fields of m that held invalid UTF-8 on the
// wire or in its JSON (see the package comment), in order; nil for a clean
// message. The service fails the document (or request) they are in.
func InvalidUTF8Fields(m proto.Message) []InvalidField {
	var fields []InvalidField
	for _, v := range marks(m, invalidUTF8Field) {
		name, offset, _ := strings.Cut(v, "@")
		at, err := strconv.Atoi(offset)
		if err != nil {
			at = -1
		}
		fields = append(fields, InvalidField{Name: name, Offset: at})
	}
	return fields
}
