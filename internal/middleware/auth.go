package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// Anonymous is the caller of every call when authentication is off.
const Anonymous = "anonymous"

// Token is an accepted bearer token and the name of its caller.
type Token struct {
	Name  string
	Token string
}

// Auth checks bearer tokens and names the caller. With no tokens
// configured it lets everything through, as the caller Anonymous.
type Auth struct {
	tokens     atomic.Pointer[[]tokenHash]
	openHealth bool
}

type tokenHash struct {
	hash [32]byte
	name string
}

// SetTokens replaces the accepted tokens (a reload).
func (a *Auth) SetTokens(tokens []Token) {
	h := make([]tokenHash, len(tokens))
	for i, t := range tokens {
		h[i] = tokenHash{hash: sha256.Sum256([]byte(t.Token)), name: t.Name}
	}
	a.tokens.Store(&h)
}

func (a *Auth) Enabled() bool {
	h := a.tokens.Load()
	return h != nil && len(*h) > 0
}

// Check reports whether the Authorization value carries an accepted token.
func (a *Auth) Check(authorization string) error {
	_, err := a.Caller(authorization)
	return err
}

// Caller is the name of the caller whose token the Authorization value
// carries (Anonymous when authentication is off), or the error refusing it.
func (a *Auth) Caller(authorization string) (string, error) {
	h := a.tokens.Load()
	if h == nil || len(*h) == 0 {
		return Anonymous, nil
	}
	if authorization == "" {
		return "", unauthenticated(pb.ErrorReason_MISSING_TOKEN, "missing bearer token: send the header \"authorization: Bearer <token>\"")
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", unauthenticated(pb.ErrorReason_INVALID_TOKEN, "malformed authorization header: want \"Bearer <token>\"")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	// Every token is compared, in constant time, whichever matches.
	found := -1
	for i, want := range *h {
		if subtle.ConstantTimeCompare(got[:], want.hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", unauthenticated(pb.ErrorReason_INVALID_TOKEN, "invalid bearer token")
	}
	return (*h)[found].name, nil
}

func unauthenticated(reason pb.ErrorReason, msg string) error {
	return pb.NewStatus(codes.Unauthenticated, reason, "", msg, nil).Err()
}

func (a *Auth) open(method string) bool {
	return a.openHealth && (strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection."))
}

// authenticate is the go-grpc-middleware auth function: it checks the
// call's token (again: the tap or the REST side checked it before the
// message was read) and notes its caller on the call.
func (a *Auth) authenticate(ctx context.Context) (context.Context, error) {
	method, _ := grpc.Method(ctx)
	name, err := a.checkContext(ctx, method)
	if err != nil {
		return nil, err
	}
	CallOf(ctx).setCaller(name)
	return ctx, nil
}

// checkContext is the caller of a call from its metadata.
func (a *Auth) checkContext(ctx context.Context, method string) (string, error) {
	return a.callerOf(method, metadata.ValueFromIncomingContext(ctx, "authorization"))
}

// Tap refuses a call without an accepted token from its headers alone.
func (a *Auth) Tap(info *tap.Info) error {
	_, err := a.callerOf(info.FullMethodName, info.Header.Get("authorization"))
	return err
}

// callerOf is the caller of a call to method whose authorization metadata
// holds values (the first counts): Anonymous when authentication is off or
// the method is open.
func (a *Auth) callerOf(method string, values []string) (string, error) {
	if !a.Enabled() || a.open(method) {
		return Anonymous, nil
	}
	var value string
	if len(values) > 0 {
		value = values[0]
	}
	return a.Caller(value)
}

// Unary is go-grpc-middleware's auth interceptor with Auth's check.
func (a *Auth) Unary() grpc.UnaryServerInterceptor {
	return auth.UnaryServerInterceptor(a.authenticate)
}

// Stream is go-grpc-middleware's auth interceptor with Auth's check.
func (a *Auth) Stream() grpc.StreamServerInterceptor {
	return auth.StreamServerInterceptor(a.authenticate)
}

// NewAuth is an Auth that accepts no token until SetTokens; with
// openHealth, health checks and reflection need none.
func NewAuth(openHealth bool) *Auth { return &Auth{openHealth: openHealth} }

// callerName is what a caller's name may be: it is a metric label and a
// log field.
var callerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseToken reads one token entry: "name: token" names its caller, a
// plain "token" is the caller "token-N" (n, from 1, is its place among the
// tokens). A bearer token holds no space, so ": " cannot be part of one.
func ParseToken(entry string, n int) (Token, error) {
	entry = strings.TrimSpace(entry)
	// "name:" (its blanks trimmed, here or by the caller): a caller whose
	// token was left out, not the token "name:".
	if name, ok := strings.CutSuffix(entry, ":"); ok && callerName.MatchString(name) {
		return Token{}, fmt.Errorf("caller %s has an empty token", name)
	}
	if i := strings.Index(entry, ":"); i >= 0 && i+1 < len(entry) && (entry[i+1] == ' ' || entry[i+1] == '\t') {
		name, tok := strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
		if !callerName.MatchString(name) {
			return Token{}, fmt.Errorf("caller name %q: want letters, digits, '.', '_' or '-' (at most 64)", name)
		}
		return Token{Name: name, Token: tok}, nil
	}
	return Token{Name: fmt.Sprintf("token-%d", n), Token: entry}, nil
}

// ReadTokens reads a token file: one token a line, "name: token" to name
// its caller (the same name on several lines: one caller with several
// tokens, say while one is rotated); blank lines and lines starting with
// '#' ignored.
func ReadTokens(path string) ([]Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	var tokens []Token
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := ParseToken(line, len(tokens)+1)
		if err != nil {
			return nil, fmt.Errorf("token file %s line %d: %w", path, i+1, err)
		}
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("token file %s has no token", path)
	}
	return tokens, nil
}
