package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// PruneInterval is how often one node of the cluster prunes dead jobs and expired token records.
const PruneInterval = time.Hour

// runtimeParts are a node's background worker and its metrics.
type runtimeParts struct {
	cfg     *config.Config
	reg     *prometheus.Registry
	http    *httpserver.HTTPMetrics
	worker  *jobs.Worker
	cancel  context.CancelFunc
	stopped chan struct{}
}

// newRuntime makes the node's metrics registry (Go runtime and process collectors, database
// pools, job and HTTP metrics) and its job worker, with the prune job scheduled. Register job kinds on
// worker before start.
func newRuntime(cfg *config.Config, log *slog.Logger, db *store.DB, keys *keyring.Keyring, now func() time.Time) *runtimeParts {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newDBCollector(db))
	w := jobs.New(db, jobs.Options{
		Concurrency:     int(cfg.JobsConcurrency),
		ShutdownTimeout: cfg.ShutdownTimeout,
		Keys:            keys,
		Metrics:         jobs.NewMetrics(reg),
		Log:             log,
		Now:             now,
	})
	w.SchedulePrune(PruneInterval)
	return &runtimeParts{cfg: cfg, reg: reg, http: httpserver.NewHTTPMetrics(reg), worker: w}
}

// routes mounts GET /metrics on the main mux, unless COFFER_METRICS_LISTEN serves it apart.
func (p *runtimeParts) routes(mux *http.ServeMux) {
	if p.cfg.MetricsListen == "" {
		mux.Handle("GET /metrics", p.metricsHandler())
	}
}

func (p *runtimeParts) metricsHandler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{})
}

// start runs the worker until stop.
func (p *runtimeParts) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.stopped = cancel, make(chan struct{})
	go func() {
		defer close(p.stopped)
		p.worker.Run(ctx)
	}()
}

// stop stops claiming jobs and waits for the running ones (cancelled after the shutdown timeout).
func (p *runtimeParts) stop() {
	if p.cancel != nil {
		p.cancel()
		<-p.stopped
	}
}

// ServeMetrics serves /metrics alone on ln (COFFER_METRICS_LISTEN) until ctx is done.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.runtime.metricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	s.Log.Info("serving metrics", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return nil
}

// resealJobPayloads re-seals every sealed job payload with the current root key (the
// payloads are sealed by it directly: keyring.SealSystem), so that an old root key can be
// dropped after `coffer keys rewrap` without losing queued e-mail. It returns how many.
func resealJobPayloads(ctx context.Context, tx *store.Tx, keys *keyring.Keyring) (int, error) {
	sealed, err := tx.SealedJobs(ctx)
	if err != nil {
		return 0, err
	}
	for _, j := range sealed {
		ct, err := jobs.Reseal(keys, j)
		if err != nil {
			return 0, fmt.Errorf("re-seal the payload of job %s (%s): %w", j.ID, j.Kind, err)
		}
		if err := tx.UpdateJobPayload(ctx, j.ID, ct); err != nil {
			return 0, err
		}
	}
	return len(sealed), nil
}
