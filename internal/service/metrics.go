package service

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the tagging metrics; the standard gRPC server metrics come
// from go-grpc-middleware's prometheus provider.
type Metrics struct {
	documents     *prometheus.CounterVec
	documentBytes prometheus.Counter
	tags          *prometheus.CounterVec
	latency       prometheus.Histogram
	reloads       *prometheus.CounterVec
	rulesetInfo   *prometheus.GaugeVec
	rulesetLoaded prometheus.Gauge
	streamsActive prometheus.Gauge

	docOK prometheus.Counter

	infoMu     sync.Mutex
	infoLabels []string // version, source of the rulesetInfo series
}

// NewMetrics registers the tagging metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_documents_total",
			Help: "Documents tagged, by outcome (ok, or the gRPC code of the per-document error).",
		}, []string{"outcome"}),
		documentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "doctagger_document_bytes_total",
			Help: "Bytes of document text tagged.",
		}),
		tags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_tags_total",
			Help: "Tags given, by theme.",
		}, []string{"theme"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "doctagger_document_duration_seconds",
			Help:    "Time to tag one document.",
			Buckets: []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1},
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_ruleset_reloads_total",
			Help: "Ruleset reloads, by result (success, failure).",
		}, []string{"result"}),
		rulesetInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "doctagger_ruleset_info",
			Help: "The serving ruleset (value 1).",
		}, []string{"version", "source"}),
		rulesetLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "doctagger_ruleset_load_timestamp_seconds",
			Help: "When the serving ruleset was loaded, Unix seconds.",
		}),
		streamsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "doctagger_streams_active",
			Help: "StreamTagDocuments calls in progress.",
		}),
	}
	reg.MustRegister(m.documents, m.documentBytes, m.tags, m.latency, m.reloads,
		m.rulesetInfo, m.rulesetLoaded, m.streamsActive)
	m.docOK = m.documents.WithLabelValues("ok")
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

func (m *Metrics) setRuleset(l *Loaded) {
	rs := l.Tagger.Ruleset()
	m.infoMu.Lock()
	defer m.infoMu.Unlock()
	// The new series first, then the old one goes: a scrape in between
	// sees both for a moment, never none.
	m.rulesetInfo.WithLabelValues(rs.Version, rs.Source).Set(1)
	if old := m.infoLabels; old != nil && (old[0] != rs.Version || old[1] != rs.Source) {
		m.rulesetInfo.DeleteLabelValues(old[0], old[1])
	}
	m.infoLabels = []string{rs.Version, rs.Source}
	m.rulesetLoaded.Set(float64(l.LoadTime.UnixNano()) / 1e9)
}

func (m *Metrics) observe(bytes int, d time.Duration) {
	m.documentBytes.Add(float64(bytes))
	m.latency.Observe(d.Seconds())
}
