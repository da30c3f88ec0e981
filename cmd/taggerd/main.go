// Command taggerd serves the doctagger tagging API: gRPC (tagger.v1.TaggerService,
// health, reflection) and its REST mirror with metrics. Every flag has an
// environment-variable twin; see --help.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/doctagger/doctagger/internal/telemetry"
	"github.com/doctagger/doctagger/server"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	if err != nil {
		if err == errHelp || err == errVersion {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "taggerd:", err)
		os.Exit(2)
	}
	// Tracing from the OTEL_* environment (off unless configured).
	tp, shutdownTracing, err := telemetry.Setup(context.Background(), "taggerd", os.Stderr)
	if err != nil {
		cfg.Logger.Error("cannot set up tracing", "err", err)
		os.Exit(2)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(ctx); err != nil {
			cfg.Logger.Warn("sending the last spans", "err", err)
		}
	}()
	if tp != nil {
		cfg.TracerProvider = tp
	}
	srv, err := server.New(cfg)
	if err != nil {
		cfg.Logger.Error("cannot start", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = srv.Reload() // logged by the server; the old rules keep serving on error
		}
	}()
	if err := srv.Run(ctx); err != nil {
		cfg.Logger.Error("server failed", "err", err)
		os.Exit(1)
	}
}
