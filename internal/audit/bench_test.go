package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// BenchmarkReadEvent compares the two ways a read could be recorded: through the buffer
// (what reads do: the cost per read, amortized over the batched writes that backpressure keeps
// in step) and with a transaction of its own per read (what buffering avoids).
func BenchmarkReadEvent(b *testing.B) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "coffer.db")
			if dialect == store.Postgres {
				dsn = testenv.PostgresURL(b)
			}
			db, err := store.Open(context.Background(), dialect, dsn, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(context.Background(), quiet); err != nil {
				b.Fatal(err)
			}
			l := audit.New(db, audit.Options{Log: quiet})
			l.Start()
			defer l.Close(context.Background())
			ev := event(coffer.ActionSecretsList, 1)
			b.Run("buffered", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := l.Enqueue(context.Background(), ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
				if err := l.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
			b.Run("transaction-per-read", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						err := db.InTx(context.Background(), func(tx *store.Tx) error { return l.Record(context.Background(), tx, ev) })
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
