package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

var errBoom = errors.New("boom")

// testTxAllOrNothing checks that a transaction that fails midway, by its callback's error or by
// a failing statement, leaves nothing behind.
func testTxAllOrNothing(t *testing.T, db *store.DB) {
	ctx := t.Context()
	u := &coffer.User{ID: store.NewID(), Email: "gone@example.com", CreatedAt: t0, UpdatedAt: t0}
	o := &coffer.Organization{ID: store.NewID(), Name: "Gone", Slug: "gone", CreatedAt: t0, UpdatedAt: t0}
	p := newProject(o.ID, "gone")
	var secretID string
	cases := []struct {
		name string
		last func(tx *store.Tx) error // runs after the inserts; its error aborts the transaction
		want func(error) bool
	}{
		{"callback error", func(*store.Tx) error { return errBoom }, func(err error) bool { return errors.Is(err, errBoom) }},
		{"failing statement", func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &coffer.User{ID: store.NewID(), Email: u.Email, CreatedAt: t0, UpdatedAt: t0})
		}, store.IsConflict},
	}
	for _, tc := range cases {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateOrganization(ctx, o); err != nil {
				return err
			}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			root, err := tx.FindFolderByPath(ctx, p.Environments[0].ID, "/")
			if err != nil {
				return err
			}
			s := newSecret(p, p.Environments[0], root, "", "GONE", []byte("x"))
			secretID = s.ID
			if err := tx.CreateSecret(ctx, s, nil); err != nil {
				return err
			}
			// The transaction sees its own writes.
			if _, err := tx.FindProject(ctx, p.ID); err != nil {
				return err
			}
			return tc.last(tx)
		})
		if !tc.want(err) {
			t.Fatalf("%s: InTx = %v; want the callback's error", tc.name, err)
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 0 {
			t.Errorf("%s: CountUsers = %d, %v; want 0", tc.name, n, err)
		}
		_, err = db.FindOrganization(ctx, o.ID)
		wantCode(t, err, coffer.ENOTFOUND)
		_, err = db.FindProject(ctx, p.ID)
		wantCode(t, err, coffer.ENOTFOUND)
		if fs, err := db.ListFolderTree(ctx, p.Environments[0].ID, "/"); err != nil || len(fs) != 0 {
			t.Errorf("%s: folders = %v, %v; want none", tc.name, fs, err)
		}
		_, err = db.FindSecretVersion(ctx, secretID, 1)
		wantCode(t, err, coffer.ENOTFOUND)
	}
	// Every ID is free again (the second case reused the first's): the inserts can be retried.
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
}

// testTxPanic checks that a panic in the callback (recovered further up, as the HTTP server's
// recovery middleware does) rolls the transaction back and frees its connection, even when the
// context is never cancelled: on SQLite that connection is the only writer.
func testTxPanic(t *testing.T, db *store.DB) {
	u := &coffer.User{ID: store.NewID(), Email: "panic@example.com", CreatedAt: t0, UpdatedAt: t0}
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Fatalf("recovered %v; want the callback's panic", p)
			}
		}()
		_ = db.InTx(context.Background(), func(tx *store.Tx) error {
			if err := tx.CreateUser(context.Background(), u); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// The same e-mail: on PostgreSQL a leaked transaction would hold its unique-index entry.
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
		t.Fatalf("write after a panicking transaction: %v (its transaction was left open)", err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}
