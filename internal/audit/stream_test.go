package audit_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/store"
)

func TestHTTPStreamRetriedThroughJobs(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		var mu sync.Mutex
		var got bytes.Buffer
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer stream-token" || r.Header.Get("Content-Type") != "application/x-ndjson" {
				http.Error(w, "bad headers", http.StatusUnauthorized)
				return
			}
			if calls.Add(1) == 1 {
				http.Error(w, "down", http.StatusServiceUnavailable) // the first delivery fails
				return
			}
			mu.Lock()
			defer mu.Unlock()
			got.ReadFrom(r.Body) //nolint:errcheck
		}))
		defer srv.Close()
		l := newLog(t, db, audit.Options{StreamJobs: true})
		record(t, db, l, event(coffer.ActionSecretCreate, 1), event(coffer.ActionSecretUpdate, 2))

		stream := &audit.HTTPStream{URL: srv.URL, Header: "Authorization: Bearer stream-token"}
		w := jobs.New(db, jobs.Options{Log: quiet, Poll: 10 * time.Millisecond, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
		w.Register(audit.StreamJobKind, func(ctx context.Context, j store.Job) error { return stream.Deliver(ctx, j.Payload) })
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		deadline := time.Now().Add(20 * time.Second)
		for calls.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if n := calls.Load(); n != 2 {
			t.Fatalf("endpoint called %d times, want 2 (a failure, then the retry)", n)
		}
		mu.Lock()
		defer mu.Unlock()
		lines := strings.Split(strings.TrimSpace(got.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"action":"secret.create"`) || !strings.Contains(lines[1], `"action":"secret.update"`) {
			t.Fatalf("delivered %q", got.String())
		}
	})
}
