package server

import (
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/store"
)

// newCache returns the node's cache (internal/cache), kept exact as the database changes: on
// SQLite, served by this process alone, every change is a local commit, which the cache counts;
// on PostgreSQL, which other nodes write too, it polls the database-wide revision, once per
// round of concurrent requests.
func newCache(db *store.DB, maxBytes int64) *cache.Cache {
	if db.Polled() {
		return cache.NewPolled(db, maxBytes, db.GlobalRevision)
	}
	c := cache.New(db, maxBytes)
	db.OnCommit(c.Changed)
	return c
}
