package service

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/tagger"
)

// TestEnginePanicFailsItsDocument: a panic in the engine fails the
// document being tagged with INTERNAL, naming it, and is logged with its
// stack; the service goes on.
func TestEnginePanicFailsItsDocument(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m := NewMetrics(prometheus.NewRegistry())
	rules, err := NewRules("", log, m)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Limits{MaxDocumentBytes: 1 << 20, MaxBatchDocuments: 8, MaxMessageBytes: 4 << 20}, rules, m, log, nil)
	bad := &Loaded{Tagger: nil, themes: map[string]bool{}} // a nil tagger panics inside Tag
	_, st := s.tagOne(context.Background(), bad, &pb.Document{Id: "p", Text: "x"}, tagger.Options{}, "document")
	if st.Code() != codes.Internal || !strings.Contains(st.Message(), `"p"`) {
		t.Fatalf("engine panic: %v", st)
	}
	if !strings.Contains(logs.String(), "panic while tagging") {
		t.Fatal("panic not logged")
	}
	res, st := s.tagOne(context.Background(), rules.Current(), &pb.Document{Id: "q", Text: "trí tuệ nhân tạo"}, tagger.Options{}, "document")
	if st != nil || len(res.Tags) == 0 {
		t.Fatalf("after the panic: %v %v", res, st)
	}
}

// TestDropReasons: every reason the engine gives has its own API value, and
// the default rules' "AI" on a nutrition label, with no word of computing
// near it, comes out as NEEDS_UNMET.
func TestDropReasons(t *testing.T) {
	seen := map[pb.DropReason]string{}
	for _, r := range []string{tagger.DropExcluded, tagger.DropUnsupported, tagger.DropNeedsUnmet} {
		got := dropReason(r)
		if got == pb.DropReason_DROP_REASON_UNSPECIFIED || seen[got] != "" {
			t.Errorf("%q maps to %v (also %q)", r, got, seen[got])
		}
		seen[got] = r
	}
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	m := NewMetrics(prometheus.NewRegistry())
	rules, err := NewRules("", log, m)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Limits{MaxDocumentBytes: 1 << 20, MaxBatchDocuments: 8, MaxMessageBytes: 4 << 20}, rules, m, log, nil)
	res, st := s.tagOne(context.Background(), rules.Current(), &pb.Document{Id: "n", Text: "Bảng dinh dưỡng ghi AI của chất xơ là 25 gam mỗi ngày."}, tagger.Options{IncludeUntagged: true}, "document")
	if st != nil {
		t.Fatal(st)
	}
	var reasons []pb.DropReason
	for _, tg := range res.Untagged {
		for _, d := range tg.Dropped {
			reasons = append(reasons, d.Reason)
		}
	}
	if len(res.Tags) != 0 || len(reasons) != 1 || reasons[0] != pb.DropReason_DROP_REASON_NEEDS_UNMET {
		t.Errorf("tags %v, dropped reasons %v, want none and [NEEDS_UNMET]", res.Tags, reasons)
	}
}
