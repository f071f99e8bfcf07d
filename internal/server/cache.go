package server

import (
	"context"
	"log/slog"

	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/store"
)

// listenForChanges keeps c exact as other nodes write: on PostgreSQL it listens for the
// revision triggers' notifications (c is trusted only while listening); on SQLite, served by
// this process alone, every change is a local commit, so c is trusted from the start. Local
// commits advance c in both cases. The returned function stops listening.
func listenForChanges(db *store.DB, c *cache.Cache, log *slog.Logger) (stop func()) {
	db.OnCommit(c.Changed)
	if !db.CanListen() {
		c.SetTrusted(true)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenChanges(ctx, c.Changed, func(up bool) {
			c.SetTrusted(up)
			if up {
				log.Debug("cache: listening for changes; cached reads served from memory")
			} else if ctx.Err() == nil {
				log.Warn("cache: change listener disconnected; every cached read is checked against the database until it reconnects")
			}
		})
	}()
	return func() { cancel(); <-done }
}
