package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

func TestTagDocument(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)
	resp, err := ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("d1", sentence)})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Result
	if r.DocumentId != "d1" || !strings.HasPrefix(r.RulesetVersion, "sha256:") || r.Words == 0 {
		t.Fatalf("result = %v", r)
	}
	themes := map[string]*pb.Tag{}
	for _, tag := range r.Tags {
		themes[tag.Theme] = tag
		if tag.Score < tag.Threshold || tag.Score > 1 {
			t.Errorf("%s: score %v threshold %v", tag.Theme, tag.Score, tag.Threshold)
		}
		for _, e := range tag.Evidence {
			if got := sentence[e.Start:e.End]; got != e.Text {
				t.Errorf("evidence %q at [%d,%d) is %q in the text", e.Text, e.Start, e.End, got)
			}
			if runes := []rune(sentence); string(runes[e.RuneStart:e.RuneEnd]) != e.Text {
				t.Errorf("rune offsets of %q wrong", e.Text)
			}
		}
	}
	if themes["space"] == nil || themes["ocean"] == nil {
		t.Fatalf("want space and ocean, got %v", r.Tags)
	}
	if themes["space"].Label != "Vũ trụ" || themes["space"].LabelEn != "Space" {
		t.Errorf("labels: %v", themes["space"])
	}

	// English label with an "en" hint.
	resp, err = ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: &pb.Document{Id: "d2", Text: sentence, LanguageCode: "en"}})
	if err != nil || resp.Result.Tags[0].Label != resp.Result.Tags[0].LabelEn {
		t.Fatalf("en label: %v %v", resp, err)
	}

	// Options: restrict themes, omit evidence.
	resp, err = ts.client.TagDocument(ctx, &pb.TagDocumentRequest{
		Document: doc("d3", sentence),
		Options:  &pb.TagOptions{Themes: []string{"ocean"}, OmitEvidence: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Result.Tags) != 1 || resp.Result.Tags[0].Theme != "ocean" || len(resp.Result.Tags[0].Evidence) != 0 {
		t.Fatalf("restricted: %v", resp.Result.Tags)
	}
	// min_score above every score drops every tag.
	resp, err = ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("d4", sentence), Options: &pb.TagOptions{MinScore: 0.9999}})
	if err != nil || len(resp.Result.Tags) != 0 {
		t.Fatalf("min_score: %v %v", resp, err)
	}
	// Empty text is fine: no tags.
	resp, err = ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("empty", "")})
	if err != nil || len(resp.Result.Tags) != 0 {
		t.Fatalf("empty: %v %v", resp, err)
	}
}

func TestTagDocumentErrors(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 100
		c.MaxMessageBytes = 4096
	})
	ctx := ctxT(t)
	tag := func(req *pb.TagDocumentRequest) error {
		_, err := ts.client.TagDocument(ctx, req)
		return err
	}
	wantCode(t, tag(&pb.TagDocumentRequest{}), codes.InvalidArgument, "document", "required")
	wantCode(t, tag(&pb.TagDocumentRequest{Document: &pb.Document{Id: "bad", Text: "tên lửa \xff\xfe"}}),
		codes.InvalidArgument, "document.text", `"bad"`, "UTF-8", "offset 11")
	wantCode(t, tag(&pb.TagDocumentRequest{Document: doc("big", strings.Repeat("a", 101))}),
		codes.InvalidArgument, "document.text", `"big"`, "101 bytes", "limit of 100")
	wantCode(t, tag(&pb.TagDocumentRequest{Document: doc("x", "x"), Options: &pb.TagOptions{Themes: []string{"ocean", "nope"}}}),
		codes.InvalidArgument, "options.themes[1]", `"nope"`, "space", "ocean")
	wantCode(t, tag(&pb.TagDocumentRequest{Document: doc("x", "x"), Options: &pb.TagOptions{MinScore: 2}}),
		codes.InvalidArgument, "options.min_score")
	// Over the gRPC message limit.
	wantCode(t, tag(&pb.TagDocumentRequest{Document: doc("huge", strings.Repeat("a", 5000))}), codes.ResourceExhausted, "")
	// An expired deadline is honoured.
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-dctx.Done()
	_, err := ts.client.TagDocument(dctx, &pb.TagDocumentRequest{Document: doc("late", sentence)})
	wantCode(t, err, codes.DeadlineExceeded, "")
}

func TestBatchTagDocuments(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 200
		c.MaxBatchDocuments = 20
	})
	ctx := ctxT(t)
	docs := []*pb.Document{}
	for i := range 12 {
		docs = append(docs, doc(fmt.Sprintf("d%d", i), sentence))
	}
	docs[3].Text = "vệ tinh \xc3"                   // invalid UTF-8
	docs[7].Text = strings.Repeat("đại dương ", 30) // over 200 bytes
	resp, err := ts.client.BatchTagDocuments(ctx, &pb.BatchTagDocumentsRequest{Documents: docs, Options: &pb.TagOptions{OmitEvidence: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != len(docs) {
		t.Fatalf("%d results for %d documents", len(resp.Results), len(docs))
	}
	for i, r := range resp.Results {
		if r.DocumentId != docs[i].Id {
			t.Fatalf("result %d is for %q: order lost", i, r.DocumentId)
		}
		switch i {
		case 3:
			checkViolation(t, status.FromProto(r.Error), "documents[3].text", `"d3"`, "UTF-8")
			if r.Error.Code != int32(codes.InvalidArgument) {
				t.Errorf("doc 3 code %v", r.Error.Code)
			}
		case 7:
			checkViolation(t, status.FromProto(r.Error), "documents[7].text", `"d7"`, "limit of 200")
		default:
			if r.Error != nil || len(r.Tags) != 2 {
				t.Errorf("doc %d: %v", i, r)
			}
		}
	}
	_, err = ts.client.BatchTagDocuments(ctx, &pb.BatchTagDocumentsRequest{})
	wantCode(t, err, codes.InvalidArgument, "documents", "empty")
	_, err = ts.client.BatchTagDocuments(ctx, &pb.BatchTagDocumentsRequest{Documents: make([]*pb.Document, 21)})
	wantCode(t, err, codes.InvalidArgument, "documents", "21 documents", "limit of 20")
	_, err = ts.client.BatchTagDocuments(ctx, &pb.BatchTagDocumentsRequest{Documents: docs[:1], Options: &pb.TagOptions{Themes: []string{"moon"}}})
	wantCode(t, err, codes.InvalidArgument, "options.themes[0]", `"moon"`)
}

func TestListThemesAndGetRuleset(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)
	lt, err := ts.client.ListThemes(ctx, &pb.ListThemesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Themes) != 2 || lt.Themes[0].Id != "space" || lt.Themes[0].TermCount != 2 ||
		lt.Themes[0].LabelVi != "Vũ trụ" || lt.Themes[0].LabelEn != "Space" || lt.Themes[0].Threshold != 0.5 ||
		lt.Themes[0].Description == "" {
		t.Fatalf("themes: %v", lt.Themes)
	}
	gr, err := ts.client.GetRuleset(ctx, &pb.GetRulesetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := gr.Ruleset
	if rs.Name != "test" || rs.Source != ts.cfg.RulesPath || rs.ThemeCount != 2 || rs.TermCount != 3 ||
		rs.Version != lt.RulesetVersion || time.Since(rs.LoadTime.AsTime()) > time.Minute {
		t.Fatalf("ruleset: %v", rs)
	}
}

func TestEmbeddedRules(t *testing.T) {
	ts := start(t, func(c *Config) { c.RulesPath = "" })
	gr, err := ts.client.GetRuleset(ctxT(t), &pb.GetRulesetRequest{})
	if err != nil || !strings.HasPrefix(gr.Ruleset.Source, "embedded:") || gr.Ruleset.ThemeCount == 0 {
		t.Fatalf("embedded: %v %v", gr, err)
	}
}

// recvAll reads a stream to its end, checking every sequence number comes once.
func recvAll(t *testing.T, stream grpc.BidiStreamingClient[pb.StreamTagDocumentsRequest, pb.StreamTagDocumentsResponse]) (map[int64]*pb.DocumentResult, error) {
	t.Helper()
	got := map[int64]*pb.DocumentResult{}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return got, err
		}
		r := resp.Result
		if got[r.Sequence] != nil {
			t.Fatalf("sequence %d answered twice", r.Sequence)
		}
		got[r.Sequence] = r
	}
}

func TestStreamTagDocuments(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 200
		c.StreamMaxInFlight = 8
	})
	ctx := ctxT(t)
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	go func() {
		for i := 1; i <= n; i++ {
			req := &pb.StreamTagDocumentsRequest{Document: doc(fmt.Sprintf("s%d", i), sentence)}
			switch i {
			case 1:
				req.Options = &pb.TagOptions{OmitEvidence: true} // sticks for later requests
			case 10:
				req.Document.Text = "tên lửa \xff"
			case 20:
				req.Document.Text = strings.Repeat("x", 201)
			case 30:
				req.Document = nil
			case 40:
				req.Options = &pb.TagOptions{Themes: []string{"moon"}}
			case 41:
				req.Options = &pb.TagOptions{Themes: []string{"space"}, OmitEvidence: true}
			}
			if err := stream.Send(req); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
		stream.CloseSend()
	}()
	got, err := recvAll(t, stream)
	if err != nil {
		t.Fatalf("stream ended with %v", err)
	}
	if len(got) != n {
		t.Fatalf("%d results for %d documents", len(got), n)
	}
	for seq := int64(1); seq <= n; seq++ {
		r := got[seq]
		switch {
		case seq == 10:
			wantCode(t, status.FromProto(r.Error).Err(), codes.InvalidArgument, "document.text", `"s10"`, "UTF-8")
			if r.DocumentId != "s10" {
				t.Errorf("error result lacks its id: %v", r)
			}
		case seq == 20:
			wantCode(t, status.FromProto(r.Error).Err(), codes.InvalidArgument, "document.text", `"s20"`, "limit of 200")
		case seq == 30:
			wantCode(t, status.FromProto(r.Error).Err(), codes.InvalidArgument, "document", "required")
		case seq == 40:
			wantCode(t, status.FromProto(r.Error).Err(), codes.InvalidArgument, "options.themes[0]", `"moon"`)
		case seq > 40:
			if r.Error != nil || len(r.Tags) != 1 || r.Tags[0].Theme != "space" {
				t.Fatalf("seq %d: %v", seq, r)
			}
		default:
			if r.Error != nil || len(r.Tags) != 2 || len(r.Tags[0].Evidence) != 0 || r.DocumentId != fmt.Sprintf("s%d", seq) {
				t.Fatalf("seq %d: %v", seq, r)
			}
		}
	}
}

// A client that does not read makes the server stop reading: the documents
// it tags stay bounded by the in-flight limit plus the client's window.
func TestStreamFlowControl(t *testing.T) {
	ts := start(t, func(c *Config) { c.StreamMaxInFlight = 4 })
	conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecureCreds()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 5,000 documents under -race take about 8 s on an idle machine; a clean
	// clone's `go test -race ./...` beside other work once needed more than
	// ctxT's 20 s. The bound is for a hang, not a speed target.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stream, err := pb.NewTaggerServiceClient(conn).StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	text := strings.Repeat(sentence+" ", 12) // ~1 KB
	sent := make(chan int, 1)
	go func() {
		i := 0
		defer func() { sent <- i; stream.CloseSend() }()
		for i < n {
			if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("f", text), Options: &pb.TagOptions{}}); err != nil {
				return
			}
			i++
		}
	}()
	tagged := func() float64 { return metricValue(t, ts.srv, "doctagger_documents_total", "ok") }
	// Wait until the server stops tagging (bounded), then check it stopped
	// well short of everything the client tried to send.
	var before, after float64
	for deadline := time.Now().Add(15 * time.Second); ; {
		before = tagged()
		time.Sleep(300 * time.Millisecond)
		after = tagged()
		if after == before || time.Now().After(deadline) {
			break
		}
	}
	if after != before || after >= n/2 {
		t.Fatalf("server kept tagging for a client that does not read: %v then %v of %d", before, after, n)
	}
	t.Logf("server stalled after tagging %v documents with the client not reading", after)
	got, err := recvAll(t, stream)
	if err != nil || len(got) != n {
		t.Fatalf("after reading: %d results, %v", len(got), err)
	}
	if i := <-sent; i != n {
		t.Fatalf("sent %d", i)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	ts := start(t, func(c *Config) { c.StreamIdleTimeout = 200 * time.Millisecond })
	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("one", sentence)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := recvAll(t, stream)
	if status.Code(err) != codes.DeadlineExceeded || len(got) != 1 || !strings.Contains(err.Error(), "1..1") {
		t.Fatalf("idle stream: %d results, %v", len(got), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("idle timeout took %v", d)
	}
}

// Shutdown during a stream: the stream in flight finishes within the grace
// period and no result is lost; health turns NOT_SERVING; new calls fail.
func TestShutdownDuringStream(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	health := healthpb.NewHealthClient(ts.conn)
	watch, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := watch.Recv(); err != nil || st.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", st, err)
	}
	const n = 400
	go func() {
		for i := 1; i <= n; i++ {
			if i == n/2 {
				ts.cancel() // shutdown starts mid-stream
			}
			if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: doc(fmt.Sprint(i), sentence)}); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
		stream.CloseSend()
	}()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != n {
		t.Fatalf("stream during shutdown: %d of %d results, %v", len(got), n, err)
	}
	if st, err := watch.Recv(); err == nil && st.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health after shutdown: %v", st)
	}
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatal(err)
		}
		ts.stopped = true
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	// The open health watch must not hold shutdown up to the grace period.
	if strings.Contains(ts.logs.String(), "grace period over") {
		t.Errorf("shutdown waited for the grace period: a health watch held it up")
	}
	if _, err := ts.client.GetRuleset(ctx, &pb.GetRulesetRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("call after shutdown: %v", err)
	}
}

// A stream that outlives the grace period: the server stops reading, answers
// every document it took (1..N without a gap) and ends with UNAVAILABLE.
func TestShutdownGraceOver(t *testing.T) {
	ts := start(t, func(c *Config) { c.ShutdownGrace = 300 * time.Millisecond })
	ctx := ctxT(t)
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopSending := make(chan struct{})
	go func() {
		for i := 1; ; i++ {
			if i == 100 {
				ts.cancel()
			}
			select {
			case <-stopSending:
				return
			default:
			}
			if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc(fmt.Sprint(i), sentence)}) != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	got, err := recvAll(t, stream)
	close(stopSending)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("want UNAVAILABLE, got %v", err)
	}
	var last int64
	if _, err := fmt.Sscanf(status.Convert(err).Message()[strings.Index(status.Convert(err).Message(), "1..")+3:], "%d", &last); err != nil {
		t.Fatalf("message %q: %v", status.Convert(err).Message(), err)
	}
	if last < 100 || int64(len(got)) != last {
		t.Fatalf("server says 1..%d, client got %d results", last, len(got))
	}
	for seq := int64(1); seq <= last; seq++ {
		if got[seq] == nil || got[seq].Error != nil {
			t.Fatalf("sequence %d missing or failed: %v", seq, got[seq])
		}
	}
}

func TestHealth(t *testing.T) {
	ts := start(t, nil)
	h := healthpb.NewHealthClient(ts.conn)
	for _, svc := range []string{"", "tagger.v1.TaggerService"} {
		resp, err := h.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v", svc, resp, err)
		}
	}
}
