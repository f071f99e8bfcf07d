package server

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/store"
)

// dbCollector exports the statistics of the database pools (the primary's and each read
// replica's, named "read replica N") at each scrape.
type dbCollector struct {
	db                      *store.DB
	conns, max, waits, wait *prometheus.Desc
	healthy                 *prometheus.Desc
}

func newDBCollector(db *store.DB) *dbCollector {
	return &dbCollector{db: db,
		conns: prometheus.NewDesc("coffer_db_connections", "Open database connections by pool and state (in_use, idle).", []string{"pool", "state"}, nil),
		max:   prometheus.NewDesc("coffer_db_connections_max", "Most connections a pool may open.", []string{"pool"}, nil),
		waits: prometheus.NewDesc("coffer_db_waits_total", "Times a query waited for a free connection, by pool.", []string{"pool"}, nil),
		wait:  prometheus.NewDesc("coffer_db_wait_seconds_total", "Time spent waiting for a free connection, by pool.", []string{"pool"}, nil),
		healthy: prometheus.NewDesc("coffer_db_replica_healthy", "1 while a read replica is used, 0 while it is set aside after a failure.",
			[]string{"pool"}, nil),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.max
	ch <- c.waits
	ch <- c.wait
	ch <- c.healthy
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.pool(ch, "primary", c.db.PoolStats())
	for _, r := range c.db.ReplicaStats() {
		c.pool(ch, r.Name, r.Pool)
		healthy := 0.0
		if r.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, healthy, r.Name)
	}
}

func (c *dbCollector) pool(ch chan<- prometheus.Metric, name string, s sql.DBStats) {
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.InUse), name, "in_use")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.Idle), name, "idle")
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxOpenConnections), name)
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount), name)
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
}
