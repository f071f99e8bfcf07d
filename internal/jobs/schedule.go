package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer"
)

// schedule is a periodic job.
type schedule struct {
	name  string
	every time.Duration
	fn    func(ctx context.Context) error
}

// Schedule runs fn every period across all nodes: each node that runs Schedule with the same
// name competes for each period, and exactly one runs it. A period is claimed by a
// compare-and-swap of the schedule's next_run_at row from the value the node read to its own
// now+every, so two nodes never both win a period, however far apart their clocks are (a
// node whose clock is ahead only runs the period that much earlier). A failed run is logged
// and counted; the next period runs as usual. fn should finish well within every.
func (w *Worker) Schedule(name string, every time.Duration, fn func(ctx context.Context) error) {
	if w.running || name == "" || every <= 0 || fn == nil {
		panic(fmt.Sprintf("jobs: bad Schedule of %q", name))
	}
	for _, s := range w.sched {
		if s.name == name {
			panic(fmt.Sprintf("jobs: %q is scheduled twice", name))
		}
	}
	w.sched = append(w.sched, &schedule{name: name, every: every, fn: fn})
}

// runSchedules checks the schedules until ctx is done, at half the shortest period (between
// 10 ms and 30 s), and runs the periods this node wins under hctx.
func (w *Worker) runSchedules(ctx, hctx context.Context) {
	if len(w.sched) == 0 {
		return
	}
	tick := 30 * time.Second
	for _, s := range w.sched {
		tick = min(tick, max(s.every/2, 10*time.Millisecond))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		for _, s := range w.sched {
			if ctx.Err() != nil {
				return
			}
			if _, err := w.runDue(ctx, hctx, s); err != nil && ctx.Err() == nil {
				w.opt.Log.Error("jobs: checking a schedule failed", "schedule", s.name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runDue runs the schedule's current period if it is due and this node wins it, and reports
// whether it ran. The period's error is logged, not returned.
func (w *Worker) runDue(ctx, hctx context.Context, s *schedule) (bool, error) {
	now := w.opt.Now()
	next, err := w.db.ScheduleNext(ctx, s.name)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		// First run anywhere: due now. Whoever inserts first sets the time; others keep it.
		if err := w.db.EnsureSchedule(ctx, s.name, now); err != nil {
			return false, err
		}
		if next, err = w.db.ScheduleNext(ctx, s.name); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if now.Before(next) {
		return false, nil
	}
	won, err := w.db.ClaimSchedule(ctx, s.name, next, now.Add(s.every), now, w.opt.Node)
	if err != nil || !won {
		return false, err
	}
	rctx, cancel := context.WithTimeout(hctx, max(s.every, time.Minute))
	defer cancel()
	start := time.Now()
	err = s.fn(rctx)
	if m := w.opt.Metrics; m != nil {
		m.scheduleRun(s.name, err)
	}
	if err != nil {
		w.opt.Log.Error("jobs: scheduled job failed", "schedule", s.name, "err", err, "duration", time.Since(start))
	}
	return true, nil
}
