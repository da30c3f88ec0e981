package service

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/doctagger/doctagger/tagger"
)

// Loaded is one compiled ruleset and when it started serving. Requests load
// the pointer once and keep their *Loaded to the end, so a reload never
// changes the rules under a request in flight.
type Loaded struct {
	Tagger   *tagger.Tagger
	LoadTime time.Time
	themes   map[string]bool
}

// Rules holds the serving ruleset and reloads it.
type Rules struct {
	path    string
	log     *slog.Logger
	metrics *Metrics
	cur     atomic.Pointer[Loaded]
	mu      sync.Mutex // one reload at a time
}

// NewRules loads the rules file at path, or the embedded default rules
// when path is empty; an invalid file is an error.
func NewRules(path string, log *slog.Logger, m *Metrics) (*Rules, error) {
	r := &Rules{path: path, log: log, metrics: m}
	l, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(l)
	m.setRuleset(l)
	return r, nil
}

// Current is the serving ruleset.
func (r *Rules) Current() *Loaded { return r.cur.Load() }

func (r *Rules) load() (*Loaded, error) {
	rs, err := tagger.LoadRulesetOrDefault(r.path)
	if err != nil {
		return nil, err
	}
	t, err := tagger.Compile(rs)
	if err != nil {
		return nil, err
	}
	themes := make(map[string]bool, len(rs.Themes))
	for _, th := range rs.Themes {
		themes[th.ID] = true
	}
	return &Loaded{Tagger: t, LoadTime: time.Now(), themes: themes}, nil
}

// reload loads and compiles the rules off the request path and swaps them
// in atomically. On error the old ruleset keeps serving.
func (r *Rules) Reload(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.Current()
	l, err := r.load()
	if err != nil {
		r.metrics.reloads.WithLabelValues("failure").Inc()
		attrs := []any{"reason", reason, "source", r.Source(), "serving", old.Tagger.Version(), "err", err.Error()}
		var rerr *tagger.RulesetError
		if errors.As(err, &rerr) {
			problems := make([]string, len(rerr.Problems))
			for i, p := range rerr.Problems {
				problems[i] = p.String()
			}
			attrs = append(attrs, "problems", problems)
		}
		r.log.Error("ruleset reload failed; the previous ruleset keeps serving", attrs...)
		return err
	}
	r.cur.Store(l)
	r.metrics.reloads.WithLabelValues("success").Inc()
	r.metrics.setRuleset(l)
	r.log.Info("ruleset reloaded", "reason", reason, "source", r.Source(),
		"version", l.Tagger.Version(), "previous", old.Tagger.Version(),
		"themes", len(l.Tagger.Ruleset().Themes))
	return nil
}

func (r *Rules) Source() string {
	if r.path == "" {
		return "embedded"
	}
	return r.path
}

// Watch reloads the rules when the file changes until ctx ends. It watches
// the directory, so editors that replace the file by a rename are seen too.
// It reloads only once the file has had no change for settle: a file
// written in place in several pieces (`cat > rules.yaml`, some editors) can
// be valid YAML half-way, and must not go live then.
func (r *Rules) Watch(ctx context.Context, settle time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	abs, err := filepath.Abs(r.path)
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return err
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// A Kubernetes ConfigMap volume updates rules.yaml (a symlink
			// to ..data/rules.yaml) by renaming the ..data symlink: the
			// event names ..data, never the file.
			name := filepath.Clean(ev.Name)
			if name != abs && name != filepath.Join(filepath.Dir(abs), "..data") || ev.Op == fsnotify.Chmod {
				continue
			}
			timer.Reset(settle)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.log.Warn("watching the rules file", "err", err)
		case <-timer.C:
			_ = r.Reload("file changed")
		}
	}
}
