package server

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/cofferhq/coffer/internal/api"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/store"
)

// auditParts is a node's audit log with its stream and HTTP delivery.
type auditParts struct {
	log       *audit.Log
	stream    *audit.LineWriter // nil: no COFFER_AUDIT_STREAM_FILE
	http      *audit.HTTPStream // nil: no COFFER_AUDIT_STREAM_URL
	db        *store.DB
	retention time.Duration
	now       func() time.Time
}

// newAudit opens the stream file and starts the audit log's appender.
func newAudit(cfg *config.Config, log *slog.Logger, db *store.DB, now func() time.Time) (*auditParts, error) {
	p := &auditParts{db: db, retention: cfg.AuditRetention, now: now}
	opt := audit.Options{FlushInterval: cfg.AuditFlushInterval, Log: log, Now: now, StreamJobs: cfg.AuditStreamURL != "",
		CoalesceReads: cfg.AuditCoalesceReads}
	if cfg.AuditStreamFile != "" {
		s, err := audit.OpenStream(cfg.AuditStreamFile, os.Stdout, log)
		if err != nil {
			return nil, err
		}
		p.stream, opt.Stream = s, s
	}
	if cfg.AuditStreamURL != "" {
		p.http = &audit.HTTPStream{URL: cfg.AuditStreamURL, Header: cfg.AuditStreamHeader}
	}
	p.log = audit.New(db, opt)
	p.log.Start()
	return p, nil
}

// attach gives the services and the API the audit log (after the other parts attached theirs).
func (p *auditParts) attach(a *api.API, az *authz.Authorizer) {
	a.Audit, a.AuditReader = p.log, &audit.Reader{DB: p.db, Authz: az}
	a.Secrets.Audit, a.Projects.Audit, a.Identity.Audit = p.log, p.log, p.log
	if a.Members != nil {
		a.Members.Audit = p.log
	}
}

// registerJobs makes w deliver the HTTP stream and prune past the retention period, once a
// period across all nodes. Call it before w runs.
func (p *auditParts) registerJobs(w *jobs.Worker) {
	w.Register(audit.StreamJobKind, func(ctx context.Context, j store.Job) error {
		if p.http == nil {
			return jobs.Permanent(errNoStreamURL)
		}
		return p.http.Deliver(ctx, j.Payload)
	})
	if p.retention > 0 {
		every := min(time.Hour, max(p.retention/24, time.Minute))
		w.Schedule("audit.prune", every, func(ctx context.Context) error {
			n, err := audit.Prune(ctx, p.db, p.now().Add(-p.retention))
			if n > 0 {
				slog.Default().Info("audit: pruned events past the retention period", "events", n)
			}
			return err
		})
	}
}

// close writes the buffered events and closes the stream.
func (p *auditParts) close(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	p.log.Close(ctx) //nolint:errcheck // Close logs what it could not write
	p.stream.Close() //nolint:errcheck
}

var errNoStreamURL = auditError("COFFER_AUDIT_STREAM_URL is not set on this node")

type auditError string

func (e auditError) Error() string { return string(e) }

// withAuditRequest puts the request id, client address and user agent where the audit log
// finds them, for events of requests without an actor (sign-ins).
func withAuditRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := audit.WithRequest(r.Context(), audit.Request{ID: httpserver.RequestID(r.Context()),
			IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// VerifyAudit recomputes the audit chain straight from the database named by cfg (read only;
// the server need not run): it trusts the database's bytes, not a server's word. See
// audit.Verify.
func VerifyAudit(ctx context.Context, cfg *config.Config) (*audit.VerifyResult, error) {
	dialect, dsn := cfg.DatabaseDSN()
	if dialect == "" {
		return nil, errBadDatabaseURL
	}
	db, err := store.Open(ctx, dialect, dsn, store.Options{MaxOpenConns: 2})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return audit.Verify(ctx, db)
}

var errBadDatabaseURL = auditError("COFFER_DATABASE_URL: not a database URL this binary supports")
