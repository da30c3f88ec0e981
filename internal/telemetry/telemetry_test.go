package telemetry

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEnabled: tracing is off unless an exporter or an OTLP endpoint is
// configured, and OTEL_SDK_DISABLED wins.
func TestEnabled(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	} {
		if got := Enabled(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %v, want %v", c.env, got, c.want)
		}
	}
}

// TestConsole: OTEL_TRACES_EXPORTER=console writes the spans, with
// OTEL_SERVICE_NAME as service.name.
func TestConsole(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_SERVICE_NAME", "tagger-test")
	var out bytes.Buffer
	tp, shutdown, err := Setup(context.Background(), "taggerd", &out)
	if err != nil || tp == nil {
		t.Fatalf("Setup: %v %v", tp, err)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "one")
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Name":"one"`) || !strings.Contains(out.String(), "tagger-test") {
		t.Fatalf("console output %s", out.String())
	}
}

// TestBadExporter: an unknown exporter is an error, not silence.
func TestBadExporter(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	if _, _, err := Setup(context.Background(), "taggerd", nil); err == nil {
		t.Fatal("no error")
	}
}
