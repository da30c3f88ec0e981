package gateway

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/service"
	"github.com/doctagger/doctagger/tagger"
)

// TestResultJSONLikeProtojson: the hand-written encoder of the answers
// writes what protojson writes (as JSON values), for real results of the
// default rules (tags, untagged themes, dropped matches, folded matches,
// emoji, escapes), errors, empty messages and odd numbers.
func TestResultJSONLikeProtojson(t *testing.T) {
	rs, err := tagger.DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	tg, err := tagger.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"",
		"Nvidia công bố chip trí tuệ nhân tạo mới; TSMC mở rộng nhà máy bán dẫn.",
		"Căn cước gắn chip đã cấp cho 🚀 người dân; \"máy bay không người lái\" giao hàng\tở\nHà Nội.",
		"tri tue nhan tao va xe dien, nang luong tai tao \u0001 \\ \u007f <b>&amp;</b>",
		"Bệnh viện triển khai hồ sơ sức khỏe điện tử, khám bệnh từ xa và AI đọc phim X-quang.",
		strings.Repeat("Điện gió ngoài khơi, điện mặt trời áp mái, trung hòa carbon. ", 20),
	}
	var results []*pb.DocumentResult
	for i, text := range texts {
		for _, opts := range []tagger.Options{{}, {IncludeUntagged: true}, {OmitEvidence: true}} {
			out, err := tg.Tag(text, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := service.Result(&pb.Document{Id: "doc \"" + string(rune('a'+i)) + "\" ✓", Text: text, LanguageCode: []string{"", "en"}[i%2]}, out)
			r.Sequence = int64(i) << 33
			results = append(results, r)
		}
	}
	// A document with a title: evidence and exclusions in it (inTitle,
	// exclusionInTitle) and in the text.
	for _, opts := range []tagger.Options{{}, {IncludeUntagged: true}} {
		doc := &pb.Document{Id: "titled", Title: "Căn cước gắn chip 🚀 trí tuệ nhân tạo", Text: texts[1]}
		out, err := tg.TagDocument(tagger.Document{Title: doc.Title, Text: doc.Text}, opts)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, service.Result(doc, out))
	}
	inTitle := false
	last := results[len(results)-1]
	for _, tag := range append(last.GetTags(), last.GetUntagged()...) {
		for _, d := range tag.GetDropped() {
			inTitle = inTitle || d.GetExclusionInTitle() && d.GetEvidence().GetInTitle()
		}
	}
	if !inTitle {
		t.Fatal("the titled document has no match excluded in its title: the test does not cover exclusionInTitle")
	}
	failed := &pb.DocumentResult{DocumentId: "bad", Error: pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_UTF8, "documents[1].text", "bad\x01 text", map[string]string{pb.MetaOffset: "4"}).Proto()}
	odd := &pb.DocumentResult{Tags: []*pb.Tag{{Theme: "x", Score: 1e-7, Threshold: 1e21, Evidence: []*pb.Evidence{{Weight: math.Inf(1)}}, Dropped: []*pb.DroppedEvidence{{}}}, {Score: math.NaN(), Threshold: -0.5}}}
	results = append(results, failed, odd, &pb.DocumentResult{})

	msgs := []proto.Message{&pb.StreamTagDocumentsResponse{}, &pb.TagDocumentResponse{}, &pb.BatchTagDocumentsResponse{}, &pb.BatchTagDocumentsResponse{Results: results}}
	for _, r := range results {
		msgs = append(msgs, &pb.StreamTagDocumentsResponse{Result: r}, &pb.TagDocumentResponse{Result: r})
	}
	m := newRESTJSON()
	for _, msg := range msgs {
		fast, err := m.Marshal(msg)
		if err != nil {
			t.Fatalf("%v: %v", msg, err)
		}
		slow, err := m.JSONPb.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("fast output is not JSON: %v\n%s", err, fast)
		}
		if err := json.Unmarshal(slow, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("hand-written\n%s\nprotojson\n%s", fast, slow)
		}
		// And it reads back as the message.
		back := msg.ProtoReflect().New().Interface()
		if err := protojson.Unmarshal(fast, back); err != nil || !proto.Equal(back, msg) && !hasNaN(msg) {
			t.Fatalf("read back: %v\n%s", err, fast)
		}
	}
	// Invalid UTF-8 is an error, as with protojson.
	if _, err := m.Marshal(&pb.TagDocumentResponse{Result: &pb.DocumentResult{DocumentId: "\xff"}}); err == nil {
		t.Fatal("invalid UTF-8 marshalled")
	}
}

func hasNaN(m proto.Message) bool { return strings.Contains(protojson.Format(m), "NaN") }

// BenchmarkResultJSON compares the encoders on the answer of a dense
// document (5 themes, evidence and dropped matches).
func BenchmarkResultJSON(b *testing.B) {
	rs, _ := tagger.DefaultRuleset()
	tg, _ := tagger.Compile(rs)
	text := "Nvidia công bố chip trí tuệ nhân tạo; TSMC mở nhà máy bán dẫn; bệnh viện dùng hồ sơ sức khỏe điện tử; drone giao hàng; điện gió ngoài khơi và xe điện. Căn cước gắn chip."
	out, _ := tg.Tag(text, tagger.Options{IncludeUntagged: true})
	msg := &pb.StreamTagDocumentsResponse{Result: service.Result(&pb.Document{Id: "x", Text: text}, out)}
	m := newRESTJSON()
	b.Run("hand-written", func(b *testing.B) {
		for b.Loop() {
			m.Marshal(msg)
		}
	})
	b.Run("protojson", func(b *testing.B) {
		for b.Loop() {
			m.JSONPb.Marshal(msg)
		}
	})
}
