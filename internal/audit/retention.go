package audit

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/store"
)

// pruneBatch is how many events one pruning transaction removes at most.
const pruneBatch = 5000

// Prune removes the events created before cutoff (the retention period ago), oldest first, and
// moves the anchor to the last one removed, so that Verify still starts from a known hash. The
// server runs it as a periodic job; nodes that prune at the same time take turns on the
// anchor. It returns how many it removed.
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
