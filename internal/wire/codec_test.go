package wire

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

const sentence = "Việt Nam phóng tên lửa đưa vệ tinh lên quỹ đạo."

func doc(id, text string) *pb.Document { return &pb.Document{Id: id, Text: text} }

// corrupt marshals m and replaces the bytes of marker (same length) by
// invalid UTF-8.
func corrupt(t *testing.T, m proto.Message, marker string) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(marker)
	bad[1] = 0xff
	if !bytes.Contains(b, []byte(marker)) {
		t.Fatalf("marker %q not in the message", marker)
	}
	return bytes.Replace(b, []byte(marker), bad, 1)
}

// TestLenientCodecMarks: invalid UTF-8 in a document's text or id, nested
// in a batch, is decoded in its valid form and marked on that document
// alone, with the offset of the first bad byte.
func TestLenientCodecMarks(t *testing.T) {
	codec := NewLenientCodec(0)
	b := corrupt(t, &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{doc("a", "ok"), doc("b", "xxBADTEXT"), doc("BADID", "ok")}}, "BADTEXT")
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

// A message that is malformed, not just invalid UTF-8, keeps its decoding
// error: the lenient codec repairs only string fields.
func TestLenientCodecKeepsMalformedErrors(t *testing.T) {
	codec := NewLenientCodec(0)
	good, _ := proto.Marshal(&pb.TagDocumentRequest{Document: doc("a", sentence)})
	for name, wire := range map[string][]byte{
		"truncated":                good[:len(good)-3],
		"bad tag":                  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"bad UTF-8 also truncated": corrupt(t, &pb.TagDocumentRequest{Document: doc("BADID", sentence)}, "BADID")[:20],
	} {
		var m pb.TagDocumentRequest
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &m); err == nil {
			t.Errorf("%s: decoded without error: %v", name, &m)
		}
	}
	// And a clean message is not marked.
	var m pb.TagDocumentRequest
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(good)}, &m); err != nil || InvalidUTF8Fields(m.Document) != nil || InvalidUTF8Fields(m.Options) != nil {
		t.Errorf("clean message: %v, marks %v", err, InvalidUTF8Fields(m.Document))
	}
}
