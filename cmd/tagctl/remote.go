package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/internal/envflag"
)

// tagService is what the commands need of a doctagger service: the gRPC
// client, the REST client (client.REST) or the engine in process (local).
type tagService interface {
	TagStream(ctx context.Context, docs iter.Seq[client.Document], o client.StreamOptions) iter.Seq[client.Result]
	ListThemes(ctx context.Context) (*pb.ListThemesResponse, error)
	GetRuleset(ctx context.Context) (*pb.Ruleset, error)
	Close() error
}

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
	// In process instead (tag, themes, ruleset): --local, or --rules.
	local bool
	rules string
}

// connFlagNames are the flags with an environment twin (envflag.Name:
// --addr is DOCTAGGER_ADDR).
var connFlagNames = map[string]bool{
	"addr": true, "rest": true, "tls": true, "ca": true, "cert": true, "key": true, "server-name": true,
	"token": true, "token-file": true, "token-plaintext": true, "timeout": true, "gzip": true, "shard": true,
}

func isConnFlag(name string) bool { return connFlagNames[name] }

// flagDefiner is what flag.FlagSet and pflag.FlagSet have in common.
type flagDefiner interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}

// register defines the connection flags on fs (a cobra command's flags,
// or a flag.FlagSet of a registered command).
func (r *remote) register(fs flagDefiner) {
	env := func(name string) string { return " (env " + envflag.Name(name) + ")" }
	fs.StringVar(&r.addr, "addr", "localhost:9090", "gRPC target: host:port (every address the name resolves to), a comma-separated list host:port,host:port, or dns:///host:port"+env("addr"))
	fs.StringVar(&r.rest, "rest", "", "use the REST mirror at this base URL (http://host:8080) instead of gRPC"+env("rest"))
	fs.BoolVar(&r.tls, "tls", false, "use TLS with the system's root CAs (implied by --ca and --cert)"+env("tls"))
	fs.StringVar(&r.ca, "ca", "", "PEM file of the CA certificates that signed the server's certificate; enables TLS"+env("ca"))
	fs.StringVar(&r.cert, "cert", "", "PEM client certificate for mutual TLS (with --key); enables TLS"+env("cert"))
	fs.StringVar(&r.key, "key", "", "PEM private key of --cert"+env("key"))
	fs.StringVar(&r.serverName, "server-name", "", "name to check in the server's certificate (default: the host of each address)"+env("server-name"))
	fs.StringVar(&r.token, "token", "", "bearer token (prefer the environment variable or --token-file: flags show in ps)"+env("token"))
	fs.StringVar(&r.tokenFile, "token-file", "", "file holding the bearer token"+env("token-file"))
	fs.BoolVar(&r.tokenPlaintext, "token-plaintext", false, "send the token without TLS (loopback, or a mesh that encrypts)"+env("token-plaintext"))
	fs.BoolVar(&r.gzip, "gzip", false, "compress calls with gzip (gRPC calls; with --rest, the request bodies): for a service far away or behind a slow link (news articles shrink about 2.3x), at a CPU cost on both sides"+env("gzip"))
	fs.DurationVar(&r.timeout, "timeout", 30*time.Second, "timeout of each call; in tag, how long a stream may hold documents without answering before they go to another replica"+env("timeout"))
}

// registerLocal adds --local and --rules.
func (r *remote) registerLocal(fs flagDefiner) {
	fs.BoolVar(&r.local, "local", false, "no server: run the tagging engine in this process, on the embedded default rules (or --rules)")
	fs.StringVar(&r.rules, "rules", "", "ruleset file (YAML) for the engine in process; implies --local")
}

// applyEnv sets the connection flags not given from their twins.
func applyEnv(cmd *cobra.Command) error {
	if err := envflag.Apply(envflag.Pflag(cmd.Flags()), lookupEnv, envflag.Options{Only: isConnFlag, SkipEmpty: true}); err != nil {
		return flagError{err}
	}
	return nil
}

func (r *remote) bearer() (string, error) {
	if r.tokenFile == "" {
		return strings.TrimSpace(r.token), nil
	}
	data, err := os.ReadFile(r.tokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("--token-file: the token file %s is empty", r.tokenFile)
	}
	return tok, nil
}

func (r *remote) useTLS() bool {
	return r.tls || r.ca != "" || r.cert != "" || strings.HasPrefix(r.rest, "https://")
}

func (r *remote) isLocal() bool { return r.local || r.rules != "" }

// open connects to the service as the flags say: in process, over REST or
// over gRPC. Errors name the flags to change.
func (r *remote) open() (tagService, error) {
	if r.isLocal() {
		if r.rest != "" {
			return nil, flagError{errors.New("--local (or --rules) runs the engine in process: it takes no --rest")}
		}
		return newLocal(r.rules)
	}
	if (r.cert == "") != (r.key == "") {
		return nil, flagError{errors.New("a client certificate needs both --cert and --key")}
	}
	tok, err := r.bearer()
	if err != nil {
		return nil, err
	}
	opts := []client.Option{client.WithTimeout(r.timeout), client.WithUserAgent("tagctl")}
	if r.useTLS() {
		opts = append(opts, client.WithTLS(client.TLS{CAFile: r.ca, CertFile: r.cert, KeyFile: r.key, ServerName: r.serverName}))
	}
	if r.gzip {
		opts = append(opts, client.WithGzip())
	}
	if tok != "" {
		opts = append(opts, client.WithBearerToken(tok))
		if r.tokenPlaintext {
			opts = append(opts, client.WithTokenOverPlaintext())
		}
	}
	var s tagService
	if r.rest != "" {
		s, err = client.NewREST(r.rest, opts...)
		if err != nil && strings.Contains(err.Error(), "http:// or https://") {
			err = fmt.Errorf("--rest %q: want an http:// or https:// URL", r.rest)
		}
	} else {
		s, err = client.New(r.addr, opts...)
	}
	switch {
	case errors.Is(err, client.ErrTokenNeedsTLS) && r.rest != "":
		// Said with the flags: the client's error names its options.
		return nil, errors.New("a bearer token needs an https:// URL; use --token-plaintext to send it in the clear")
	case errors.Is(err, client.ErrTokenNeedsTLS):
		return nil, errors.New("a bearer token needs TLS (--tls, --ca or --cert); use --token-plaintext to send it in the clear")
	case err != nil:
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "client: "))
	}
	return s, nil
}

// hint says which flag fixes a connection error, or "": a plaintext
// client at a TLS server, a TLS client at a plaintext one, a server that
// wants a client certificate, a certificate this machine does not trust.
func (r *remote) hint(err error) string {
	if err == nil || r.isLocal() {
		return ""
	}
	msg := err.Error()
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case !r.useTLS() && has("server preface", "HTTP request to an HTTPS server", "malformed HTTP response"):
		if r.rest != "" {
			return "the server speaks TLS: use an https:// URL with --rest (and --ca if a private CA signed its certificate)"
		}
		return "the server speaks TLS: add --tls (and --ca FILE if a private CA signed its certificate)"
	case r.useTLS() && has("first record does not look like a TLS handshake", "server gave HTTP response"):
		if r.rest != "" {
			return "the server does not speak TLS: use an http:// URL with --rest"
		}
		return "the server does not speak TLS: drop --tls, --ca and --cert"
	case r.useTLS() && r.cert == "" && has("certificate required", "bad certificate", "broken pipe", "connection reset by peer", "handshake failure"):
		return "the server wants a client certificate: add --cert and --key"
	case r.useTLS() && has("certificate signed by unknown authority"):
		return "the server's certificate is signed by a CA this machine does not trust: add --ca FILE (the CA's certificate, PEM)"
	case r.useTLS() && has("certificate is valid for", "certificate is not valid for"):
		return "the server's certificate names another host: add --server-name with a name it holds"
	}
	return ""
}

// withHint puts the hint for err, when there is one, before it.
func (r *remote) withHint(err error) error {
	if h := r.hint(err); h != "" {
		return fmt.Errorf("%s\n  (%w)", h, err)
	}
	return err
}

func themesCommand(stdout, _ io.Writer) *cobra.Command {
	var (
		r      remote
		format string
	)
	cmd := &cobra.Command{
		Use:   "themes",
		Short: "list the themes of the ruleset the server has loaded (or --local's)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if format != "table" && format != "json" {
				return flagError{fmt.Errorf("--format %q: want table or json", format)}
			}
			s, err := r.open()
			if err != nil {
				return err
			}
			defer s.Close()
			resp, err := s.ListThemes(context.Background())
			if err != nil {
				return r.withHint(err)
			}
			if format == "json" {
				return writeProtoJSON(stdout, resp)
			}
			fmt.Fprintf(stdout, "ruleset %s\n", resp.GetRulesetVersion())
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "THEME\tTHRESHOLD\tTERMS\tEXCLUSIONS\tLABEL")
			for _, th := range resp.GetThemes() {
				fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%s / %s\n", th.GetId(), th.GetThreshold(), th.GetTermCount(), th.GetExclusionCount(), th.GetLabelVi(), th.GetLabelEn())
			}
			return tw.Flush()
		},
	}
	r.register(cmd.Flags())
	r.registerLocal(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", `output: table, or json (as GET /v1/themes answers: {"themes": [...], "rulesetVersion": ...})`)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func rulesetCommand(stdout, _ io.Writer) *cobra.Command {
	var (
		r      remote
		format string
	)
	cmd := &cobra.Command{
		Use:   "ruleset",
		Short: "describe the ruleset the server has loaded (version, source, load time)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if format != "text" && format != "json" {
				return flagError{fmt.Errorf("--format %q: want text or json", format)}
			}
			s, err := r.open()
			if err != nil {
				return err
			}
			defer s.Close()
			rs, err := s.GetRuleset(context.Background())
			if err != nil {
				return r.withHint(err)
			}
			if format == "json" {
				// As GET /v1/ruleset answers.
				return writeProtoJSON(stdout, &pb.GetRulesetResponse{Ruleset: rs})
			}
			fmt.Fprintf(stdout, "name        %s\nversion     %s\nsource      %s\nloaded      %s\nthemes      %d\nterms       %d\nexclusions  %d\n",
				rs.GetName(), rs.GetVersion(), rs.GetSource(), rs.GetLoadTime().AsTime().Local().Format(time.RFC3339),
				rs.GetThemeCount(), rs.GetTermCount(), rs.GetExclusionCount())
			return nil
		},
	}
	r.register(cmd.Flags())
	r.registerLocal(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "text", `output: text, or json (as GET /v1/ruleset answers: {"ruleset": {...}})`)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
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
