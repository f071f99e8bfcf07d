// Package server assembles a Coffer node from its configuration: the store (migrated), the
// keyring, the services and the HTTP handler. The coffer binary and the end-to-end tests start
// nodes through it, so tests run exactly what production runs.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/api"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/projects"
	"github.com/cofferhq/coffer/internal/redisconn"
	"github.com/cofferhq/coffer/internal/secrets"
	"github.com/cofferhq/coffer/internal/store"
)

// Server is one Coffer node.
type Server struct {
	Config  *config.Config
	Log     *slog.Logger
	DB      *store.DB
	Keys    *keyring.Keyring
	Handler http.Handler
	// Now is the clock of every service; tests may set it before New through Options.
	now func() time.Time
	// http serves Handler on the listeners and drains on stop; edge is its TLS and proxy setup.
	http *httpserver.Server
	edge *edge
	// Cache holds what the services read, invalidated exactly (internal/cache).
	Cache *cache.Cache
	// Audit is the node's audit log (tests flush it); audit its stream and delivery.
	Audit *audit.Log
	audit *auditParts
	redis *redisconn.Client // nil: no Redis
	// Jobs is the node's background worker (runtime.go); Metrics is its Prometheus registry.
	Jobs    *jobs.Worker
	Metrics *prometheus.Registry
	runtime *runtimeParts
}

// Options are knobs for tests; the zero value is production.
type Options struct {
	Now func() time.Time
}

// New opens and migrates the database and wires the services. cfg must be validated (and, in
// development mode, completed by PrepareDev).
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opt Options) (*Server, error) {
	roots, err := rootKeys(ctx, cfg) // see rootkeys.go
	if err != nil {
		return nil, err
	}
	defer clearKeys(roots) // the keyring keeps its own copy
	dialect, dsn := cfg.DatabaseDSN()
	if dialect == store.SQLite {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	db, err := store.Open(ctx, dialect, dsn, dbOptions(cfg, log)) // see dbsession.go
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	keys, err := keyring.New(db, roots...)
	if err != nil {
		db.Close()
		return nil, err
	}
	edge, err := newEdge(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	hs := httpserver.NewServer(nil, log)
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	c := newCache(db, cfg.CacheMaxBytes) // see cache.go
	az := &authz.Authorizer{DB: db, Cache: c}
	ids := identity.New(db, az, []byte(cfg.AuthSecret), now)
	ids.UseCache(c)
	secretsSvc := secrets.New(db, keys, az, now)
	secretsSvc.UseCache(c)
	rc, err := newRedis(cfg, log) // see redis.go
	if err != nil {
		db.Close()
		return nil, err
	}
	if rc != nil {
		secretsSvc.UseSharedCache(rc)
	}
	ids.LimitLogins(newLoginLimits(cfg, rc, now, log)) // see ratelimit.go
	a := &api.API{
		Log:      log,
		Secrets:  secretsSvc,
		Identity: ids,
		Projects: projects.New(db, keys, az, ids, now),
		Ready: func(ctx context.Context) error {
			if hs.Draining() {
				return errDraining
			}
			return ready(ctx, db)
		},
		ReadyDetail: func(ctx context.Context) map[string]string {
			return map[string]string{"redis": redisStatus(ctx, rc)}
		},
		Status: api.Status{RedisConfigured: rc != nil},
		Now:    now,
	}
	au, err := newAudit(cfg, log, db, now) // see audit.go
	if err != nil {
		db.Close()
		return nil, err
	}
	users, err := newUsers(cfg, db, keys, az, ids, now) // see users.go
	if err != nil {
		db.Close()
		return nil, err
	}
	users.attach(a)
	au.attach(a, az)
	rt := newRuntime(cfg, log, db, keys, now) // see runtime.go
	au.registerJobs(rt.worker)
	users.registerJobs(rt.worker)
	a.Projects.RetireDelay = cfg.KeyRetireDelay
	a.Projects.RegisterJobs(rt.worker) // the re-seal after a project key rotation
	mux := http.NewServeMux()
	a.Routes(mux)
	if err := mountWeb(mux, a, db); err != nil { // the dashboard, see web.go
		db.Close()
		return nil, err
	}
	rt.routes(mux)
	mux.Handle("/", httpserver.Adapter{Log: log}.H(notFound))
	h := httpserver.Wrap(withAuditRequest(rt.http.Routes(mux)), httpserver.Options{Log: log, MaxBodyBytes: cfg.MaxBodyBytes, Authenticate: ids.Authenticate, Sessions: users.sessions,
		TrustedProxies: edge.trusted})
	h = withDBSession(h) // see dbsession.go
	h = rt.http.Wrap(h)
	hs.SetHandler(h)
	rt.start()
	log.Info("coffer node ready to serve", "database", dialect, "root_key_id", keys.RootKeyID())
	return &Server{Config: cfg, Log: log, DB: db, Keys: keys, Handler: h, now: now, http: hs, edge: edge,
		Cache: c, redis: rc, Audit: au.log, audit: au,
		Jobs: rt.worker, Metrics: rt.reg, runtime: rt}, nil
}

func notFound(w http.ResponseWriter, r *http.Request) error {
	return httpNotFound(r)
}

// ready reports whether the database answers and is migrated.
func ready(ctx context.Context, db *store.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := readyOnce(ctx, db)
	if err != nil && ctx.Err() == nil {
		// Pooled connections the database closed (it restarted, or failed over) fail the one
		// query that finds them: drop them and ask once more on a new connection, so that a
		// node is not reported unready for connections it would discard anyway.
		db.ResetIdleConns()
		err = readyOnce(ctx, db)
	}
	return err
}

func readyOnce(ctx context.Context, db *store.DB) error {
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	ok, err := db.Migrated(ctx)
	if err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("database schema is behind this binary")
	}
	return nil
}

// Serve serves on ln (COFFER_LISTEN) until ctx is done, then drains and shuts down; see
// ServeListeners.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeListeners(ctx, Listeners{Main: ln})
}

// Close closes Redis and the database.
func (s *Server) Close() error {
	if s.runtime != nil {
		s.runtime.stop()
	}
	if s.redis != nil {
		s.redis.Close()
	}
	if s.audit != nil {
		s.audit.close(s.Config.ShutdownTimeout)
	}
	return s.DB.Close()
}

func parseRootKeys(s string) ([][]byte, error) {
	var out [][]byte
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := keyring.ParseRootKey(part)
		if err != nil {
			return nil, fmt.Errorf("COFFER_ROOT_KEY: key %d: %w", i+1, err)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("COFFER_ROOT_KEY is not set")
	}
	return out, nil
}

func httpNotFound(r *http.Request) error {
	return coffer.Errorf(coffer.ENOTFOUND, "Route %s %s not found", r.Method, r.URL.Path)
}
