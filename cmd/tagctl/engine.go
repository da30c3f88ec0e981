package main

import (
	"context"
	"iter"
	"log/slog"
	"runtime"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/internal/service"
	"github.com/doctagger/doctagger/server"
)

// local is the tagging service in this process (tag --local): the very
// service taggerd runs (internal/service), with taggerd's default limits,
// called directly, so that options, errors and results are the service's
// own, without a network or an encoding in between.
type local struct {
	svc *service.Service
}

func newLocal(rulesPath string) (*local, error) {
	log := slog.New(slog.DiscardHandler)
	m := service.NewMetrics(prometheus.NewRegistry())
	rules, err := service.NewRules(rulesPath, log, m)
	if err != nil {
		return nil, err
	}
	cfg := server.DefaultConfig()
	limits := service.Limits{
		MaxDocumentBytes:  cfg.MaxDocumentBytes,
		MaxBatchDocuments: cfg.MaxBatchDocuments,
		MaxMessageBytes:   cfg.MaxMessageBytes,
		StreamMaxInFlight: cfg.StreamMaxInFlight,
	}
	return &local{svc: service.New(limits, rules, m, log, nil)}, nil
}

func (l *local) Close() error { return nil }

func (l *local) ListThemes(ctx context.Context) (*pb.ListThemesResponse, error) {
	return l.svc.ListThemes(ctx, &pb.ListThemesRequest{})
}

func (l *local) GetRuleset(ctx context.Context) (*pb.Ruleset, error) {
	resp, err := l.svc.GetRuleset(ctx, &pb.GetRulesetRequest{})
	return resp.GetRuleset(), err
}

// TagStream tags docs on o.Streams goroutines (default: one per core) and
// yields the results as they are ready, one per document, as
// client.TagStream does (Result.Index is the place in docs). A document
// the service refuses fails alone with the service's error; when ctx ends,
// the documents taken and not yet tagged fail with its error and no more
// are taken.
func (l *local) TagStream(ctx context.Context, docs iter.Seq[client.Document], o client.StreamOptions) iter.Seq[client.Result] {
	workers := o.Streams
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		index int64
		doc   client.Document
	}
	return func(yield func(client.Result) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		in := make(chan job, 4*workers)
		out := make(chan client.Result, 4*workers)
		gone := make(chan struct{})
		go func() {
			defer close(in)
			var index int64
			for d := range docs {
				select {
				case in <- job{index, d}:
					index++
				case <-ctx.Done():
					return
				}
			}
		}()
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for j := range in {
					res := client.Result{Index: j.index, ID: j.doc.ID, Attempts: 1, Peer: "local"}
					opts := j.doc.Options
					if opts == nil {
						opts = o.Tag
					}
					resp, err := l.svc.TagDocument(ctx, &pb.TagDocumentRequest{
						Document: &pb.Document{Id: j.doc.ID, Text: j.doc.Text, Title: j.doc.Title, LanguageCode: j.doc.Language},
						Options:  opts,
					})
					if err != nil {
						res.Err = status.Convert(err).Err()
					} else {
						r := resp.GetResult()
						res.Tags, res.Untagged, res.RulesetVersion, res.Words = r.GetTags(), r.GetUntagged(), r.GetRulesetVersion(), int(r.GetWords())
					}
					select {
					case out <- res:
					case <-gone:
						return
					}
				}
			})
		}
		go func() {
			wg.Wait()
			close(out)
		}()
		defer func() {
			cancel()
			close(gone)
			wg.Wait()
		}()
		for r := range out {
			if !yield(r) {
				return
			}
		}
	}
}
