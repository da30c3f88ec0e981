package server

import (
	"bytes"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// Batch taggers far from the service compress their calls: the server
// accepts gzip and answers in it. (The test names the compressor rather
// than importing it, so that only the server's own import registers it.)
func TestGRPCGzip(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxMessageBytes = 2 << 20 })
	res, err := ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{
		Document: &pb.Document{Id: "z", Text: []byte(sentence)},
	}, grpc.UseCompressor("gzip"))
	if err != nil {
		t.Fatalf("TagDocument with gzip: %v", err)
	}
	if len(res.GetResult().GetTags()) != 2 {
		t.Fatalf("result %v", res)
	}
	// The message limit holds for the message as decompressed: 6 MiB that
	// gzip makes a few KiB are refused (over 2 MiB), not inflated and tagged.
	big := bytes.Repeat([]byte("tên lửa "), 6<<20/len("tên lửa "))
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: &pb.Document{Id: "bomb", Text: big}}, grpc.UseCompressor("gzip"))
	wantCode(t, err, codes.ResourceExhausted, "")
}
