// Package servertest starts real Coffer nodes for tests: the same assembly as production,
// listening on a free loopback port, on SQLite or on a throwaway PostgreSQL database, with the
// node's logs captured so tests can scan them for leaked secrets.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// Dialects lists the databases every end-to-end test runs against.
var Dialects = []string{store.SQLite, store.Postgres}

// ForEachDialect runs f as a subtest per dialect.
func ForEachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// Node is a running Coffer node.
type Node struct {
	URL     string
	Dialect string
	DSN     string
	Server  *server.Server
	logs    *syncBuffer
	opt     server.Options
}

// Start starts a node on a fresh database of the dialect; it stops in t.Cleanup.
func Start(t testing.TB, dialect string) *Node {
	t.Helper()
	return StartWith(t, dialect, nil)
}

// StartWith is Start with the configuration changed by configure (when not nil) before the
// node starts.
func StartWith(t testing.TB, dialect string, configure func(*config.Config)) *Node {
	t.Helper()
	return StartOptions(t, dialect, configure, server.Options{})
}

// StartOptions is StartWith with the server's test options (a clock). Peers started from the
// node get the same options.
func StartOptions(t testing.TB, dialect string, configure func(*config.Config), opt server.Options) *Node {
	t.Helper()
	// Production's defaults (every setting's table default), then what a test node needs.
	cfg, err := config.Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.LogLevel, cfg.MaxBodyBytes, cfg.ShutdownTimeout, cfg.DataDir = "127.0.0.1:0", "debug", 1<<20, 5*time.Second, t.TempDir()
	cfg.ShutdownDrain = 0  // tests of draining set it through StartWith
	cfg.KeyRetireDelay = 0 // rotated keys are destroyed as soon as their data is re-encrypted
	// Every test signs in from 127.0.0.1, many times a minute: no per-IP limit, except in the
	// tests of the limits, which set it (lockout stays on: no test fails 5 times in a row).
	cfg.RateLimitLoginPerIP, cfg.RateLimitMachineLoginPerIP = 0, 0
	k, err := keyring.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootKey = keyring.EncodeRootKey(k)
	cfg.AuthSecret = "test-auth-secret-" + strings.Repeat("x", 32)
	switch dialect {
	case store.SQLite:
		cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "coffer.db")
	case store.Postgres:
		cfg.DatabaseURL = testenv.PostgresURL(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	if configure != nil {
		configure(cfg)
	}
	return startConfig(t, dialect, cfg, opt)
}

// StartPeer starts another node on n's database, with n's keys: a second task of the same
// deployment. It stops in t.Cleanup.
func (n *Node) StartPeer(t testing.TB) *Node {
	t.Helper()
	cfg := *n.Server.Config
	return startConfig(t, n.Dialect, &cfg, n.opt)
}

func startConfig(t testing.TB, dialect string, cfg *config.Config, opt server.Options) *Node {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log, opt)
	if err != nil {
		cancel()
		t.Fatalf("start node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	_, dsn := cfg.DatabaseDSN()
	n := &Node{URL: "http://" + ln.Addr().String(), Dialect: dialect, DSN: dsn, Server: srv, logs: logs, opt: opt}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with error: %v", err)
		}
		srv.Close()
	})
	return n
}

// Logs returns everything the node has logged so far.
func (n *Node) Logs() string { return n.logs.String() }

// Client returns an API client for the node with a token (may be empty).
func (n *Node) Client(token string) *client.Client {
	return client.New(n.URL, client.WithToken(token))
}

// Admin is what Bootstrap returns: the first user and an organization admin token.
type Admin struct {
	Email, Password, UserID, OrgID, IdentityID, Token string
}

// Bootstrap sets the node up with a first admin user and organization.
func (n *Node) Bootstrap(t testing.TB) *Admin {
	t.Helper()
	a := &Admin{Email: "admin@example.com", Password: "correct horse battery staple"}
	res, err := n.Client("").Bootstrap(context.Background(), a.Email, a.Password, "Acme")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	a.UserID, a.OrgID, a.IdentityID, a.Token = res.User.ID, res.Organization.ID, res.Identity.ID, res.Identity.Credentials.Token
	return a
}

// Response is a raw HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a raw request. body may be nil, a string/[]byte sent as is, or a value encoded as
// JSON. headers are name, value pairs.
func (n *Node) Do(t testing.TB, method, path, token string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
