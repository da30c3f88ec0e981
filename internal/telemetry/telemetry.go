// Package telemetry sets up OpenTelemetry tracing from the SDK's standard
// environment variables, for taggerd and tagctl. Tracing is off unless
// configured: OTEL_TRACES_EXPORTER (otlp, console or none) or an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
// The exporters read the rest themselves (OTEL_EXPORTER_OTLP_PROTOCOL,
// _HEADERS, _INSECURE...), the SDK the sampler (OTEL_TRACES_SAMPLER,
// OTEL_TRACES_SAMPLER_ARG) and the resource (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES); OTEL_SDK_DISABLED=true turns it all off.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/doctagger/doctagger/internal/buildinfo"
)

// Propagator is W3C trace context and baggage.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Enabled reports whether the environment asks for tracing.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	}
	return true
}

// Setup makes a tracer provider from the environment, or returns nil (and
// a shutdown that does nothing) when tracing is not configured. It also
// sets it and Propagator as OpenTelemetry's globals, which the Go client's
// stats handler uses. service is the default service.name; console
// writes the console exporter's spans (stderr by default). Call shutdown
// before exiting: it sends the spans still batched.
func Setup(ctx context.Context, service string, console io.Writer) (trace.TracerProvider, func(context.Context) error, error) {
	nothing := func(context.Context) error { return nil }
	if !Enabled(os.Getenv) {
		return nil, nothing, nil
	}
	exp, err := exporter(ctx, console)
	if err != nil {
		return nil, nothing, err
	}
	in := buildinfo.Read()
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service), attribute.String("service.version", in.Version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, nothing, fmt.Errorf("tracing resource: %w", err)
	}
	// The sampler is the SDK's default, read from OTEL_TRACES_SAMPLER
	// (parentbased_always_on unless set).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	return tp, tp.Shutdown, nil
}

func exporter(ctx context.Context, console io.Writer) (sdktrace.SpanExporter, error) {
	name := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")))
	switch name {
	case "", "otlp":
		proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if proto == "" {
			proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		switch proto {
		case "", "http/protobuf":
			return otlptracehttp.New(ctx)
		case "grpc":
			return otlptracegrpc.New(ctx)
		}
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
	case "console":
		if console == nil {
			console = os.Stderr
		}
		return stdouttrace.New(stdouttrace.WithWriter(console))
	}
	return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want otlp, console or none", name)
}
