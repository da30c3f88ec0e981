package server

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

// loaded is one compiled ruleset and when it started serving. Requests load
// the pointer once and keep their *loaded to the end, so a reload never
// changes the rules under a request in flight.
type loaded struct {
	tagger   *tagger.Tagger
	loadTime time.Time
	themes   map[string]bool
}

// rules holds the serving ruleset and reloads it.
type rules struct {
	path    string
	log     *slog.Logger
	metrics *metrics
	cur     atomic.Pointer[loaded]
	mu      sync.Mutex // one reload at a time
}

func newRules(path string, log *slog.Logger, m *metrics) (*rules, error) {
	r := &rules{path: path, log: log, metrics: m}
	l, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(l)
	m.setRuleset(l)
	return r, nil
}

func (r *rules) current() *loaded { return r.cur.Load() }

func (r *rules) load() (*loaded, error) {
	var rs *tagger.Ruleset
	var err error
	if r.path == "" {
		rs, err = tagger.DefaultRuleset()
	} else {
		rs, err = tagger.LoadRuleset(r.path)
	}
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
	return &loaded{tagger: t, loadTime: time.Now(), themes: themes}, nil
}

// reload loads and compiles the rules off the request path and swaps them
// in atomically. On error the old ruleset keeps serving.
func (r *rules) reload(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.current()
	l, err := r.load()
	if err != nil {
		r.metrics.reloads.WithLabelValues("failure").Inc()
		attrs := []any{"reason", reason, "source", r.source(), "serving", old.tagger.Version(), "err", err.Error()}
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
	r.log.Info("ruleset reloaded", "reason", reason, "source", r.source(),
		"version", l.tagger.Version(), "previous", old.tagger.Version(),
		"themes", len(l.tagger.Ruleset().Themes))
	return nil
}

func (r *rules) source() string {
	if r.path == "" {
		return "embedded"
	}
	return r.path
}

// watch reloads the rules when the file changes until ctx ends. It watches
// the directory, so editors that replace the file by a rename are seen too;
// bursts of events are coalesced.
func (r *rules) watch(ctx context.Context) error {
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
	const settle = 150 * time.Millisecond
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
			_ = r.reload("file changed")
		}
	}
}
