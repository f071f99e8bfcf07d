package jobs

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/store"
)

// Metrics are the job table's Prometheus metrics. Their labels are job kinds, statuses and
// schedule names: names from the code, never ids or payloads.
type Metrics struct {
	depth     *prometheus.GaugeVec
	processed *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retried   *prometheus.CounterVec
	dur       *prometheus.HistogramVec
	schedRuns *prometheus.CounterVec
	seen      map[[2]string]bool // depth label pairs set by the last refresh
}

// NewMetrics makes the job metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "coffer_jobs_queue_depth",
			Help: "Jobs in the job table by kind and status (pending, running, dead), refreshed periodically."}, []string{"kind", "status"}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_jobs_processed_total",
			Help: "Jobs this node ran successfully, by kind."}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_jobs_failed_total",
			Help: "Jobs this node marked dead (permanent error or last attempt failed), by kind."}, []string{"kind"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_jobs_retried_total",
			Help: "Job runs on this node that failed or were interrupted and will be retried, by kind."}, []string{"kind"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "coffer_jobs_duration_seconds",
			Help: "How long job handlers ran on this node, by kind.", Buckets: []float64{.005, .025, .1, .25, 1, 2.5, 10, 30, 120}},
			[]string{"kind"}),
		schedRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_jobs_schedule_runs_total",
			Help: "Periods of scheduled jobs run on this node, by schedule and result (ok, error)."}, []string{"schedule", "result"}),
		seen: map[[2]string]bool{},
	}
	reg.MustRegister(m.depth, m.processed, m.failed, m.retried, m.dur, m.schedRuns)
	return m
}

type outcome int

const (
	outcomeDone outcome = iota
	outcomeRetried
	outcomeFailed
)

func (m *Metrics) outcome(kind string, o outcome) prometheus.Counter {
	switch o {
	case outcomeDone:
		return m.processed.WithLabelValues(kind)
	case outcomeRetried:
		return m.retried.WithLabelValues(kind)
	default:
		return m.failed.WithLabelValues(kind)
	}
}

func (m *Metrics) duration(kind string) prometheus.Observer { return m.dur.WithLabelValues(kind) }

func (m *Metrics) scheduleRun(name string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.schedRuns.WithLabelValues(name, result).Inc()
}

// refreshDepth sets the depth gauge from one GROUP BY over the job table; pairs that went
// away are removed. Only one goroutine calls it.
func (m *Metrics) refreshDepth(ctx context.Context, db *store.DB) error {
	counts, err := db.CountJobs(ctx)
	if err != nil {
		return err
	}
	now := make(map[[2]string]bool, len(counts))
	for _, c := range counts {
		m.depth.WithLabelValues(c.Kind, c.Status).Set(float64(c.N))
		now[[2]string{c.Kind, c.Status}] = true
	}
	for k := range m.seen {
		if !now[k] {
			m.depth.DeleteLabelValues(k[0], k[1])
		}
	}
	m.seen = now
	return nil
}
