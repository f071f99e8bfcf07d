package audit

import (
	"context"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

var errClosed = coffer.Errorf(coffer.EINTERNAL, "the audit log is shut down")

// Start runs the appender that writes buffered events until Close.
func (l *Log) Start() {
	if l == nil || l.started {
		return
	}
	l.started = true
	go l.appender()
}

// Enqueue buffers an event that describes no change (a read, a failed sign-in, a denial). It
// returns once the event is in the buffer, not once it is written: a crash loses what the
// buffer held, at most one flush interval of events. When the buffer is full it waits, so a
// flood of reads slows down rather than loses its events; it fails only when ctx ends first or
// the log is closed, and the caller then fails its request.
func (l *Log) Enqueue(ctx context.Context, ev coffer.AuditEvent) error {
	if l == nil {
		return nil
	}
	l.fill(ctx, nil, &ev)
	err := l.send(ctx, item{ev: &ev})
	if err != nil {
		l.opt.Log.ErrorContext(ctx, "audit: event not recorded", "action", ev.Action, "request_id", ev.RequestID, "err", err)
	}
	return err
}

func (l *Log) send(ctx context.Context, it item) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return errClosed
	}
	select {
	case l.ch <- it:
		return nil
	default:
	}
	select {
	case l.ch <- it:
		return nil
	case <-ctx.Done():
		return coffer.Errorf(coffer.EINTERNAL, "the audit log is too slow to take the event: %v", ctx.Err())
	}
}

// Flush waits until every event enqueued before it is written (tests; shutdown uses Close).
func (l *Log) Flush(ctx context.Context) error {
	if l == nil {
		return nil
	}
	done := make(chan error, 1)
	if err := l.send(ctx, item{flushed: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking events, writes the ones buffered and stops the appender. When ctx ends
// first it stops retrying a failing database and logs how many events were lost.
func (l *Log) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	if !l.started {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		close(l.abandon)
		<-l.done
		return ctx.Err()
	}
}

// appender writes buffered events in batches: a batch is written when it is full, when the
// oldest event in it has waited a flush interval, at a flush marker, and at Close.
func (l *Log) appender() {
	defer close(l.done)
	batch := make([]*coffer.AuditEvent, 0, l.opt.BatchSize)
	var markers []chan error
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	write := func() {
		err := l.writeBatch(batch)
		for _, m := range markers {
			m <- err
		}
		batch, markers = batch[:0], markers[:0]
	}
	take := func(it item) {
		if it.ev == nil {
			markers = append(markers, it.flushed)
			return
		}
		if len(batch) == 0 {
			timer.Reset(l.opt.FlushInterval)
		}
		batch = append(batch, it.ev)
	}
	for {
		select {
		case it := <-l.ch:
			take(it)
			if len(batch) >= l.opt.BatchSize || it.ev == nil {
				timer.Stop()
				write()
			}
		case <-timer.C:
			write()
		case <-l.stop:
			timer.Stop()
		drain: // Close holds off new senders: what is in the channel now is all there is
			for {
				select {
				case it := <-l.ch:
					take(it)
					if len(batch) >= l.opt.BatchSize {
						write()
					}
				default:
					break drain
				}
			}
			write()
			return
		}
	}
}

// writeBatch appends a batch in one transaction, retrying with backoff while the database
// fails: meanwhile the buffer fills and Enqueue blocks. It gives up only when Close's
// deadline has passed, and then logs the loss.
func (l *Log) writeBatch(batch []*coffer.AuditEvent) error {
	if len(batch) == 0 {
		return nil
	}
	if l.opt.CoalesceReads {
		batch = coalesce(batch)
	}
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := l.db.InTx(ctx, func(tx *store.Tx) error { return l.append(ctx, tx, batch) })
		cancel()
		if err == nil {
			return nil
		}
		l.opt.Log.Error("audit: cannot write buffered events; retrying", "events", len(batch), "err", err)
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		case <-l.abandon:
			l.opt.Log.Error("audit: buffered events lost at shutdown", "events", len(batch), "first_action", batch[0].Action)
			return errors.Join(errClosed, err)
		}
	}
}
