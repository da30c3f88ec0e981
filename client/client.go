// Package client is the Go client of the doctagger service
// (tagger.v1.TaggerService).
//
// A Client spreads calls over every replica behind its target (round-robin
// over all the addresses of a DNS name, such as a Kubernetes headless
// Service, or over a given list), retries calls that fail with UNAVAILABLE
// with exponential backoff (through the gRPC service config), and sends a
// bearer token and TLS client certificates when asked:
//
//	c, err := client.New("dns:///tagger-grpc.doctagger.svc:9090",
//		client.WithTLS(client.TLS{CAFile: "ca.pem"}),
//		client.WithBearerToken(token),
//		client.WithTimeout(10*time.Second))
//	if err != nil { ... }
//	defer c.Close()
//	res, err := c.Tag(ctx, client.Document{ID: "a1", Text: text}, nil)
//
// For batch jobs, TagStream takes documents from an iterator, keeps a bounded
// window of them in flight over several streams and yields each result as it
// comes; when a stream breaks (a replica dies, a deploy rolls) it reopens one,
// on another replica when there is one, and resends the documents that had no
// answer yet, so that every document gets exactly one Result.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip" // registers the gzip compressor, for WithGzip
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// serviceName is the gRPC service the retry policy applies to.
const serviceName = "tagger.v1.TaggerService"

// Client calls a doctagger service. It is safe for concurrent use; create
// one per process and target, and Close it when done.
type Client struct {
	conn    *grpc.ClientConn
	rpc     pb.TaggerServiceClient
	target  string
	timeout time.Duration
	opts    options
}

// Document is one text to tag.
type Document struct {
	// ID is chosen by the caller and echoed in the result. It must be
	// valid UTF-8.
	ID string
	// Text is the document, UTF-8. A text that is not valid UTF-8 fails
	// before it is sent, with INVALID_ARGUMENT and the byte offset, as the
	// server would fail it (protobuf cannot encode it in a string field).
	Text string
	// Title is the document's optional title (headline), the API's
	// Document.title: tagged with the text, a match in it counts the
	// ruleset's scoring.title_weight times as much, and its evidence has
	// InTitle set, with offsets into the title. Like Text, it must be valid
	// UTF-8 (else INVALID_ARGUMENT naming .title, before it is sent).
	Title string
	// Language is an optional BCP 47 hint ("vi", "en"), the API's
	// Document.language_code (languageCode in JSON); it picks the language
	// of the tag labels. It must be valid UTF-8.
	Language string
	// Options, when not nil, are this document's options, in place of
	// those of the call (the opts of Tag and TagBatch, StreamOptions.Tag).
	// TagBatch sends each run of consecutive documents with the same
	// options in calls of their own; TagStream sends them on a stream
	// request whenever they differ from the previous request's (as the
	// REST NDJSON stream does with a line's "options").
	Options *pb.TagOptions
}

func (d Document) proto() *pb.Document {
	return &pb.Document{Id: d.ID, Text: d.Text, Title: d.Title, LanguageCode: d.Language}
}

// options are the document's options: its own, or else those of the call.
func (d Document) options(call *pb.TagOptions) *pb.TagOptions {
	if d.Options != nil {
		return d.Options
	}
	return call
}

// checkStrings fails a document whose id, text, title or language, proto3
// strings, is not valid UTF-8: grpc-go would refuse to marshal its request
// (INTERNAL "error while marshaling"), which no retry can fix. The status
// is the one the server gives such a document (INVALID_ARGUMENT, reason
// INVALID_UTF8, a BadRequest naming field.text, .title, .id or
// .language_code, and for the text and title the offset in the ErrorInfo
// metadata), except for its
// message, where name is the document ("document", "document 3"), and
// the field, under field ("document", "documents[3]"). name and field are
// called only for a document that fails (not per document of a batch).
func (d Document) checkStrings(name, field func() string) *status.Status {
	if offset, bad := invalidUTF8(d.Text); bad {
		return invalidUTF8Status(fmt.Sprintf("%s: text is not valid UTF-8 (invalid byte sequence at byte offset %d)", name(), offset),
			field()+".text", d.ID, offset)
	}
	if offset, bad := invalidUTF8(d.Title); bad {
		return invalidUTF8Status(fmt.Sprintf("%s: title is not valid UTF-8 (invalid byte sequence at byte offset %d)", name(), offset),
			field()+".title", d.ID, offset)
	}
	for _, f := range [...]struct{ field, value string }{{"id", d.ID}, {"language_code", d.Language}} {
		if offset, bad := invalidUTF8(f.value); bad {
			return invalidUTF8Status(fmt.Sprintf("%s: %s is not valid UTF-8 (byte offset %d)", name(), f.field, offset),
				field()+"."+f.field, d.ID, -1)
		}
	}
	return nil
}

func invalidUTF8Status(msg, field, id string, offset int) *status.Status {
	meta := map[string]string{}
	if id != "" && utf8.ValidString(id) {
		meta[pb.MetaDocumentID] = id
	}
	if offset >= 0 {
		meta[pb.MetaOffset] = strconv.Itoa(offset)
	}
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_INVALID_UTF8, field, msg, meta)
}

// failedResult is the result of a document failed before being sent. Its
// id is made valid UTF-8 (U+FFFD for the bad bytes, as the server echoes
// such an id), so that the result can be encoded.
func failedResult(d Document, st *status.Status) *pb.DocumentResult {
	return &pb.DocumentResult{DocumentId: strings.ToValidUTF8(d.ID, "\uFFFD"), Error: st.Proto()}
}

// checkOptions fails options whose theme names, proto3 strings, are not
// valid UTF-8: like a bad document id, they would make grpc-go refuse to
// marshal every request that carries them. prefix names the options'
// owner in the message ("document 3: "), or is empty.
func checkOptions(o *pb.TagOptions, prefix string) error {
	for i, th := range o.GetThemes() {
		if offset, bad := invalidUTF8(th); bad {
			msg := fmt.Sprintf("%soptions.themes[%d] is not valid UTF-8 (byte offset %d)", prefix, i, offset)
			return invalidUTF8Status(msg, fmt.Sprintf("options.themes[%d]", i), "", -1).Err()
		}
	}
	return nil
}

// invalidUTF8 reports whether s is not valid UTF-8 and the byte offset of
// its first invalid byte.
func invalidUTF8(s string) (int, bool) {
	if utf8.ValidString(s) {
		return 0, false
	}
	offset := 0
	for offset < len(s) {
		r, size := utf8.DecodeRuneInString(s[offset:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		offset += size
	}
	return offset, true
}

// TLS configures transport security. The zero value verifies the server
// against the system's root CAs.
type TLS struct {
	// CAFile holds the PEM CA certificates that signed the server's
	// certificate; empty means the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key, for servers
	// that require mutual TLS.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server's certificate
	// (default: the host of each address).
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool
}

// RetryPolicy is the gRPC retry policy for calls that fail with UNAVAILABLE
// before the server answered: up to MaxAttempts tries (gRPC caps it at 5),
// waiting a random time up to InitialBackoff × Multiplier^n, at most
// MaxBackoff, between them.
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryPolicy is used unless WithRetryPolicy says otherwise.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Multiplier: 2}

type options struct {
	tls            *TLS
	tlsConfig      *tls.Config
	token          string
	tokenPlaintext bool
	timeout        time.Duration
	retry          RetryPolicy
	noRetry        bool
	userAgent      string
	maxMsg         int
	dnsRefresh     time.Duration
	gzip           bool
	dialOpts       []grpc.DialOption
}

// Option configures a Client.
type Option func(*options)

// WithTLS connects with TLS (the zero TLS value: system roots, no client
// certificate). Without it or WithTLSConfig, the connection is plaintext.
func WithTLS(t TLS) Option { return func(o *options) { o.tls = &t } }

// WithTLSConfig connects with TLS using c as it is.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// WithBearerToken sends "authorization: Bearer token" with every call. The
// token is only sent over TLS unless WithTokenOverPlaintext is given too. It
// must be printable ASCII (a header value): New rejects anything else, such
// as the trailing newline of a token read from a file.
func WithBearerToken(token string) Option { return func(o *options) { o.token = token } }

// WithTokenOverPlaintext allows the bearer token on a plaintext connection
// (a loopback server, or a network that encrypts below gRPC, such as a
// service mesh).
func WithTokenOverPlaintext() Option { return func(o *options) { o.tokenPlaintext = true } }

// WithTimeout bounds each unary call (when the caller's context has no
// earlier deadline) and, in TagStream, how long a stream may hold documents
// without answering any before it is abandoned and its documents resent.
// Zero means no bound; the default is 30 seconds.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithoutRetries turns off the automatic retries of UNAVAILABLE.
func WithoutRetries() Option { return func(o *options) { o.noRetry = true } }

// WithUserAgent prefixes the gRPC user agent. New rejects control
// characters in it (they cannot be sent in a header).
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithMaxMessageBytes sets the largest message sent or received (default
// 64 MiB, the server's default).
func WithMaxMessageBytes(n int) Option { return func(o *options) { o.maxMsg = n } }

// WithDNSRefresh re-resolves a DNS target every d (default 30 s; 0 turns
// it off), so that replicas added by a scale-up get work from clients that
// are already connected. (gRPC itself re-resolves only when a connection
// fails, and at most every 30 s.)
func WithDNSRefresh(d time.Duration) Option { return func(o *options) { o.dnsRefresh = d } }

// WithGzip compresses every call with gzip: unary calls and TagStream's
// streams, requests and, as taggerd answers in kind, responses.
//
// It pays when the network limits the job, such as a batch tagger far from
// the service (another region, a VPN, a metered link): Vietnamese news text
// goes about 3x smaller in batches of 100 articles (TagBatch), 2.3x one
// article per message (Tag, TagStream; articles of 1-6 KB). Short answers
// do not shrink: a result with no tags grows by about 20 bytes. It costs
// CPU on both sides, about 40 ms per MB of text for client and server
// together: tagging 10 MB of articles with TagStream over loopback took
// 0.5 s of CPU instead of 0.1 s. Next to the service (same cluster or data
// centre) leave it off. The server's message limit
// (taggerd --max-message-bytes) holds for a message as decompressed:
// compressing lets no larger document or batch through.
func WithGzip() Option { return func(o *options) { o.gzip = true } }

// WithDialOptions appends raw gRPC dial options (interceptors, stats
// handlers, a context dialer), applied after the client's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// New creates a client for target, which is one of:
//
//   - "host:port": every address the name resolves to (DNS), like "dns:///host:port";
//   - "dns:///host:port": the same, explicitly (a headless Service gives one
//     address per ready pod);
//   - "host1:port,host2:port,...": the listed addresses;
//   - any other gRPC target with a scheme ("unix:///path", "passthrough:///...").
//
// Calls are balanced round-robin over all the addresses. New does not
// connect; the first call does, and failures show up as UNAVAILABLE.
func New(target string, opts ...Option) (*Client, error) {
	o := options{timeout: 30 * time.Second, retry: DefaultRetryPolicy, maxMsg: 64 << 20, dnsRefresh: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	target = strings.TrimSpace(target)
	if target == "" {
		return nil, errors.New("client: empty target")
	}
	var dial []grpc.DialOption

	creds, err := o.transportCredentials()
	if err != nil {
		return nil, err
	}
	secure := creds != nil
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	dial = append(dial, grpc.WithTransportCredentials(creds))
	if err := o.checkHeaders(); err != nil {
		return nil, err
	}
	if o.token != "" {
		if !secure && !o.tokenPlaintext {
			return nil, ErrTokenNeedsTLS
		}
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{token: o.token, secure: !o.tokenPlaintext}))
	}

	grpcTarget, addrs, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if addrs != nil {
		r := manual.NewBuilderWithScheme(listScheme)
		state := resolver.State{}
		for _, a := range addrs {
			host, _, _ := net.SplitHostPort(a)
			state.Addresses = append(state.Addresses, resolver.Address{Addr: a, ServerName: host})
		}
		r.InitialState(state)
		dial = append(dial, grpc.WithResolvers(r))
	}
	if strings.HasPrefix(grpcTarget, "dns:") && o.dnsRefresh > 0 {
		if dns := resolver.Get("dns"); dns != nil {
			dial = append(dial, grpc.WithResolvers(refreshBuilder{Builder: dns, every: o.dnsRefresh}))
		}
	}

	sc, err := o.serviceConfig()
	if err != nil {
		return nil, err
	}
	dial = append(dial,
		grpc.WithDefaultServiceConfig(sc),
		// Our config, not one a DNS TXT record might carry.
		grpc.WithDisableServiceConfig(),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			// The server accepts pings every 10 s or more; a dead peer (a
			// node gone without closing its connections) is noticed within
			// about 40 s instead of the TCP timeout.
			Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(o.maxMsg), grpc.MaxCallSendMsgSize(o.maxMsg)),
	)
	if o.gzip {
		dial = append(dial, grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	}
	if o.userAgent != "" {
		dial = append(dial, grpc.WithUserAgent(o.userAgent))
	}
	if !o.noRetry {
		// A call over its quota, or refused by an overloaded server, is
		// tried again after the delay the server names.
		dial = append(dial, grpc.WithChainUnaryInterceptor(retryHint(o.retry.MaxAttempts)))
	}
	// The caller's trace context goes with every call (OpenTelemetry's
	// global tracer provider and propagator: nothing unless the program
	// set them up).
	dial = append(dial, grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	dial = append(dial, o.dialOpts...)
	conn, err := grpc.NewClient(grpcTarget, dial...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Client{conn: conn, rpc: pb.NewTaggerServiceClient(conn), target: target, timeout: o.timeout, opts: o}, nil
}

// checkHeaders rejects header values that no call could send: grpc-go
// refuses, on every call, a bearer token with a byte outside printable ASCII
// (INTERNAL), and servers reset every stream whose user agent holds a
// control character (HTTP/2 PROTOCOL_ERROR). The error names the byte, not
// the token.
func (o *options) checkHeaders() error {
	for i := 0; i < len(o.token); i++ {
		if b := o.token[i]; b < 0x20 || b > 0x7e {
			return fmt.Errorf("client: the bearer token holds %q at byte offset %d: gRPC sends only printable ASCII in a header (a trailing newline from a file?)", o.token[i:i+1], i)
		}
	}
	for i := 0; i < len(o.userAgent); i++ {
		if b := o.userAgent[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return fmt.Errorf("client: the user agent holds %q at byte offset %d: a control character cannot be sent in a header", o.userAgent[i:i+1], i)
		}
	}
	return nil
}

// listScheme is the resolver scheme of a comma-separated list of addresses;
// the resolver is private to each Client (grpc.WithResolvers).
const listScheme = "doctagger-list"

// parseTarget turns a target into a gRPC target and, for a list, its addresses.
func parseTarget(target string) (string, []string, error) {
	if strings.Contains(target, "://") {
		return target, nil, nil
	}
	parts := strings.Split(target, ",")
	var addrs []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		host, port, err := net.SplitHostPort(p)
		if err != nil {
			return "", nil, fmt.Errorf("client: address %q: want host:port (%v)", p, err)
		}
		if host == "" {
			host = "localhost"
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", nil, fmt.Errorf("client: address %q: bad port %q", p, port)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	switch len(addrs) {
	case 0:
		return "", nil, fmt.Errorf("client: no address in target %q", target)
	case 1:
		// One name: resolve it with DNS and balance over all its addresses.
		return "dns:///" + addrs[0], nil, nil
	}
	return listScheme + ":///" + strings.Join(addrs, ","), addrs, nil
}

func (o *options) transportCredentials() (credentials.TransportCredentials, error) {
	c, err := o.tlsClientConfig()
	if c == nil || err != nil {
		return nil, err
	}
	return credentials.NewTLS(c), nil
}

// tlsClientConfig is the TLS configuration of WithTLS or WithTLSConfig, or
// nil for plaintext; the gRPC and the REST clients share it.
func (o *options) tlsClientConfig() (*tls.Config, error) {
	if o.tlsConfig != nil {
		return o.tlsConfig.Clone(), nil
	}
	if o.tls == nil {
		return nil, nil
	}
	t := o.tls
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client: reading the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: no PEM certificate in the CA file %s", t.CAFile)
		}
		c.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, ErrCertWithoutKey
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client: loading the client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// ErrCertWithoutKey is New's error when TLS has a CertFile without a
// KeyFile or the other way round.
var ErrCertWithoutKey = errors.New("client: a client certificate needs both a certificate and a key file")

// ErrTokenNeedsTLS is New's (and NewREST's) error for a bearer token on a
// plaintext connection without WithTokenOverPlaintext.
var ErrTokenNeedsTLS = errors.New("client: a bearer token needs TLS (WithTLS; an https:// URL over REST); use WithTokenOverPlaintext to send it in the clear")

// serviceConfig is round_robin plus, unless turned off, the retry policy.
func (o *options) serviceConfig() (string, error) {
	const lb = `"loadBalancingConfig": [{"round_robin": {}}]`
	if o.noRetry {
		return "{" + lb + "}", nil
	}
	p := o.retry
	if p.MaxAttempts < 2 || p.InitialBackoff <= 0 || p.MaxBackoff < p.InitialBackoff || p.Multiplier <= 0 {
		return "", fmt.Errorf("client: invalid retry policy %+v: want MaxAttempts >= 2, 0 < InitialBackoff <= MaxBackoff, Multiplier > 0", p)
	}
	return fmt.Sprintf(`{%s, "methodConfig": [{"name": [{"service": %q}], "retryPolicy": {`+
		`"maxAttempts": %d, "initialBackoff": "%gs", "maxBackoff": "%gs", "backoffMultiplier": %g, `+
		`"retryableStatusCodes": ["UNAVAILABLE"]}}]}`,
		lb, serviceName, p.MaxAttempts, p.InitialBackoff.Seconds(), p.MaxBackoff.Seconds(), p.Multiplier), nil
}

// bearer is the per-call bearer token.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// refreshBuilder wraps a resolver (DNS) so that it re-resolves periodically.
type refreshBuilder struct {
	resolver.Builder
	every time.Duration
}

func (b refreshBuilder) Build(t resolver.Target, cc resolver.ClientConn, opts resolver.BuildOptions) (resolver.Resolver, error) {
	r, err := b.Builder.Build(t, cc, opts)
	if err != nil {
		return nil, err
	}
	rr := &refreshing{Resolver: r, stop: make(chan struct{})}
	go func() {
		tick := time.NewTicker(b.every)
		defer tick.Stop()
		for {
			select {
			case <-rr.stop:
				return
			case <-tick.C:
				r.ResolveNow(resolver.ResolveNowOptions{})
			}
		}
	}()
	return rr, nil
}

type refreshing struct {
	resolver.Resolver
	stop chan struct{}
	once sync.Once
}

func (r *refreshing) Close() {
	r.once.Do(func() { close(r.stop) })
	r.Resolver.Close()
}

// Close closes the connections.
func (c *Client) Close() error { return c.conn.Close() }

// Target is the target the client was created with.
func (c *Client) Target() string { return c.target }

// Conn is the underlying connection, for other services on the same server
// (health, reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// RPC is the generated client stub, for calls the helpers do not cover.
func (c *Client) RPC() pb.TaggerServiceClient { return c.rpc }

// callCtx applies the per-call timeout unless ctx ends earlier.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

// Tag tags one document. opts may be nil (all themes, with evidence); the
// document's own Options, when set, take their place. When the text, the
// id or the language is not valid UTF-8 (the request cannot be encoded),
// it fails with INVALID_ARGUMENT naming the field (and the byte offset),
// reason INVALID_UTF8 as from the server, before anything is sent; so does
// a theme name of the options that is not valid UTF-8.
func (c *Client) Tag(ctx context.Context, doc Document, opts *pb.TagOptions) (*pb.DocumentResult, error) {
	opts = doc.options(opts)
	if err := checkOptions(opts, ""); err != nil {
		return nil, err
	}
	document := func() string { return "document" }
	if st := doc.checkStrings(document, document); st != nil {
		return nil, st.Err()
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := c.rpc.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc.proto(), Options: opts})
	if err != nil {
		return nil, err
	}
	return resp.GetResult(), nil
}

// TagBatch tags documents and returns their results in the same order. A
// bad document fails alone: its result's Error is set. A document whose
// text, id or language is not valid UTF-8 (its request cannot be encoded)
// fails so without being sent, with INVALID_ARGUMENT naming its index, the
// field and, for the text, the byte offset (reason INVALID_UTF8, as the
// server fails it). When the batch is over what the server takes in one
// call (its batch limit, --max-batch-documents, 256 by default; or its
// message limit, --max-message-bytes), TagBatch splits it into calls the
// server takes, as the server's error says, and sends them one after the
// other; a document that alone is over the message limit gets an
// INVALID_ARGUMENT result error. Documents with Options of their own go in
// calls of their own, a run of consecutive documents with the same options
// per call. Results of different calls may come from different rulesets
// if the server reloads in between: each carries its version. Options the
// server refuses (an unknown theme) fail the call; so, before anything is
// sent, does a theme name of opts (or of a document's Options) that is not
// valid UTF-8 ("options.themes[1] is not valid UTF-8"). For a large or
// endless supply of documents, use TagStream.
func (c *Client) TagBatch(ctx context.Context, docs []Document, opts *pb.TagOptions) ([]*pb.DocumentResult, error) {
	if err := checkOptions(opts, ""); err != nil {
		return nil, err
	}
	for i, d := range docs {
		if d.Options != nil {
			if err := checkOptions(d.Options, fmt.Sprintf("document %d: ", i)); err != nil {
				return nil, err
			}
		}
	}
	if len(docs) == 0 {
		return c.tagBatch(ctx, nil, opts, 0) // the server says why not
	}
	out := make([]*pb.DocumentResult, len(docs))
	// One run of consecutive documents with the same options at a time,
	// skipping those failed here.
	var (
		runOpts *pb.TagOptions
		runAt   []int
		run     []*pb.Document
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		res, err := c.tagBatch(ctx, run, runOpts, 0)
		if err != nil {
			return err
		}
		for k, i := range runAt {
			out[i] = res[k]
		}
		runAt, run = nil, nil
		return nil
	}
	for i, d := range docs {
		if st := d.checkStrings(func() string { return fmt.Sprintf("document %d", i) }, func() string { return fmt.Sprintf("documents[%d]", i) }); st != nil {
			out[i] = failedResult(d, st)
			continue
		}
		if o := d.options(opts); o != runOpts {
			if err := flush(); err != nil {
				return nil, err
			}
			runOpts = o
		}
		runAt = append(runAt, i)
		run = append(run, d.proto())
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// maxBatchSplits bounds how often a batch is split again (replicas whose
// limits differ); each split makes progress, so this is only a backstop.
const maxBatchSplits = 8

func (c *Client) tagBatch(ctx context.Context, docs []*pb.Document, opts *pb.TagOptions, splits int) ([]*pb.DocumentResult, error) {
	req := &pb.BatchTagDocumentsRequest{Documents: docs, Options: opts}
	callCtx, cancel := c.callCtx(ctx)
	resp, err := c.rpc.BatchTagDocuments(callCtx, req)
	cancel()
	if err == nil {
		if len(resp.GetResults()) != len(docs) {
			return nil, fmt.Errorf("client: the server answered %d results for %d documents", len(resp.GetResults()), len(docs))
		}
		return resp.GetResults(), nil
	}
	if splits >= maxBatchSplits || ctx.Err() != nil {
		return nil, err
	}
	var parts []batchPart
	if limit, ok := batchLimit(err); ok && limit < len(docs) {
		for start := 0; start < len(docs); start += limit {
			parts = append(parts, batchPart{docs: docs[start:min(start+limit, len(docs))]})
		}
	} else if limit, ok := messageLimit(err); ok {
		if parts = splitBySize(docs, opts, limit); len(parts) == 1 && parts[0].failed == nil {
			return nil, err // it fits: something else was too large (the response?)
		}
	} else {
		return nil, err
	}
	var out []*pb.DocumentResult
	for _, part := range parts {
		if part.failed != nil {
			out = append(out, part.failed)
			continue
		}
		res, err := c.tagBatch(ctx, part.docs, opts, splits+1)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// batchPart is a piece of a split batch: documents to send, or the result
// of one document that cannot be sent.
type batchPart struct {
	docs   []*pb.Document
	failed *pb.DocumentResult
}

// batchLimit is the server's batch limit named by its BATCH_TOO_LARGE
// error.
func batchLimit(err error) (int, bool) {
	if status.Code(err) != codes.InvalidArgument || pb.ReasonOf(err) != pb.ErrorReason_BATCH_TOO_LARGE {
		return 0, false
	}
	n, perr := strconv.Atoi(pb.ErrorInfoOf(err).GetMetadata()[pb.MetaLimit])
	return n, perr == nil && n > 0
}

// splitBySize cuts docs, in order, into batches whose request is at most
// limit bytes; a document over the limit on its own becomes a failed part.
func splitBySize(docs []*pb.Document, opts *pb.TagOptions, limit int64) []batchPart {
	var parts []batchPart
	base := int64(proto.Size(&pb.BatchTagDocumentsRequest{Options: opts}))
	start, size := 0, base
	flush := func(end int) {
		if start < end {
			parts = append(parts, batchPart{docs: docs[start:end]})
		}
		start, size = end, base
	}
	for i, d := range docs {
		n := int64(protowire.SizeTag(1) + protowire.SizeBytes(proto.Size(d)))
		switch {
		case base+n > limit:
			flush(i)
			parts = append(parts, batchPart{failed: &pb.DocumentResult{DocumentId: d.GetId(), Error: status.New(codes.InvalidArgument,
				fmt.Sprintf("document %q is %d bytes as a batch request, over the message limit of %d bytes (taggerd --max-message-bytes, or the client's WithMaxMessageBytes)",
					d.GetId(), base+n, limit)).Proto()}})
			start = i + 1
			continue
		case size+n > limit:
			flush(i)
		}
		size += n
	}
	flush(len(docs))
	return parts
}

// ListThemes lists the themes of the ruleset the server has loaded.
func (c *Client) ListThemes(ctx context.Context) (*pb.ListThemesResponse, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	return c.rpc.ListThemes(ctx, &pb.ListThemesRequest{})
}

// GetRuleset describes the ruleset the server has loaded.
func (c *Client) GetRuleset(ctx context.Context) (*pb.Ruleset, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := c.rpc.GetRuleset(ctx, &pb.GetRulesetRequest{})
	if err != nil {
		return nil, err
	}
	return resp.GetRuleset(), nil
}
