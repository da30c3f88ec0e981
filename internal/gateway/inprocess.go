package gateway

import (
	"context"
	"net"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/internal/wire"
)

// inProcess serves the REST side's calls: each goes through the same
// interceptors as a gRPC call (recovery, logging, metrics, auth) and then
// the service, in process: a REST request is decoded once from JSON and
// its answer encoded once to JSON, with no gRPC encoding in between.
type inProcess struct {
	pb.UnimplementedTaggerServiceServer
	svc    pb.TaggerServiceServer
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
	// maxMessage is --max-message-bytes: a REST request is held to the
	// limit of the gRPC message it stands for, so that what REST accepts,
	// gRPC accepts.
	maxMessage int
	// tracer, when tracing, makes each in-process call a span under the
	// REST request's (otelhttp's), as the gRPC stats handler would.
	tracer trace.Tracer
}

// startCall marks ctx as a REST call's and, when tracing, starts the span
// of its in-process call.
func (p *inProcess) startCall(ctx context.Context, method string) (context.Context, func(error)) {
	ctx = middleware.WithTransport(ctx, middleware.TransportREST)
	if p.tracer == nil {
		return ctx, func(error) {}
	}
	service, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	ctx, span := p.tracer.Start(ctx, service+"/"+name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", service),
			attribute.String("rpc.method", name), attribute.String("doctagger.transport", middleware.TransportREST)))
	return ctx, func(err error) {
		st := status.Convert(err)
		span.SetAttributes(attribute.Int64("rpc.grpc.status_code", int64(st.Code())))
		if err != nil {
			span.SetStatus(otelcodes.Error, st.Message())
		}
		span.End()
	}
}

func (p *inProcess) TagDocument(ctx context.Context, req *pb.TagDocumentRequest) (*pb.TagDocumentResponse, error) {
	return unaryCall(p, ctx, pb.TaggerService_TagDocument_FullMethodName, req, p.svc.TagDocument)
}

func (p *inProcess) BatchTagDocuments(ctx context.Context, req *pb.BatchTagDocumentsRequest) (*pb.BatchTagDocumentsResponse, error) {
	return unaryCall(p, ctx, pb.TaggerService_BatchTagDocuments_FullMethodName, req, p.svc.BatchTagDocuments)
}

func (p *inProcess) ListThemes(ctx context.Context, req *pb.ListThemesRequest) (*pb.ListThemesResponse, error) {
	return unaryCall(p, ctx, pb.TaggerService_ListThemes_FullMethodName, req, p.svc.ListThemes)
}

func (p *inProcess) GetRuleset(ctx context.Context, req *pb.GetRulesetRequest) (*pb.GetRulesetResponse, error) {
	return unaryCall(p, ctx, pb.TaggerService_GetRuleset_FullMethodName, req, p.svc.GetRuleset)
}

// unaryCall runs one call through the interceptors. A request over the
// message limit is marked as the gRPC codec marks one (wire.MarkTooLarge),
// so that the service answers it, logged and counted, as over gRPC.
func unaryCall[Req proto.Message, Resp any](p *inProcess, ctx context.Context, method string, req Req, handler func(context.Context, Req) (Resp, error)) (Resp, error) {
	ctx, end := p.startCall(withMethod(ctx, method), method)
	if n := proto.Size(req); n > p.maxMessage {
		wire.MarkTooLarge(req, n)
	}
	info := &grpc.UnaryServerInfo{Server: p.svc, FullMethod: method}
	out, err := p.unary(ctx, req, info, func(ctx context.Context, r any) (any, error) {
		return handler(ctx, r.(Req))
	})
	end(err)
	if err != nil {
		var zero Resp
		return zero, err
	}
	return out.(Resp), nil
}

// streamTagDocuments runs StreamTagDocuments on ss through the stream
// interceptors.
func (p *inProcess) streamTagDocuments(ss *ndjsonStream) error {
	info := &grpc.StreamServerInfo{FullMethod: pb.TaggerService_StreamTagDocuments_FullMethodName, IsClientStream: true, IsServerStream: true}
	ctx, end := p.startCall(ss.ctx, info.FullMethod)
	ss.ctx = ctx
	err := p.stream(p.svc, ss, info, func(_ any, ss grpc.ServerStream) error {
		return p.svc.StreamTagDocuments(&grpc.GenericServerStream[pb.StreamTagDocumentsRequest, pb.StreamTagDocumentsResponse]{ServerStream: ss})
	})
	end(err)
	return err
}

// methodStream names the method of an in-process call for grpc.Method
// (the panic log reads it), keeping the gateway's header and trailer
// handling.
type methodStream struct {
	grpc.ServerTransportStream
	method string
}

func (m methodStream) Method() string { return m.method }

func withMethod(ctx context.Context, method string) context.Context {
	sts := grpc.ServerTransportStreamFromContext(ctx)
	if sts == nil {
		sts = noHeaders{}
	}
	return grpc.NewContextWithServerTransportStream(ctx, methodStream{ServerTransportStream: sts, method: method})
}

// noHeaders drops what a handler sets as gRPC headers or trailers where
// nothing carries them (the NDJSON stream).
type noHeaders struct{}

func (noHeaders) Method() string { return "" }

func (noHeaders) SetHeader(metadata.MD) error  { return nil }
func (noHeaders) SendHeader(metadata.MD) error { return nil }
func (noHeaders) SetTrailer(metadata.MD) error { return nil }

// withPeer gives an in-process call its HTTP client's address, which the
// call log shows as a gRPC call's peer.
func withPeer(ctx context.Context, remoteAddr string) context.Context {
	return peer.NewContext(ctx, &peer.Peer{Addr: httpAddr(remoteAddr)})
}

type httpAddr string

func (a httpAddr) Network() string { return "tcp" }
func (a httpAddr) String() string  { return string(a) }

var _ net.Addr = httpAddr("")
