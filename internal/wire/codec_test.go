package wire

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire/wiretest"
)

const sentence = "Việt Nam phóng tên lửa đưa vệ tinh lên quỹ đạo."

func doc(id, text string) *pb.Document { return &pb.Document{Id: id, Text: text} }

// TestLenientCodecMarks: invalid UTF-8 in a document's text or id, nested
// in a batch, is decoded in its valid form and marked on that document
// alone, with the offset of the first bad byte.
func TestLenientCodecMarks(t *testing.T) {
	codec := NewLenientCodec(0)
	b := wiretest.Corrupt(t, &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{doc("a", "ok"), doc("b", "xxBADTEXT"), doc("BADID", "ok")}}, "BADTEXT")
	b = bytes.Replace(b, []byte("BADID"), []byte("B\xc3DID"), 1)
	var m pb.BatchTagDocumentsRequest
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &m); err != nil {
		t.Fatal(err)
	}
	if got := InvalidUTF8Fields(m.Documents[1]); len(got) != 1 || got[0] != (InvalidField{Name: "text", Offset: 3}) {
		t.Errorf("documents[1]: %v", got)
	}
	if got := InvalidUTF8Fields(m.Documents[2]); len(got) != 1 || got[0].Name != "id" {
		t.Errorf("documents[2]: %v", got)
	}
	if InvalidUTF8Fields(m.Documents[0]) != nil {
		t.Errorf("documents[0] marked")
	}
}

// A request of the API that is malformed, not just invalid UTF-8, is
// decoded empty and marked Malformed with the decoding error, as is one
// over the limit (not decoded at all); a message of another package
// (health, reflection) keeps its decoding error.
func TestLenientCodecMalformed(t *testing.T) {
	codec := NewLenientCodec(1 << 10)
	good, _ := proto.Marshal(&pb.TagDocumentRequest{Document: doc("a", sentence)})
	for name, wire := range map[string][]byte{
		"truncated":                good[:len(good)-3],
		"bad tag":                  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"bad UTF-8 also truncated": wiretest.Corrupt(t, &pb.TagDocumentRequest{Document: doc("BADID", sentence)}, "BADID")[:20],
	} {
		var m pb.TagDocumentRequest
		err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &m)
		if bad := MalformedOf(&m); err != nil || bad == nil || bad.Err == "" || m.Document != nil {
			t.Errorf("%s: %v, marked %+v, decoded %v", name, err, bad, &m)
		}
		var other timestamppb.Timestamp
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &other); err == nil {
			t.Errorf("%s: a message of another package decoded without error", name)
		}
	}
	big, _ := proto.Marshal(&pb.TagDocumentRequest{Document: doc("big", strings.Repeat("a", 2<<10))})
	var m pb.TagDocumentRequest
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(big)}, &m); err != nil || MalformedOf(&m) == nil || MalformedOf(&m).TooLarge != len(big) || m.Document != nil {
		t.Errorf("over the limit: %v, %+v, %v", err, MalformedOf(&m), m.Document.GetId())
	}
	// And a clean message is not marked.
	m.Reset()
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(good)}, &m); err != nil || InvalidUTF8Fields(m.Document) != nil || MalformedOf(&m) != nil {
		t.Errorf("clean message: %v, marks %v", err, InvalidUTF8Fields(m.Document))
	}
}
