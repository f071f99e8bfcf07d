package audit

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/store"
)

// pruneBatch is how many events one pruning transaction removes at most.
const pruneBatch = 5000

// Prune removes the events older than the retention period, oldest first, and moves the
// anchor to the last one removed, so that Verify still starts from a known hash. Nodes may
// prune at the same time: they take turns on the anchor. It returns how many it removed.
func Prune(ctx context.Context, db *store.DB, cutoff time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.PruneAuditEvents(ctx, cutoff, pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// retention prunes every so often while the log runs.
func (l *Log) retention() {
	every := min(time.Hour, max(l.opt.Retention/24, time.Minute))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		n, err := Prune(ctx, l.db, l.now().Add(-l.opt.Retention))
		cancel()
		if err != nil {
			l.opt.Log.Error("audit: pruning old events failed", "err", err)
		} else if n > 0 {
			l.opt.Log.Info("audit: pruned events past the retention period", "events", n, "retention", l.opt.Retention.String())
		}
		select {
		case <-t.C:
		case <-l.stop:
			return
		}
	}
}
