package httpserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// TestHTTPMetrics: requests are counted by route pattern and status class, including those
// refused before routing, and no raw path (with its ids) ever becomes a label.
func TestHTTPMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := httpserver.NewHTTPMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("POST /api/v1/things", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log, _ := newLogger(100) // silent
	h := m.Wrap(httpserver.Wrap(m.Routes(mux), httpserver.Options{Log: log,
		Authenticate: func(ctx context.Context, token string, ip netip.Addr) (*coffer.Actor, error) {
			return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid token")
		}}))

	requests := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/v1/things/id-5f1e2d3c", "", 200},
		{"GET", "/api/v1/things/id-9a8b7c6d", "", 200},
		{"POST", "/api/v1/things", "", 201},
		{"GET", "/api/v1/things/id-0badc0de", "secret-token-value", 401}, // refused before routing
		{"GET", "/no/such/path-with-id-77", "", 404},
		{"GET", "/boom", "", 500},
	}
	for _, rq := range requests {
		req := httptest.NewRequest(rq.method, rq.path, nil)
		if rq.token != "" {
			req.Header.Set("Authorization", "Bearer "+rq.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != rq.want {
			t.Fatalf("%s %s: %d, want %d", rq.method, rq.path, rec.Code, rq.want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`coffer_http_requests_total{code="2xx",route="GET /api/v1/things/{id}"} 2`,
		`coffer_http_requests_total{code="4xx",route="GET /api/v1/things/{id}"} 1`,
		`coffer_http_requests_total{code="2xx",route="POST /api/v1/things"} 1`,
		`coffer_http_requests_total{code="4xx",route="unmatched"} 1`,
		`coffer_http_requests_total{code="5xx",route="GET /boom"} 1`,
		`coffer_http_request_duration_seconds_count{route="GET /api/v1/things/{id}"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, leak := range []string{"id-5f1e2d3c", "id-0badc0de", "path-with-id", "secret-token-value"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
}

// TestHTTPMetricsAllocs: measuring a request allocates nothing once its route is known.
func TestHTTPMetricsAllocs(t *testing.T) {
	m := httpserver.NewHTTPMetrics(prometheus.NewRegistry())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	bare := allocs(mux)
	measured := allocs(m.Wrap(m.Routes(mux)))
	t.Logf("allocations per request: %.1f bare, %.1f measured", bare, measured)
	if measured > bare {
		t.Errorf("the metrics middleware allocates %.1f times per request", measured-bare)
	}
}

func allocs(h http.Handler) float64 {
	req := httptest.NewRequest("GET", "/api/v1/things/abc", nil)
	w := discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req) // the route's series are made on first use
	return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, req) })
}

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

// BenchmarkHTTPMetrics is the per-request cost of the middleware around a trivial route.
func BenchmarkHTTPMetrics(b *testing.B) {
	m := httpserver.NewHTTPMetrics(prometheus.NewRegistry())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", mux}, {"measured", m.Wrap(m.Routes(mux))}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/things/abc", nil)
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
