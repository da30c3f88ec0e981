// Package service is the tagging service, tagger.v1.TaggerService over the
// engine (package tagger): it checks requests against the limits, tags each
// document with the serving ruleset, converts the engine's results to the
// API's messages, and fails a bad document alone with an error whose
// reason is one of the API's ErrorReason values. It also holds the serving
// ruleset (Rules, reloaded without a restart) and the tagging metrics. It
// knows nothing of transports: the gRPC server and the REST gateway both
// call it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire"
	"github.com/doctagger/doctagger/tagger"
)

// MessageOverhead is the room a message needs beyond the document text:
// the message limit must exceed the document limit by at least this.
const MessageOverhead = 1024

// Limits are the request limits the service enforces (taggerd's flags).
type Limits struct {
	MaxDocumentBytes  int           // largest document text
	MaxBatchDocuments int           // most documents in one batch
	MaxMessageBytes   int           // largest message, in or out
	StreamMaxInFlight int           // documents of one stream held at once
	StreamIdleTimeout time.Duration // end a stream idle this long (0: never)
	// MaxInflightBytes bounds the document text held at once over every
	// call and stream (0: no bound); beyond it requests are shed with
	// UNAVAILABLE OVERLOADED and a retry hint.
	MaxInflightBytes int64
}

// Service implements tagger.v1.TaggerService.
type Service struct {
	pb.UnimplementedTaggerServiceServer
	cfg     Limits
	rules   *Rules
	metrics *Metrics
	log     *slog.Logger
	budget  *budget
	// drain is closed when streams must stop taking documents (the shutdown
	// grace period is over).
	drain <-chan struct{}
}

// New is the service over rules, counting in m. drain is closed when
// streams must stop taking documents (the shutdown grace period is over).
func New(limits Limits, rules *Rules, m *Metrics, log *slog.Logger, drain <-chan struct{}) *Service {
	return &Service{cfg: limits, rules: rules, metrics: m, log: log, drain: drain, budget: newBudget(limits.MaxInflightBytes)}
}

// tracerName names the service's spans' instrumentation scope.
const tracerName = "github.com/doctagger/doctagger/internal/service"

// malformed is the error of a request the codec could not decode (see
// wire.Malformed): what is named is the request, or in a stream the
// request of that sequence number.
func (s *Service) malformed(bad *wire.Malformed, what string) *status.Status {
	if bad.TooLarge > 0 {
		return pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_REQUEST_TOO_LARGE, "",
			fmt.Sprintf("%s is %d bytes, over the limit of %d bytes (--max-message-bytes): send fewer or smaller documents in it", what, bad.TooLarge, s.cfg.MaxMessageBytes),
			map[string]string{pb.MetaBytes: strconv.Itoa(bad.TooLarge), pb.MetaLimit: strconv.Itoa(s.cfg.MaxMessageBytes)})
	}
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MALFORMED_MESSAGE, "",
		fmt.Sprintf("%s cannot be decoded as a message of the API: %s", what, bad.Err), nil)
}

// options converts and checks the request options against the ruleset l.
func (s *Service) options(l *Loaded, o *pb.TagOptions, field string) (tagger.Options, *status.Status) {
	opts := tagger.Options{
		Themes:          o.GetThemes(),
		MinScore:        o.GetMinScore(),
		OmitEvidence:    o.GetOmitEvidence(),
		IncludeUntagged: o.GetIncludeUntagged(),
	}
	if bad := wire.InvalidUTF8Fields(o); len(bad) > 0 {
		return opts, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_UTF8, field+"."+bad[0].Name,
			fmt.Sprintf("%s.%s is not valid UTF-8", field, bad[0].Name), nil)
	}
	for i, th := range opts.Themes {
		if !l.themes[th] {
			known := make([]string, 0, len(l.themes))
			for _, t := range l.Tagger.Ruleset().Themes {
				known = append(known, t.ID)
			}
			return opts, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_UNKNOWN_THEME,
				fmt.Sprintf("%s.themes[%d]", field, i),
				fmt.Sprintf("unknown theme %q in %s.themes[%d]; the ruleset %s has: %s", th, field, i, l.Tagger.Version(), strings.Join(known, ", ")),
				map[string]string{pb.MetaTheme: th, pb.MetaKnown: strings.Join(known, ",")})
		}
	}
	if opts.MinScore < 0 || opts.MinScore > 1 || opts.MinScore != opts.MinScore {
		return opts, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_MIN_SCORE, field+".min_score",
			fmt.Sprintf("%s.min_score is %v; it must be in [0, 1]", field, opts.MinScore), nil)
	}
	return opts, nil
}

// invalidUTF8 is the error of a document whose field f was not valid UTF-8.
func invalidUTF8(doc *pb.Document, field string, f wire.InvalidField) *status.Status {
	meta := map[string]string{pb.MetaDocumentID: doc.GetId()}
	msg := fmt.Sprintf("%s: %s.%s is not valid UTF-8", docName(doc, field), field, f.Name)
	if (f.Name == "text" || f.Name == "title") && f.Offset >= 0 {
		meta[pb.MetaOffset] = strconv.Itoa(f.Offset)
		msg = fmt.Sprintf("%s: %s is not valid UTF-8 (invalid byte sequence at byte offset %d)", docName(doc, field), f.Name, f.Offset)
	}
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_UTF8, field+"."+f.Name, msg, meta)
}

// docName names a document in error messages.
func docName(doc *pb.Document, field string) string {
	switch {
	case doc.GetId() != "" && field == "document":
		return fmt.Sprintf("document %q", doc.GetId())
	case doc.GetId() != "":
		return fmt.Sprintf("document %q (%s)", doc.GetId(), field)
	}
	return "document " + field
}

// tagOne tags one document with the ruleset l. field names the document in
// the request ("document", "documents[3]") for error field violations. It
// never panics: an engine panic becomes an INTERNAL status for this document.
//
// With a recording span in ctx (tracing on), the engine's work is a span of
// its own under it, "tagger.Tag", with the bytes, words and tags.
func (s *Service) tagOne(ctx context.Context, l *Loaded, doc *pb.Document, opts tagger.Options, field string) (res *pb.DocumentResult, st *status.Status) {
	if doc == nil {
		s.metrics.documents.WithLabelValues(codes.InvalidArgument.String()).Inc()
		return nil, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MISSING_DOCUMENT, field,
			field+" is required", nil)
	}
	if bad := wire.InvalidUTF8Fields(doc); len(bad) > 0 {
		s.metrics.documents.WithLabelValues(codes.InvalidArgument.String()).Inc()
		return nil, invalidUTF8(doc, field, bad[0])
	}
	if n := len(doc.GetText()) + len(doc.GetTitle()); n > s.cfg.MaxDocumentBytes {
		// The title counts with the text; the field named is the larger.
		s.metrics.documents.WithLabelValues(codes.InvalidArgument.String()).Inc()
		larger := ".text"
		if len(doc.GetTitle()) > len(doc.GetText()) {
			larger = ".title"
		}
		return nil, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_DOCUMENT_TOO_LARGE, field+larger,
			fmt.Sprintf("%s is %d bytes, over the limit of %d bytes (--max-document-bytes)", docName(doc, field), n, s.cfg.MaxDocumentBytes),
			map[string]string{pb.MetaDocumentID: doc.GetId(), pb.MetaBytes: strconv.Itoa(n), pb.MetaLimit: strconv.Itoa(s.cfg.MaxDocumentBytes)})
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "panic while tagging a document", "document", doc.GetId(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.metrics.documents.WithLabelValues(codes.Internal.String()).Inc()
			res, st = nil, status.New(codes.Internal, fmt.Sprintf("internal error while tagging %s", docName(doc, field)))
		}
	}()
	// The result's evidence texts are slices of the text and the title.
	text, title := doc.GetText(), doc.GetTitle()
	var span trace.Span
	if parent := trace.SpanFromContext(ctx); parent.IsRecording() {
		_, span = parent.TracerProvider().Tracer(tracerName).Start(ctx, "tagger.Tag")
		defer span.End()
	}
	start := time.Now()
	out, err := l.Tagger.TagDocument(tagger.Document{Title: title, Text: text}, opts)
	s.metrics.observe(len(text)+len(title), time.Since(start))
	if span != nil {
		span.SetAttributes(attribute.Int("doctagger.bytes", len(text)+len(title)), attribute.Int("doctagger.words", out.Words),
			attribute.Int("doctagger.tags", len(out.Tags)), attribute.String("doctagger.ruleset_version", out.RulesetVersion))
		if err != nil {
			span.SetStatus(otelcodes.Error, err.Error())
		}
	}
	if err != nil {
		var utf *tagger.InvalidUTF8Error
		var unk *tagger.UnknownThemeError
		switch {
		case errors.As(err, &utf): // not reached through the codecs, which check first
			name := utf.Field
			if name == "" {
				name = "text"
			}
			st = invalidUTF8(doc, field, wire.InvalidField{Name: name, Offset: utf.Offset})
		case errors.As(err, &unk):
			st = pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_UNKNOWN_THEME, "options.themes", err.Error(),
				map[string]string{pb.MetaTheme: unk.Theme})
		default:
			st = status.New(codes.Internal, fmt.Sprintf("tagging %s: %v", docName(doc, field), err))
		}
		s.metrics.documents.WithLabelValues(st.Code().String()).Inc()
		return nil, st
	}
	res = Result(doc, out)
	// grpc-go fails the whole call or stream on a message over the limit:
	// a result too large to send fails its document alone. The exact size
	// walks the whole result, and gRPC walks it again to send it: only
	// when a cheap upper bound says it might be too large.
	limit := s.cfg.MaxMessageBytes - MessageOverhead
	if sizeBound(doc.GetId(), out) > limit {
		if n := proto.Size(res); n > limit {
			s.metrics.documents.WithLabelValues(codes.ResourceExhausted.String()).Inc()
			return nil, pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_RESULT_TOO_LARGE, field,
				fmt.Sprintf("the result of %s is %d bytes, over the limit of %d bytes (--max-message-bytes less %d): set options.omit_evidence (omitEvidence over REST), or split the document", docName(doc, field), n, limit, MessageOverhead),
				map[string]string{pb.MetaDocumentID: doc.GetId(), pb.MetaBytes: strconv.Itoa(n), pb.MetaLimit: strconv.Itoa(limit)})
		}
	}
	s.metrics.docOK.Inc()
	for _, t := range out.Tags {
		s.metrics.tags.WithLabelValues(t.Theme).Inc()
	}
	return res, nil
}

// sizeBound is an upper bound of the encoded size of the DocumentResult
// made from r: each field counted at its largest tag, length prefix and
// varint, with room for the sequence and wrapper fields added later.
func sizeBound(id string, r tagger.Result) int {
	n := 64 + len(id) + len(r.RulesetVersion)
	evidence := func(e *tagger.Evidence) int { return 96 + len(e.Term) + len(e.Pattern) + len(e.Text) }
	for _, group := range [][]tagger.Tag{r.Tags, r.Untagged} {
		for i := range group {
			t := &group[i]
			n += 64 + len(t.Theme) + 2*(len(t.LabelVI)+len(t.LabelEN))
			for j := range t.Evidence {
				n += evidence(&t.Evidence[j])
			}
			for j := range t.Dropped {
				d := &t.Dropped[j]
				n += 96 + evidence(&d.Evidence) + len(d.Reason) + len(d.Exclusion) + len(d.ExclusionText)
			}
		}
	}
	return n
}

// Result converts the engine's result for doc to the API's message.
func Result(doc *pb.Document, r tagger.Result) *pb.DocumentResult {
	english := strings.HasPrefix(strings.ToLower(doc.GetLanguageCode()), "en")
	res := &pb.DocumentResult{
		DocumentId:     doc.GetId(),
		RulesetVersion: r.RulesetVersion,
		Words:          int32(r.Words),
		Tags:           convertTags(r.Tags, english),
		Untagged:       convertTags(r.Untagged, english),
	}
	return res
}

func convertTags(tags []tagger.Tag, english bool) []*pb.Tag {
	if len(tags) == 0 {
		return nil
	}
	// One allocation for the tags and one for all their evidence.
	nev := 0
	for i := range tags {
		nev += len(tags[i].Evidence)
	}
	slab := make([]pb.Tag, len(tags))
	evSlab := make([]pb.Evidence, nev)
	out := make([]*pb.Tag, len(tags))
	for i := range tags {
		t := &tags[i]
		label := t.LabelVI
		if english && t.LabelEN != "" || label == "" {
			label = t.LabelEN
		}
		pt := &slab[i]
		pt.Theme, pt.Label, pt.LabelVi, pt.LabelEn = t.Theme, label, t.LabelVI, t.LabelEN
		pt.Score, pt.Threshold = t.Score, t.Threshold
		if len(t.Evidence) > 0 {
			pt.Evidence = make([]*pb.Evidence, len(t.Evidence))
			for j := range t.Evidence {
				e := &evSlab[0]
				evSlab = evSlab[1:]
				setEvidence(e, &t.Evidence[j])
				pt.Evidence[j] = e
			}
		}
		if len(t.Dropped) > 0 {
			pt.Dropped = make([]*pb.DroppedEvidence, len(t.Dropped))
			for j := range t.Dropped {
				d := &t.Dropped[j]
				ev := new(pb.Evidence)
				setEvidence(ev, &d.Evidence)
				pt.Dropped[j] = &pb.DroppedEvidence{
					Evidence:            ev,
					Reason:              dropReason(d.Reason),
					Exclusion:           d.Exclusion,
					ExclusionText:       d.ExclusionText,
					ExclusionStart:      int32(d.ExclusionStart),
					ExclusionEnd:        int32(d.ExclusionEnd),
					ExclusionRuneStart:  int32(d.ExclusionRuneStart),
					ExclusionRuneEnd:    int32(d.ExclusionRuneEnd),
					ExclusionUtf16Start: int32(d.ExclusionUTF16Start),
					ExclusionUtf16End:   int32(d.ExclusionUTF16End),
					ExclusionInTitle:    d.ExclusionInTitle,
				}
			}
		}
		out[i] = pt
	}
	return out
}

func dropReason(r string) pb.DropReason {
	switch r {
	case tagger.DropExcluded:
		return pb.DropReason_DROP_REASON_EXCLUDED
	case tagger.DropUnsupported:
		return pb.DropReason_DROP_REASON_UNSUPPORTED
	case tagger.DropNeedsUnmet:
		return pb.DropReason_DROP_REASON_NEEDS_UNMET
	}
	return pb.DropReason_DROP_REASON_UNSPECIFIED
}

func setEvidence(p *pb.Evidence, e *tagger.Evidence) {
	p.Term, p.Pattern, p.Text = e.Term, e.Pattern, e.Text
	p.Start, p.End = int32(e.Start), int32(e.End)
	p.RuneStart, p.RuneEnd = int32(e.RuneStart), int32(e.RuneEnd)
	p.Utf16Start, p.Utf16End = int32(e.UTF16Start), int32(e.UTF16End)
	p.Weight, p.Folded, p.InTitle = e.Weight, e.Folded, e.InTitle
}

func ctxStatus(err error) error { return status.FromContextError(err).Err() }

// TagDocument tags one document.
func (s *Service) TagDocument(ctx context.Context, req *pb.TagDocumentRequest) (*pb.TagDocumentResponse, error) {
	if bad := wire.MalformedOf(req); bad != nil {
		return nil, s.malformed(bad, "the request").Err()
	}
	l := s.rules.Current()
	opts, st := s.options(l, req.GetOptions(), "options")
	if st != nil {
		return nil, st.Err()
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxStatus(err)
	}
	n := docBytes(req.GetDocument())
	if !s.budget.acquire(ctx, n) {
		return nil, overloaded("no room for this document now").Err()
	}
	defer s.budget.release(n)
	res, st := s.tagOne(ctx, l, req.GetDocument(), opts, "document")
	if st != nil {
		return nil, st.Err()
	}
	return &pb.TagDocumentResponse{Result: res}, nil
}

// BatchTagDocuments tags the documents in parallel and answers in order.
func (s *Service) BatchTagDocuments(ctx context.Context, req *pb.BatchTagDocumentsRequest) (*pb.BatchTagDocumentsResponse, error) {
	if bad := wire.MalformedOf(req); bad != nil {
		return nil, s.malformed(bad, "the request").Err()
	}
	docs := req.GetDocuments()
	switch n := len(docs); {
	case n == 0:
		return nil, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_EMPTY_BATCH, "documents",
			"the batch is empty; send at least one document", nil).Err()
	case n > s.cfg.MaxBatchDocuments:
		return nil, pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_BATCH_TOO_LARGE, "documents",
			fmt.Sprintf("the batch has %d documents, over the limit of %d (--max-batch-documents); split it or use StreamTagDocuments", n, s.cfg.MaxBatchDocuments),
			map[string]string{pb.MetaDocuments: strconv.Itoa(n), pb.MetaLimit: strconv.Itoa(s.cfg.MaxBatchDocuments)}).Err()
	}
	l := s.rules.Current()
	opts, st := s.options(l, req.GetOptions(), "options")
	if st != nil {
		return nil, st.Err()
	}
	var n int64
	for _, d := range docs {
		n += docBytes(d)
	}
	if !s.budget.acquire(ctx, n) {
		return nil, overloaded("no room for this batch now: send it again, or in smaller batches").Err()
	}
	defer s.budget.release(n)
	results := make([]*pb.DocumentResult, len(docs))
	one := func(i int) {
		field := "documents[" + strconv.Itoa(i) + "]"
		if err := ctx.Err(); err != nil {
			results[i] = &pb.DocumentResult{DocumentId: docs[i].GetId(), Error: status.FromContextError(err).Proto()}
			return
		}
		res, st := s.tagOne(ctx, l, docs[i], opts, field)
		if st != nil {
			res = &pb.DocumentResult{DocumentId: docs[i].GetId(), Error: st.Proto()}
		}
		results[i] = res
	}
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	if workers <= 1 {
		for i := range docs {
			one(i)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					one(i)
				}
			})
		}
		for i := range docs {
			next <- i
		}
		close(next)
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxStatus(err)
	}
	resp := &pb.BatchTagDocumentsResponse{Results: results}
	// Each result fits (tagOne checks), but all of them may not.
	if n := proto.Size(resp); n > s.cfg.MaxMessageBytes {
		return nil, pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_RESULT_TOO_LARGE, "documents",
			fmt.Sprintf("the results of the %d documents are %d bytes, over the limit of %d bytes (--max-message-bytes): send fewer documents per batch, set options.omit_evidence (omitEvidence over REST), or use StreamTagDocuments", len(docs), n, s.cfg.MaxMessageBytes),
			map[string]string{pb.MetaBytes: strconv.Itoa(n), pb.MetaLimit: strconv.Itoa(s.cfg.MaxMessageBytes)}).Err()
	}
	return resp, nil
}

// ListThemes lists the themes of the serving ruleset.
func (s *Service) ListThemes(ctx context.Context, req *pb.ListThemesRequest) (*pb.ListThemesResponse, error) {
	if bad := wire.MalformedOf(req); bad != nil {
		return nil, s.malformed(bad, "the request").Err()
	}
	rs := s.rules.Current().Tagger.Ruleset()
	resp := &pb.ListThemesResponse{RulesetVersion: rs.Version, Themes: make([]*pb.Theme, len(rs.Themes))}
	for i, th := range rs.Themes {
		resp.Themes[i] = &pb.Theme{
			Id:             th.ID,
			LabelVi:        th.LabelVI,
			LabelEn:        th.LabelEN,
			Description:    th.Description,
			Threshold:      th.Threshold,
			TermCount:      int32(len(th.Terms)),
			ExclusionCount: int32(len(th.Exclusions)),
		}
	}
	return resp, nil
}

// GetRuleset describes the serving ruleset.
func (s *Service) GetRuleset(ctx context.Context, req *pb.GetRulesetRequest) (*pb.GetRulesetResponse, error) {
	if bad := wire.MalformedOf(req); bad != nil {
		return nil, s.malformed(bad, "the request").Err()
	}
	l := s.rules.Current()
	rs := l.Tagger.Ruleset()
	out := &pb.Ruleset{
		Name:       rs.Name,
		Version:    rs.Version,
		Source:     rs.Source,
		LoadTime:   timestamppb.New(l.LoadTime),
		ThemeCount: int32(len(rs.Themes)),
	}
	for _, th := range rs.Themes {
		out.TermCount += int32(len(th.Terms))
		out.ExclusionCount += int32(len(th.Exclusions))
	}
	return &pb.GetRulesetResponse{Ruleset: out}, nil
}
