package jobs

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/store"
)

// Retention of what the prune job deletes.
const (
	// DeadJobRetention is how long a dead job is kept for inspection.
	DeadJobRetention = 7 * 24 * time.Hour
	// ExpiredTokenRetention is how long an expired access token's record is kept, so that it
	// is refused as "expired" rather than "invalid" for a while.
	ExpiredTokenRetention = 24 * time.Hour
)

// SchedulePrune schedules "prune" every period: it marks dead the jobs whose node died during
// their last attempt, deletes dead jobs older than DeadJobRetention, and deletes the records
// of access tokens expired for longer than ExpiredTokenRetention.
func (w *Worker) SchedulePrune(every time.Duration) {
	w.Schedule("prune", every, func(ctx context.Context) error { return prune(ctx, w.db, w.opt) })
}

func prune(ctx context.Context, db *store.DB, opt Options) error {
	now := opt.Now()
	var expired, dead, tokens int64
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if expired, err = tx.ExpireJobs(ctx, now); err != nil {
			return err
		}
		if dead, err = tx.PruneDeadJobs(ctx, now.Add(-DeadJobRetention)); err != nil {
			return err
		}
		tokens, err = tx.PruneAccessTokens(ctx, now.Add(-ExpiredTokenRetention))
		return err
	})
	if err != nil {
		return err
	}
	opt.Log.Info("jobs: pruned", "jobs_expired", expired, "dead_jobs_deleted", dead, "access_tokens_deleted", tokens)
	return nil
}
