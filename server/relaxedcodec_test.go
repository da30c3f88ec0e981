package server

import (
	"math"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// relaxedCodec is a client codec that can send what protobuf-go refuses to
// encode: a string field holding invalid UTF-8, as a client in another
// language (or a hand-made frame) can. It falls back to rawMarshal only
// when proto.Marshal fails.
type relaxedCodec struct{ encoding.CodecV2 }

func newRelaxedCodec() relaxedCodec { return relaxedCodec{encoding.GetCodecV2(grpcproto.Name)} }

func (c relaxedCodec) Marshal(v any) (mem.BufferSlice, error) {
	out, err := c.CodecV2.Marshal(v)
	if err == nil {
		return out, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(rawMarshal(nil, m.ProtoReflect()))}, nil
}

// rawMarshal encodes the fields of m without checking UTF-8 (the kinds the
// API's requests use).
func rawMarshal(b []byte, m protoreflect.Message) []byte {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				b = rawField(b, fd, l.Get(i))
			}
			return true
		}
		b = rawField(b, fd, v)
		return true
	})
	return b
}

func rawField(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.StringKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendString(b, v.String())
	case protoreflect.BytesKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	case protoreflect.MessageKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, rawMarshal(nil, v.Message()))
	case protoreflect.BoolKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case protoreflect.DoubleKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	case protoreflect.EnumKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.Enum()))
	default: // int32, int64
		b = protowire.AppendTag(b, fd.Number(), protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.Int()))
	}
}
