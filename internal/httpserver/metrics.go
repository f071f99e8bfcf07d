package httpserver

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics counts and times requests by route: the ServeMux pattern that matched
// ("GET /api/v3/secrets/raw/{secretName}"), never the raw path, so no id, name or token ever
// becomes a label value. Requests that matched no pattern are "unmatched".
//
// Use both halves: Routes around the mux, and Wrap outermost, so that the time and status
// include the whole middleware stack (authentication failures too):
//
//	h := m.Wrap(httpserver.Wrap(m.Routes(mux), opt))
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	mux      *http.ServeMux
	pool     sync.Pool // *metricsWriter

	mu     sync.RWMutex
	routes map[string]*routeMetrics // pattern → its resolved series
}

// routeMetrics are the series of one route, resolved once: counters by status class (index
// status/100; 0 for anything outside 1xx–5xx) and the latency histogram.
type routeMetrics struct {
	count [6]prometheus.Counter
	dur   prometheus.Observer
}

var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// NewHTTPMetrics makes the HTTP metrics and registers them with reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_http_requests_total",
			Help: "HTTP requests served, by route pattern and status class."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "coffer_http_request_duration_seconds",
			Help: "Time to serve an HTTP request, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		routes: make(map[string]*routeMetrics),
	}
	m.pool.New = func() any { return new(metricsWriter) }
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Routes returns mux wrapped so that the pattern it matched is recorded for Wrap.
func (m *HTTPMetrics) Routes(mux *http.ServeMux) http.Handler {
	m.mux = mux
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := findMetricsWriter(w)
		if mw != nil {
			// ServeMux sets r.Pattern on the request it is given before calling the route's
			// handler; read it even when that handler panics.
			defer func() { mw.pattern = r.Pattern }()
		}
		mux.ServeHTTP(w, r)
	})
}

// Wrap returns h measured. It should be the outermost handler.
func (m *HTTPMetrics) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		mw := m.pool.Get().(*metricsWriter)
		*mw = metricsWriter{ResponseWriter: w}
		defer func() {
			m.observe(mw, r, time.Since(start))
			*mw = metricsWriter{}
			m.pool.Put(mw)
		}()
		h.ServeHTTP(mw, r)
	})
}

func (m *HTTPMetrics) observe(mw *metricsWriter, r *http.Request, d time.Duration) {
	pattern := mw.pattern
	if pattern == "" && m.mux != nil {
		// Answered before routing (e.g. a bad token): name it by the route it asked for.
		_, pattern = m.mux.Handler(r)
	}
	if pattern == "" {
		pattern = "unmatched"
	}
	rm := m.route(pattern)
	status := mw.status
	if status == 0 {
		status = http.StatusOK
	}
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	rm.count[class].Inc()
	rm.dur.Observe(d.Seconds())
}

// route returns the resolved series of a pattern, making them on first use.
func (m *HTTPMetrics) route(pattern string) *routeMetrics {
	m.mu.RLock()
	rm := m.routes[pattern]
	m.mu.RUnlock()
	if rm != nil {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rm = m.routes[pattern]; rm == nil {
		rm = &routeMetrics{dur: m.duration.WithLabelValues(pattern)}
		for i, c := range statusClasses {
			rm.count[i] = m.requests.WithLabelValues(pattern, c)
		}
		m.routes[pattern] = rm
	}
	return rm
}

// metricsWriter records the status of a response and the pattern that routed it.
type metricsWriter struct {
	http.ResponseWriter
	status  int
	pattern string
}

func (w *metricsWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the writer.
func (w *metricsWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush() //nolint:errcheck // best effort
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *metricsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// findMetricsWriter walks the chain of wrapped ResponseWriters down to Wrap's.
func findMetricsWriter(w http.ResponseWriter) *metricsWriter {
	for range 16 {
		switch x := w.(type) {
		case *metricsWriter:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
	return nil
}
