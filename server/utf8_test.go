package server

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire/wiretest"
)

// rawCodec sends pre-encoded bytes, so a test can put invalid UTF-8 in a
// string field, which the Go protobuf encoder refuses to write.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

// Invalid UTF-8 in a document id fails that document alone, with
// INVALID_ARGUMENT, in a batch and in a stream; before, protobuf rejected
// the whole message and grpc-go answered INTERNAL for all of it.
func TestInvalidUTF8InIDFailsThatDocumentAlone(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)

	batch := wiretest.Corrupt(t, &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{
		doc("ok1", sentence), doc("BADID", sentence), doc("ok2", sentence),
	}}, "BADID")
	var resp pb.BatchTagDocumentsResponse
	if err := ts.conn.Invoke(ctx, "/tagger.v1.TaggerService/BatchTagDocuments", batch, &resp, grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("batch with one bad id: %v", err)
	}
	if len(resp.Results) != 3 || resp.Results[0].Error != nil || resp.Results[2].Error != nil || len(resp.Results[2].Tags) == 0 {
		t.Fatalf("the good documents must be tagged: %v", resp.Results)
	}
	st := status.FromProto(resp.Results[1].Error)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("bad id: %v", st)
	}
	checkViolation(t, st, "documents[1].id", "not valid UTF-8")

	stream, err := ts.conn.NewStream(ctx, &pb.TaggerService_ServiceDesc.Streams[0], "/tagger.v1.TaggerService/StreamTagDocuments", grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"s1", "SBAD", "s3"} {
		msg, _ := proto.Marshal(&pb.StreamTagDocumentsRequest{Document: doc(id, sentence)})
		if id == "SBAD" {
			msg = wiretest.Corrupt(t, &pb.StreamTagDocumentsRequest{Document: doc(id, sentence)}, "SBAD")
		}
		if err := stream.SendMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	got := map[int64]*pb.DocumentResult{}
	for {
		var r pb.StreamTagDocumentsResponse
		if err := stream.RecvMsg(&r); err != nil {
			if status.Code(err) != codes.Unknown && err.Error() != "EOF" {
				t.Fatalf("stream ended with %v", err)
			}
			break
		}
		got[r.Result.Sequence] = r.Result
	}
	if len(got) != 3 || got[1].Error != nil || got[3].Error != nil || codes.Code(got[2].Error.GetCode()) != codes.InvalidArgument {
		t.Fatalf("stream results: %v", got)
	}

	// Invalid UTF-8 in the options is the request's fault: INVALID_ARGUMENT.
	req := wiretest.Corrupt(t, &pb.TagDocumentRequest{Document: doc("x", sentence), Options: &pb.TagOptions{Themes: []string{"TH"}}}, "TH")
	var one pb.TagDocumentResponse
	err = ts.conn.Invoke(ctx, "/tagger.v1.TaggerService/TagDocument", req, &one, grpc.ForceCodecV2(rawCodec{}))
	wantCode(t, err, codes.InvalidArgument, "options.themes", "not valid UTF-8")
}
