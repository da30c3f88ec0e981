package middleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// Quota is one caller's limits; 0 is no limit.
type Quota struct {
	// DocumentsPerSecond is the rate of documents the caller may send, over
	// every call and stream (a token bucket, golang.org/x/time/rate).
	DocumentsPerSecond float64 `yaml:"documents_per_second"`
	// Burst is how many documents may come at once above the rate
	// (default: one second's worth, at least 1).
	Burst int `yaml:"burst"`
	// Streams is how many StreamTagDocuments calls the caller may have
	// open at once.
	Streams int `yaml:"streams"`
}

func (q Quota) burst() int {
	if q.Burst > 0 {
		return q.Burst
	}
	return max(1, int(math.Ceil(q.DocumentsPerSecond)))
}

// QuotaConfig is the quota of every caller: Default, and Callers by name
// (a caller listed gets its own Quota instead of the default).
type QuotaConfig struct {
	Default Quota            `yaml:"default"`
	Callers map[string]Quota `yaml:"callers"`
}

// For is the quota of the caller name.
func (c QuotaConfig) For(name string) Quota {
	if q, ok := c.Callers[name]; ok {
		return q
	}
	return c.Default
}

// ReadQuotaFile reads a quota file (YAML): "default:" and "callers:" with
// documents_per_second, burst and streams. Defaults not in the file are
// the ones given (the flags).
func ReadQuotaFile(path string, defaults Quota) (QuotaConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return QuotaConfig{}, fmt.Errorf("reading the quota file: %w", err)
	}
	cfg := QuotaConfig{Default: defaults}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return QuotaConfig{}, fmt.Errorf("quota file %s: %w", path, err)
	}
	for name, q := range cfg.Callers {
		if !callerName.MatchString(name) {
			return QuotaConfig{}, fmt.Errorf("quota file %s: caller name %q: want letters, digits, '.', '_' or '-'", path, name)
		}
		if q.DocumentsPerSecond < 0 || q.Burst < 0 || q.Streams < 0 {
			return QuotaConfig{}, fmt.Errorf("quota file %s: caller %s: negative limit", path, name)
		}
	}
	if d := cfg.Default; d.DocumentsPerSecond < 0 || d.Burst < 0 || d.Streams < 0 {
		return QuotaConfig{}, fmt.Errorf("quota file %s: default: negative limit", path)
	}
	return cfg, nil
}

// Quotas holds each caller to its quota: documents per second and streams
// open at once. A call over it is refused with RESOURCE_EXHAUSTED
// QUOTA_EXCEEDED and a RetryInfo (REST 429 with Retry-After); a stream over
// the rate is slowed down instead (its next document is read when the
// caller's bucket has room).
type Quotas struct {
	mu      sync.Mutex
	cfg     QuotaConfig
	callers map[string]*callerQuota
	refused *prometheus.CounterVec
	labels  *callerLabels
}

type callerQuota struct {
	limiter *rate.Limiter // nil: no rate limit
	streams int           // the limit, 0: none
	open    int           // streams open (under Quotas.mu)
}

// NewQuotas is the quota of every caller; reg, if set, gets the refusals'
// counter.
func NewQuotas(cfg QuotaConfig, reg prometheus.Registerer) *Quotas {
	q := &Quotas{cfg: cfg, callers: map[string]*callerQuota{}, labels: &callerLabels{seen: map[string]bool{}},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_quota_exceeded_total",
			Help: "Calls refused, or stream documents delayed, over their caller's quota, by caller and limit (documents_per_second, streams).",
		}, []string{"caller", "limit"})}
	if reg != nil {
		reg.MustRegister(q.refused)
	}
	return q
}

// Set replaces the quotas (a reload). Rates start over (a full bucket);
// the streams open stay counted.
func (q *Quotas) Set(cfg QuotaConfig) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cfg = cfg
	for name, c := range q.callers {
		nq := cfg.For(name)
		c.streams = nq.Streams
		c.limiter = newLimiter(nq)
	}
}

func newLimiter(q Quota) *rate.Limiter {
	if q.DocumentsPerSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(q.DocumentsPerSecond), q.burst())
}

func (q *Quotas) caller(name string) *callerQuota {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.callerLocked(name)
}

// callerLocked is caller, under q.mu.
func (q *Quotas) callerLocked(name string) *callerQuota {
	c := q.callers[name]
	if c == nil {
		qq := q.cfg.For(name)
		c = &callerQuota{limiter: newLimiter(qq), streams: qq.Streams}
		q.callers[name] = c
	}
	return c
}

func (q *Quotas) limiter(name string) *rate.Limiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.callerLocked(name).limiter
}

// QuotaExceeded is the error of a call over its caller's quota.
func QuotaExceeded(caller, limit, msg string, retry time.Duration) error {
	retry = max(retry, 100*time.Millisecond)
	st := pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_QUOTA_EXCEEDED, "", msg,
		map[string]string{"caller": caller, pb.MetaLimit: limit})
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retry.Round(time.Millisecond))}); err == nil {
		st = d
	}
	return st.Err()
}

// takeDocuments takes n documents from the caller's bucket now, or says
// how long until they would fit (and the bucket, for the message).
func (q *Quotas) takeDocuments(name string, n int) (time.Duration, *rate.Limiter) {
	l := q.limiter(name)
	if l == nil || n == 0 {
		return 0, nil
	}
	n = min(n, l.Burst()) // a batch larger than the burst takes the whole bucket
	r := l.ReserveN(time.Now(), n)
	if !r.OK() {
		return time.Second, l
	}
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, l
	}
	return 0, nil
}

// Unary refuses a unary call whose documents are over its caller's rate.
func (q *Quotas) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		call := CallOf(ctx)
		if call == nil {
			return handler(ctx, req)
		}
		n := 0
		switch r := req.(type) {
		case interface{ GetDocument() *pb.Document }:
			n = 1
		case interface{ GetDocuments() []*pb.Document }:
			n = len(r.GetDocuments())
		}
		name := call.Caller()
		if wait, lim := q.takeDocuments(name, n); lim != nil {
			q.refused.WithLabelValues(q.labels.label(name), "documents_per_second").Inc()
			return nil, QuotaExceeded(name, fmt.Sprint(float64(lim.Limit())),
				fmt.Sprintf("caller %s is over its quota of %g documents a second (burst %d); retry after %s",
					name, float64(lim.Limit()), lim.Burst(), wait.Round(time.Millisecond)), wait)
		}
		return handler(ctx, req)
	}
}

// Stream refuses a stream past its caller's open streams, and slows down
// the reading of a stream's documents to its caller's rate.
func (q *Quotas) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		call := CallOf(ss.Context())
		if call == nil {
			return handler(srv, ss)
		}
		name := call.Caller()
		c := q.caller(name)
		q.mu.Lock()
		if c.streams > 0 && c.open >= c.streams {
			limit := c.streams
			q.mu.Unlock()
			q.refused.WithLabelValues(q.labels.label(name), "streams").Inc()
			return QuotaExceeded(name, fmt.Sprint(limit),
				fmt.Sprintf("caller %s has its quota of %d streams open; retry after %s, or send more per stream", name, limit, time.Second), time.Second)
		}
		c.open++
		q.mu.Unlock()
		defer func() {
			q.mu.Lock()
			c.open--
			q.mu.Unlock()
		}()
		return handler(srv, &throttledStream{ServerStream: ss, q: q, name: name})
	}
}

// throttledStream waits, after each document, for room in its caller's
// bucket: a stream over the rate is slowed down, not ended.
type throttledStream struct {
	grpc.ServerStream
	q    *Quotas
	name string
}

func (s *throttledStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err != nil {
		return err
	}
	if l := s.q.limiter(s.name); l != nil {
		if r := l.Reserve(); r.OK() {
			if d := r.Delay(); d > 0 {
				s.q.refused.WithLabelValues(s.q.labels.label(s.name), "documents_per_second").Inc()
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
				case <-s.Context().Done():
					r.Cancel()
					return s.Context().Err()
				}
			}
		}
	}
	return nil
}
