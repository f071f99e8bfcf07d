package server

import (
	"log/slog"
	"net/http"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/store"
)

// withDBSession gives every request a store session: its replica-eligible reads may go to a
// read replica until it commits a write, and read from the primary after that, so a request
// always sees its own writes (see internal/store/replicas.go).
func withDBSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(store.WithSession(r.Context())))
	})
}

// dbOptions are the store options of cfg: PostgreSQL's pool, statement timeout and read
// replicas. SQLite ignores them (config.Validate refuses replicas with SQLite).
func dbOptions(cfg *config.Config, log *slog.Logger) store.Options {
	if dialect, _ := cfg.DatabaseDSN(); dialect != store.Postgres {
		return store.Options{}
	}
	return store.Options{
		MaxOpenConns:     int(cfg.DatabaseMaxConns),
		ReadReplicas:     cfg.ReadReplicaURLs(),
		StatementTimeout: cfg.DatabaseStatementTimeout,
		Log:              log,
	}
}
