package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests keep the load generator working; they never assert on a time or a rate.

func TestReadScenario(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/api/v4/secrets" || r.Header.Get("Authorization") != "Bearer tok" ||
			q.Get("projectId") != "p1" || q.Get("environment") != "dev" || q.Get("secretPath") != "/" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"secrets":[{"secretKey":"A"},{"secretKey":"B"}],"imports":[]}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "read", Concurrency: 4,
		Warmup: 200 * time.Millisecond, Duration: 800 * time.Millisecond,
		Token: "tok", ProjectID: "p1", Environment: "dev", SecretPath: "/", ExpectSecrets: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || res.RPS <= 0 || res.OKTotal <= res.OK {
		t.Fatalf("result %+v", res)
	}
	if !(res.P50ms <= res.P99ms && res.P99ms <= res.P999ms && res.P999ms <= res.MaxMs) {
		t.Fatalf("quantiles out of order: %+v", res)
	}

	// A listing of the wrong size fails the pre-flight.
	_, err = Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "read", Concurrency: 1, Duration: time.Second,
		Token: "tok", ProjectID: "p1", Environment: "dev", SecretPath: "/", ExpectSecrets: 50})
	if err == nil || !strings.Contains(err.Error(), "expected 50") {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteScenario(t *testing.T) {
	t.Parallel()
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ProjectID, Environment, SecretPath, Mode string
			Secrets                                  []struct{ SecretKey, SecretValue string }
		}
		err := json.NewDecoder(r.Body).Decode(&body)
		if err != nil || r.Method != http.MethodPatch || r.URL.Path != "/api/v4/secrets/batch" || body.Mode != "upsert" ||
			body.ProjectID != "p1" || len(body.Secrets) != 10 || len(body.Secrets[9].SecretValue) != 40 ||
			!strings.HasPrefix(body.Secrets[0].SecretKey, "BENCH_W") {
			bad.Add(1)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"secrets":[]}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "write", Concurrency: 3,
		Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
		Token: "tok", ProjectID: "p1", Environment: "dev", SecretPath: "/", BatchSize: 10, KeyPrefix: "BENCH_W", ExpectSecrets: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || bad.Load() != 0 {
		t.Fatalf("result %+v, %d bad requests", res, bad.Load())
	}
}

func TestErrorsCountedByKind(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ClientID, ClientSecret string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.URL.Path != "/api/v1/auth/universal-auth/login" || body.ClientID != "id" || body.ClientSecret != "s" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch i := n.Add(1); {
		case i == 1: // the pre-flight must succeed
		case i%3 == 0:
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case i%3 == 1: // drop the connection without an answer
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Write([]byte(`{"accessToken":"t"}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "login", Concurrency: 2,
		Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.ErrorKinds["HTTP 500"] == 0 || res.ErrorKinds["HTTP 400"] != 0 {
		t.Fatalf("result %+v", res)
	}
	var transport uint64
	for k, c := range res.ErrorKinds {
		if strings.HasPrefix(k, "transport: ") {
			transport += c
		}
	}
	if transport == 0 || res.Errors != res.ErrorKinds["HTTP 500"]+transport {
		t.Fatalf("error kinds %v, errors %d", res.ErrorKinds, res.Errors)
	}
}

func TestRequestLimitAndPreflight(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	names := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ProjectName string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, `{"message":"no"}`, http.StatusUnauthorized)
			return
		}
		n.Add(1)
		names <- body.ProjectName
		w.Write([]byte(`{"project":{}}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "create-project", Concurrency: 4,
		Duration: 10 * time.Second, Requests: 20, Token: "tok", NamePrefix: "p-"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 20 || res.OKTotal != 20 {
		t.Fatalf("%d requests, ok_total %d; want 20", n.Load(), res.OKTotal)
	}
	close(names)
	seen := map[string]bool{}
	for name := range names {
		if seen[name] || !strings.HasPrefix(name, "p-") {
			t.Fatalf("project name %q repeated or malformed", name)
		}
		seen[name] = true
	}

	// A failing pre-flight (a bad token) is an error, not a benchmark of 401s.
	_, err = Run(context.Background(), Config{BaseURL: srv.URL, Scenario: "create-project", Concurrency: 1,
		Duration: time.Second, Token: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:8080", "http://127.0.0.2:1", "http://[::1]:80", "http://localhost:8080/"} {
		if _, err := checkLoopback(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.com", "http://0.0.0.0:8080", "https://127.0.0.1", "http://[::ffff:8.8.8.8]:80"} {
		if _, err := checkLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	_, err := Run(context.Background(), Config{BaseURL: "http://192.0.2.1:80", Scenario: "login", Concurrency: 1,
		Duration: time.Second, ClientID: "a", ClientSecret: "b"})
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("err = %v", err)
	}
}

func TestHistogram(t *testing.T) {
	t.Parallel()
	var a, b hist
	for i := 1; i <= 100000; i++ {
		h := &a
		if i%2 == 0 {
			h = &b
		}
		h.record(time.Duration(i) * time.Microsecond)
	}
	a.merge(&b)
	if a.n != 100000 || a.min != uint64(time.Microsecond) || a.max != uint64(100*time.Millisecond) {
		t.Fatalf("n %d min %d max %d", a.n, a.min, a.max)
	}
	for _, q := range []float64{0.5, 0.99, 0.999, 1} {
		want := q * 100000 * float64(time.Microsecond)
		if got := float64(a.quantile(q)); math.Abs(got-want)/want > 0.01 {
			t.Errorf("quantile %v = %v, want %v within 1%%", q, time.Duration(got), time.Duration(want))
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		lo, hi := bucketRange(bucket(v))
		if v < lo || v > hi {
			t.Fatalf("%d outside its bucket [%d, %d]", v, lo, hi)
		}
	}
	if i := bucket(math.MaxUint64); i >= len(a.counts) {
		t.Fatalf("bucket(max) = %d", i)
	}
}

func TestCommandLineJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"secrets":[]}`))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-url", srv.URL, "-scenario", "read", "-c", "2", "-d", "200ms",
		"-warmup", "50ms", "-token", "t", "-project", "p", "-expect", "0", "-label", "smoke", "-json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Label != "smoke" || r.OK == 0 || r.Scenario != "read" {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"-url", srv.URL, "-c", "1", "-d", "100ms", "-warmup", "0", "-token", "t", "-project", "p"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "requests/s") || !strings.Contains(out.String(), "p99.9") {
		t.Fatalf("text output %q", out.String())
	}
}
