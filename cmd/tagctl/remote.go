package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
)

func init() {
	register(command{name: "themes", summary: "list the themes of the ruleset the server has loaded", run: themesCmd})
	register(command{name: "ruleset", summary: "describe the ruleset the server has loaded (version, source, load time)", run: rulesetCmd})
}

// envPrefix names the environment twin of a connection flag: --addr is
// DOCTAGGER_ADDR. A flag given on the command line wins over its twin.
const envPrefix = "DOCTAGGER_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookupEnv is os.LookupEnv; tests replace it.
var lookupEnv = os.LookupEnv

// remote holds the connection flags shared by the remote commands.
type remote struct {
	addr           string
	rest           string
	tls            bool
	ca             string
	cert, key      string
	serverName     string
	token          string
	tokenFile      string
	tokenPlaintext bool
	timeout        time.Duration
	gzip           bool
}

// connFlags are the flags with an environment twin.
var connFlags = map[string]bool{}

func (r *remote) register(fs *flag.FlagSet) {
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
		connFlags[name] = true
	}
	str(&r.addr, "addr", "localhost:9090", "gRPC target: host:port (every address the name resolves to), a comma-separated list host:port,host:port, or dns:///host:port")
	str(&r.rest, "rest", "", "use the REST mirror at this base URL (http://host:8080) instead of gRPC")
	fs.BoolVar(&r.tls, "tls", false, "use TLS with the system's root CAs (implied by --ca and --cert) (env "+envName("tls")+")")
	connFlags["tls"] = true
	str(&r.ca, "ca", "", "PEM file of the CA certificates that signed the server's certificate; enables TLS")
	str(&r.cert, "cert", "", "PEM client certificate for mutual TLS; enables TLS")
	str(&r.key, "key", "", "PEM private key of --cert")
	str(&r.serverName, "server-name", "", "name to check in the server's certificate (default: the host of each address)")
	str(&r.token, "token", "", "bearer token (prefer the environment variable or --token-file: flags show in ps)")
	str(&r.tokenFile, "token-file", "", "file holding the bearer token")
	fs.BoolVar(&r.tokenPlaintext, "token-plaintext", false, "send the token without TLS (loopback, or a mesh that encrypts) (env "+envName("token-plaintext")+")")
	connFlags["token-plaintext"] = true
	fs.BoolVar(&r.gzip, "gzip", false, "compress calls with gzip (gRPC calls; with --rest, the request bodies): for a service far away or behind a slow link (news articles shrink about 2.3x), at a CPU cost on both sides (env "+envName("gzip")+")")
	connFlags["gzip"] = true
	fs.DurationVar(&r.timeout, "timeout", 30*time.Second, "timeout of each call; in tag, how long a stream may hold documents without answering before they go to another replica (env "+envName("timeout")+")")
	connFlags["timeout"] = true
}

// parseWithEnv sets the connection flags from their environment twins, then
// parses the command line (which wins).
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if !connFlags[f.Name] {
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok && v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return parse(fs, args)
}

func (r *remote) bearer() (string, error) {
	if r.tokenFile == "" {
		return strings.TrimSpace(r.token), nil
	}
	data, err := os.ReadFile(r.tokenFile)
	if err != nil {
		return "", fmt.Errorf("reading the token file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("the token file %s is empty", r.tokenFile)
	}
	return tok, nil
}

func (r *remote) useTLS() bool { return r.tls || r.ca != "" || r.cert != "" }

// client connects over gRPC.
func (r *remote) client() (*client.Client, error) {
	opts := []client.Option{client.WithTimeout(r.timeout), client.WithUserAgent("tagctl")}
	if r.useTLS() {
		opts = append(opts, client.WithTLS(client.TLS{CAFile: r.ca, CertFile: r.cert, KeyFile: r.key, ServerName: r.serverName}))
	}
	if r.gzip {
		opts = append(opts, client.WithGzip())
	}
	tok, err := r.bearer()
	if err != nil {
		return nil, err
	}
	if tok != "" {
		if !r.useTLS() && !r.tokenPlaintext {
			// Said here with the flags: the client's error names its options.
			return nil, errors.New("a bearer token needs TLS (--tls, --ca or --cert); use --token-plaintext to send it in the clear")
		}
		opts = append(opts, client.WithBearerToken(tok))
		if r.tokenPlaintext {
			opts = append(opts, client.WithTokenOverPlaintext())
		}
	}
	return client.New(r.addr, opts...)
}

// httpClient is the REST client: TLS as configured, the bearer token added
// to every request.
func (r *remote) httpClient() (*restClient, error) {
	base := strings.TrimRight(r.rest, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("--rest %q: want an http:// or https:// URL", r.rest)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if r.useTLS() || strings.HasPrefix(base, "https://") {
		c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: r.serverName}
		if r.ca != "" {
			pemData, err := os.ReadFile(r.ca)
			if err != nil {
				return nil, fmt.Errorf("reading the CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemData) {
				return nil, fmt.Errorf("no PEM certificate in the CA file %s", r.ca)
			}
			c.RootCAs = pool
		}
		if r.cert != "" {
			cert, err := tls.LoadX509KeyPair(r.cert, r.key)
			if err != nil {
				return nil, fmt.Errorf("loading the client certificate: %w", err)
			}
			c.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = c
	}
	tok, err := r.bearer()
	if err != nil {
		return nil, err
	}
	if tok != "" && strings.HasPrefix(base, "http://") && !r.tokenPlaintext {
		return nil, errors.New("a bearer token needs an https:// URL; use --token-plaintext to send it in the clear")
	}
	return &restClient{base: base, token: tok, http: &http.Client{Transport: tr}, timeout: r.timeout, gzip: r.gzip}, nil
}

// restClient calls the REST mirror.
type restClient struct {
	base    string
	token   string
	http    *http.Client
	timeout time.Duration
	// gzip sends request bodies gzip-compressed (answers come compressed
	// anyway: Go's HTTP client asks for it and decodes them).
	gzip bool
}

// close closes the client's idle keep-alive connections when a command
// ends (tagctl's commands also run in-process, in tests).
func (c *restClient) close() { c.http.CloseIdleConnections() }

func (c *restClient) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "tagctl")
	return req, nil
}

// get calls a unary GET route and decodes the answer into out.
func (c *restClient) get(ctx context.Context, path string, out proto.Message) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return httpStatusError(resp.StatusCode, data)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, out)
}

// httpStatusError turns an error answer, a JSON google.rpc.Status (or, from
// the NDJSON stream, an {"error": Status} line), into a gRPC status error
// with its details.
func httpStatusError(code int, body []byte) error {
	var line struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &line) == nil && len(line.Error) > 0 {
		body = line.Error
	}
	st := new(statusProto)
	if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, st) != nil || st.GetMessage() == "" {
		// Details of types tagctl does not know, or not a status at all.
		var plain struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &plain) != nil || plain.Message == "" {
			msg := strings.TrimSpace(string(body))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			return status.Errorf(codeFromHTTP(code), "HTTP %d: %s", code, msg)
		}
		st = &statusProto{Code: plain.Code, Message: plain.Message}
	}
	st.Message = fmt.Sprintf("HTTP %d: %s", code, st.GetMessage())
	return status.ErrorProto(st)
}

func themesCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("themes", "", stderr)
	var r remote
	r.register(fs)
	format := fs.String("format", "table", "output: table, or json (as GET /v1/themes answers: {\"themes\": [...], \"rulesetVersion\": ...})")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "tagctl themes: --format %q: want table or json\n", *format)
		return errUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	ctx := context.Background()
	resp := new(pb.ListThemesResponse)
	if r.rest != "" {
		c, err := r.httpClient()
		if err != nil {
			return err
		}
		defer c.close()
		if err := c.get(ctx, "/v1/themes", resp); err != nil {
			return err
		}
	} else {
		c, err := r.client()
		if err != nil {
			return err
		}
		defer c.Close()
		if resp, err = c.ListThemes(ctx); err != nil {
			return err
		}
	}
	if *format == "json" {
		return writeProtoJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "ruleset %s\n", resp.GetRulesetVersion())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "THEME\tTHRESHOLD\tTERMS\tEXCLUSIONS\tLABEL")
	for _, th := range resp.GetThemes() {
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%s / %s\n", th.GetId(), th.GetThreshold(), th.GetTermCount(), th.GetExclusionCount(), th.GetLabelVi(), th.GetLabelEn())
	}
	return tw.Flush()
}

func rulesetCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ruleset", "", stderr)
	var r remote
	r.register(fs)
	format := fs.String("format", "text", "output: text, or json (as GET /v1/ruleset answers: {\"ruleset\": {...}})")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "tagctl ruleset: --format %q: want text or json\n", *format)
		return errUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	ctx := context.Background()
	var rs *pb.Ruleset
	if r.rest != "" {
		c, err := r.httpClient()
		if err != nil {
			return err
		}
		defer c.close()
		resp := new(pb.GetRulesetResponse)
		if err := c.get(ctx, "/v1/ruleset", resp); err != nil {
			return err
		}
		rs = resp.GetRuleset()
	} else {
		c, err := r.client()
		if err != nil {
			return err
		}
		defer c.Close()
		if rs, err = c.GetRuleset(ctx); err != nil {
			return err
		}
	}
	if *format == "json" {
		// As GET /v1/ruleset answers.
		return writeProtoJSON(stdout, &pb.GetRulesetResponse{Ruleset: rs})
	}
	fmt.Fprintf(stdout, "name        %s\nversion     %s\nsource      %s\nloaded      %s\nthemes      %d\nterms       %d\nexclusions  %d\n",
		rs.GetName(), rs.GetVersion(), rs.GetSource(), rs.GetLoadTime().AsTime().Local().Format(time.RFC3339),
		rs.GetThemeCount(), rs.GetTermCount(), rs.GetExclusionCount())
	return nil
}

// writeProtoJSON writes m in the API's JSON as the REST mirror does
// (lowerCamelCase, zero values written out), indented.
func writeProtoJSON(w io.Writer, m proto.Message) error {
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitDefaultValues: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
