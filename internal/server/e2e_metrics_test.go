package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestMetricsEndpoint: /metrics on the main listener shows requests by route pattern, the job
// worker's metrics and the Go runtime's, and never a path, id, name or token.
func TestMetricsEndpoint(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		var proj struct{ Project struct{ ID string } }
		n.Do(t, "POST", "/api/v2/workspace", admin.Token, map[string]string{"projectName": "metrics-web"}).JSON(t, &proj)
		id := proj.Project.ID
		if r := n.Do(t, "GET", "/api/v4/secrets/NAME_OF_A_SECRET_41?projectId="+id+"&environment=dev", admin.Token, nil); r.Status != 404 {
			t.Fatalf("get a missing secret: %d", r.Status)
		}
		if r := n.Do(t, "GET", "/api/v4/secrets/NAME_OF_A_SECRET_41?projectId="+id, "not-a-token-but-a-canary", nil); r.Status != 401 {
			t.Fatalf("bad token: %d", r.Status)
		}
		if r := n.Do(t, "GET", "/no/route/"+id, "", nil); r.Status != 404 {
			t.Fatalf("unrouted: %d", r.Status)
		}
		var body string
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := n.Do(t, "GET", "/metrics", "", nil)
			if r.Status != 200 {
				t.Fatalf("/metrics: %d %s", r.Status, r.Body)
			}
			body = string(r.Body)
			if strings.Contains(body, `coffer_jobs_schedule_runs_total{result="ok",schedule="prune"} 1`) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, want := range []string{
			`coffer_http_requests_total{code="2xx",route="POST /api/v2/workspace"} 1`,
			`coffer_http_requests_total{code="4xx",route="GET /api/v4/secrets/{name}"} 2`,
			`coffer_http_requests_total{code="4xx",route="/"} 1`, // the catch-all 404 route
			`coffer_http_request_duration_seconds_bucket{route="GET /api/v4/secrets/{name}",le="+Inf"} 2`,
			`coffer_jobs_schedule_runs_total{result="ok",schedule="prune"} 1`,
			"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_cpu_seconds_total ",
			`coffer_db_connections{pool="primary",state="in_use"} `, `coffer_db_waits_total{pool="primary"} `,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, leak := range []string{id, "NAME_OF_A_SECRET_41", "not-a-token-but-a-canary", admin.Token, "/no/route"} {
			if strings.Contains(body, leak) {
				t.Errorf("/metrics contains %q", leak)
			}
		}
	})
}

// TestMetricsListen: with COFFER_METRICS_LISTEN, /metrics is served there and not on the main
// listener.
func TestMetricsListen(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	k, _ := keyring.GenerateKey()
	cfg := &config.Config{DataDir: t.TempDir(), AuthSecret: strings.Repeat("s", 40), MaxBodyBytes: 1 << 20,
		ShutdownTimeout: time.Second, RootKey: keyring.EncodeRootKey(k), MetricsListen: "127.0.0.1:0"}
	cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "coffer.db")
	srv, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	main := httptest.NewServer(srv.Handler)
	defer main.Close()
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(main.URL + "/metrics"); code != 404 {
		t.Fatalf("/metrics on the main listener: %d", code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.ServeMetrics(sctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if code, body := get("http://" + ln.Addr().String() + "/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics on its own listener: %d", code)
	}
}

// TestRewrapResealsJobPayloads: `coffer keys rewrap` re-seals queued job payloads, so a node
// with only the new root key still opens them.
func TestRewrapResealsJobPayloads(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newKey := func() []byte { k, _ := keyring.GenerateKey(); return k }
	oldRoot, newRoot := newKey(), newKey()
	path := filepath.Join(t.TempDir(), "coffer.db")
	open := func(roots ...[]byte) (*store.DB, *keyring.Keyring) {
		db, err := store.Open(ctx, store.SQLite, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx, log); err != nil {
			t.Fatal(err)
		}
		keys, err := keyring.New(db, roots...)
		if err != nil {
			t.Fatal(err)
		}
		return db, keys
	}
	db, keys := open(oldRoot)
	j, err := jobs.Sealed(keys, store.Job{Kind: "test.mail", Payload: []byte("reset-link-canary")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnqueueJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cfg := &config.Config{DatabaseURL: "sqlite:" + path,
		RootKey: keyring.EncodeRootKey(newRoot) + "," + keyring.EncodeRootKey(oldRoot)}
	if _, _, err := server.RewrapKeys(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}

	db, keys = open(newRoot)
	got := make(chan string, 1)
	w := jobs.New(db, jobs.Options{Keys: keys, Log: log, Poll: 10 * time.Millisecond})
	w.Register("test.mail", func(ctx context.Context, j store.Job) error { got <- string(j.Payload); return nil })
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case p := <-got:
		if p != "reset-link-canary" {
			t.Fatalf("payload after rewrap: %q", p)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not run with the new root key alone")
	}
}
