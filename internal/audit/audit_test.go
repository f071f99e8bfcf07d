package audit_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

var quiet = slog.New(slog.DiscardHandler)

// forEachDB runs f on a fresh migrated SQLite and PostgreSQL database.
func forEachDB(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openDB(t, store.SQLite, filepath.Join(t.TempDir(), "coffer.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, openDB(t, store.Postgres, testenv.PostgresURL(t))) })
}

// raw is a database/sql handle of each test database, outside the store, as an attacker with
// database access would have.
var raw sync.Map // *store.DB → *sql.DB

func openDB(t *testing.T, dialect, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dialect, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context(), quiet); err != nil {
		t.Fatal(err)
	}
	driver, rawDSN := "pgx", dsn
	if dialect == store.SQLite {
		driver, rawDSN = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	}
	r, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	raw.Store(db, r)
	return db
}

// newLog returns a started Log on db, closed when the test ends.
func newLog(t *testing.T, db *store.DB, opt audit.Options) *audit.Log {
	t.Helper()
	if opt.Log == nil {
		opt.Log = quiet
	}
	l := audit.New(db, opt)
	l.Start()
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

// record appends events in a transaction of their own.
func record(t *testing.T, db *store.DB, l *audit.Log, evs ...coffer.AuditEvent) {
	t.Helper()
	if err := db.InTx(t.Context(), func(tx *store.Tx) error { return l.Record(t.Context(), tx, evs...) }); err != nil {
		t.Fatal(err)
	}
}

func event(action string, i int) coffer.AuditEvent {
	return coffer.AuditEvent{Action: action, OrgID: "org-1", ProjectID: "proj-1", Environment: "dev", SecretPath: "/",
		SecretKeys: []string{fmt.Sprintf("KEY_%d", i)}, ActorType: coffer.AuditActorIdentity, ActorID: "ident-1",
		ActorName: "ci", Metadata: map[string]any{"n": i}}
}

func mustVerify(t *testing.T, db *store.DB) *audit.VerifyResult {
	t.Helper()
	res, err := audit.Verify(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func allRows(t *testing.T, db *store.DB) []*store.AuditRow {
	t.Helper()
	rows, err := db.AuditChain(t.Context(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRecordChainsAndVerifies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		l := newLog(t, db, audit.Options{Node: "n1"})
		if res := mustVerify(t, db); !res.OK() || res.Checked != 0 {
			t.Fatalf("empty chain: %+v", res)
		}
		ctx := audit.WithRequest(t.Context(), audit.Request{ID: "req-1", IP: netip.MustParseAddr("192.0.2.7"), UserAgent: "ua/1"})
		ctx = coffer.NewContextWithActor(ctx, &coffer.Actor{Kind: coffer.ActorIdentity, ID: "ident-9", OrgID: "org-9"})
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return l.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionSecretCreate, ProjectID: "p", SecretKeys: []string{"A", "B"}},
				coffer.AuditEvent{Action: coffer.ActionSecretUpdate, ProjectID: "p"})
		})
		if err != nil {
			t.Fatal(err)
		}
		rows := allRows(t, db)
		if len(rows) != 2 {
			t.Fatalf("%d rows, want 2", len(rows))
		}
		r := rows[0]
		want := []struct{ name, got, want string }{
			{"actor type", r.ActorType, "identity"}, {"actor id", r.ActorID, "ident-9"}, {"org", r.OrgID, "org-9"},
			{"ip", r.IP, "192.0.2.7"}, {"user agent", r.UserAgent, "ua/1"}, {"request id", r.RequestID, "req-1"},
			{"outcome", r.Outcome, "success"}, {"node", r.Node, "n1"}, {"keys", r.KeysJSON, `["A","B"]`},
			{"prev", r.PrevHash, ""}, {"hash", r.Hash, audit.Hash(r)}, {"next prev", rows[1].PrevHash, r.Hash},
		}
		for _, w := range want {
			if w.got != w.want {
				t.Errorf("%s = %q, want %q", w.name, w.got, w.want)
			}
		}
		if r.Seq != 1 || rows[1].Seq != 2 {
			t.Errorf("seqs %d, %d; want 1, 2", r.Seq, rows[1].Seq)
		}
		if res := mustVerify(t, db); !res.OK() || res.Checked != 2 {
			t.Fatalf("verify: %+v", res)
		}
	})
}

func TestRolledBackChangeLeavesNoEvent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		l := newLog(t, db, audit.Options{})
		record(t, db, l, event(coffer.ActionSecretCreate, 1))
		boom := errors.New("boom")
		err := db.InTx(t.Context(), func(tx *store.Tx) error {
			if err := l.Record(t.Context(), tx, event(coffer.ActionSecretDelete, 2)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		record(t, db, l, event(coffer.ActionSecretUpdate, 3))
		rows := allRows(t, db)
		if len(rows) != 2 || rows[0].Action != coffer.ActionSecretCreate || rows[1].Action != coffer.ActionSecretUpdate {
			t.Fatalf("rows after a rollback: %d", len(rows))
		}
		if rows[1].Seq != 2 {
			t.Errorf("the rolled-back event took a sequence number: %d", rows[1].Seq)
		}
		if res := mustVerify(t, db); !res.OK() {
			t.Fatalf("verify: %+v", res.Broken)
		}
	})
}

func TestVerifyNamesTheTamperedEvent(t *testing.T) {
	tamper := []struct {
		name, sql string
		reason    string
	}{
		{"edited action", `UPDATE audit_events SET action = 'secret.read' WHERE seq = 3`, "content"},
		{"edited metadata", `UPDATE audit_events SET metadata = '{"n":99}' WHERE seq = 3`, "content"},
		{"edited time", `UPDATE audit_events SET created_at = created_at + 1 WHERE seq = 3`, "content"},
		{"edited prev_hash", `UPDATE audit_events SET prev_hash = 'x' WHERE seq = 3`, "prev_hash"},
		{"removed", `DELETE FROM audit_events WHERE seq = 3`, "missing"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *store.DB) {
				l := newLog(t, db, audit.Options{})
				for i := range 5 {
					record(t, db, l, event(coffer.ActionSecretCreate, i))
				}
				rows := allRows(t, db)
				if _, err := rawExec(t, db, tc.sql); err != nil {
					t.Fatal(err)
				}
				res := mustVerify(t, db)
				if res.OK() {
					t.Fatal("verify found no break")
				}
				wantID := rows[2].ID
				if tc.reason == "missing" {
					wantID = rows[3].ID // the event after the gap
				}
				if res.Broken.ID != wantID || !strings.Contains(res.Broken.Reason, tc.reason) {
					t.Fatalf("broken = %+v, want event %s (%s)", res.Broken, wantID, tc.reason)
				}
				if res.Broken.Expected == res.Broken.Found {
					t.Errorf("expected and found hashes are equal: %+v", res.Broken)
				}
			})
		})
	}
}

// rawExec runs SQL outside the store, as an attacker with database access would.
func rawExec(t *testing.T, db *store.DB, q string) (int64, error) {
	t.Helper()
	r, _ := raw.Load(db)
	res, err := r.(*sql.DB).ExecContext(t.Context(), q)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func TestConcurrentNodesKeepOneChain(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes, writers, each = 3, 4, 15
	dbs := make([]*store.DB, nodes)
	for i := range dbs {
		db, err := store.Open(t.Context(), store.Postgres, url, store.Options{MaxOpenConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(t.Context(), quiet); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	var wg sync.WaitGroup
	errs := make(chan error, nodes*writers*2)
	for n, db := range dbs {
		l := newLog(t, db, audit.Options{Node: fmt.Sprintf("node-%d", n), FlushInterval: time.Millisecond, BatchSize: 7})
		for w := range writers {
			wg.Add(1)
			go func() { // changes, in transactions
				defer wg.Done()
				for i := range each {
					err := db.InTx(context.Background(), func(tx *store.Tx) error {
						return l.Record(context.Background(), tx, event(coffer.ActionSecretUpdate, n*1000+w*100+i))
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
			wg.Add(1)
			go func() { // reads, through the buffer
				defer wg.Done()
				for i := range each {
					if err := l.Enqueue(context.Background(), event(coffer.ActionSecretRead, i)); err != nil {
						errs <- err
						return
					}
				}
				if err := l.Flush(context.Background()); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows := allRows(t, dbs[0])
	if want := nodes * writers * each * 2; len(rows) != want {
		t.Fatalf("%d events, want %d", len(rows), want)
	}
	perNode := map[string]int{}
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d: the chain is not linear", i, r.Seq)
		}
		perNode[r.Node]++
	}
	if len(perNode) != nodes {
		t.Errorf("events by node: %v", perNode)
	}
	if res := mustVerify(t, dbs[1]); !res.OK() || res.Checked != len(rows) {
		t.Fatalf("verify: checked %d of %d, broken %+v", res.Checked, len(rows), res.Broken)
	}
}

func TestEnqueueIsWrittenOnFlushAndClose(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		l := audit.New(db, audit.Options{Log: quiet, FlushInterval: time.Hour, BatchSize: 1000, BufferSize: 4})
		l.Start()
		for i := range 3 {
			if err := l.Enqueue(t.Context(), event(coffer.ActionSecretRead, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(allRows(t, db)); n != 3 {
			t.Fatalf("after Flush: %d events, want 3", n)
		}
		// More than the buffer holds: Enqueue waits for room instead of dropping.
		for i := range 10 {
			if err := l.Enqueue(t.Context(), event(coffer.ActionSecretRead, 10+i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(allRows(t, db)); n != 13 {
			t.Fatalf("after Close: %d events, want 13", n)
		}
		if err := l.Enqueue(t.Context(), event(coffer.ActionSecretRead, 99)); err == nil {
			t.Error("Enqueue after Close succeeded")
		}
		if res := mustVerify(t, db); !res.OK() {
			t.Fatalf("verify: %+v", res.Broken)
		}
	})
}

func TestEnqueueWaitsWhenFullAndFailsWithItsContext(t *testing.T) {
	db := openDB(t, store.SQLite, filepath.Join(t.TempDir(), "coffer.db"))
	l := audit.New(db, audit.Options{Log: quiet, BufferSize: 1}) // not started: nothing drains
	if err := l.Enqueue(t.Context(), event(coffer.ActionSecretRead, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := l.Enqueue(ctx, event(coffer.ActionSecretRead, 2)); coffer.ErrorCode(err) != coffer.EINTERNAL {
		t.Fatalf("Enqueue on a full buffer = %v, want an error once its context ends", err)
	}
}

func TestPruneKeepsTheChainVerifiable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		l := newLog(t, db, audit.Options{})
		for i := range 10 {
			ev := event(coffer.ActionSecretCreate, i)
			ev.Time = base.Add(time.Duration(i) * 24 * time.Hour)
			record(t, db, l, ev)
		}
		n, err := audit.Prune(t.Context(), db, base.Add(6*24*time.Hour))
		if err != nil || n != 6 {
			t.Fatalf("Prune = %d, %v; want 6", n, err)
		}
		res := mustVerify(t, db)
		if !res.OK() || res.From != 6 || res.Checked != 4 {
			t.Fatalf("verify after prune: %+v (broken %+v)", res, res.Broken)
		}
		record(t, db, l, event(coffer.ActionSecretUpdate, 11))
		if res := mustVerify(t, db); !res.OK() || res.Checked != 5 {
			t.Fatalf("verify after prune and append: %+v", res)
		}
		if n, err := audit.Prune(t.Context(), db, base.Add(6*24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second Prune = %d, %v; want 0", n, err)
		}
		// Removing the first event left after the anchor is still found.
		rows := allRows(t, db)
		if _, err := rawExec(t, db, fmt.Sprintf(`DELETE FROM audit_events WHERE seq = %d`, rows[0].Seq)); err != nil {
			t.Fatal(err)
		}
		if res := mustVerify(t, db); res.OK() || res.Broken.ID != rows[1].ID {
			t.Fatalf("verify after deleting the first event: %+v", res.Broken)
		}
	})
}

func TestStreamFileGetsJSONLinesOfCommittedEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		s, err := audit.OpenStream(path, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		l := newLog(t, db, audit.Options{Stream: s, Node: "n1"})
		record(t, db, l, event(coffer.ActionSecretCreate, 1), event(coffer.ActionSecretUpdate, 2))
		db.InTx(t.Context(), func(tx *store.Tx) error { //nolint:errcheck // rolled back on purpose
			l.Record(t.Context(), tx, event(coffer.ActionSecretDelete, 3)) //nolint:errcheck
			return errors.New("roll back")
		})
		if err := l.Enqueue(t.Context(), event(coffer.ActionSecretRead, 4)); err != nil {
			t.Fatal(err)
		}
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		var got []string
		for _, line := range lines {
			var ev audit.JSONEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("not a JSON line: %q: %v", line, err)
			}
			if ev.Hash == "" || ev.Seq == 0 || ev.Node != "n1" {
				t.Errorf("incomplete line: %s", line)
			}
			got = append(got, ev.Action)
		}
		want := []string{coffer.ActionSecretCreate, coffer.ActionSecretUpdate, coffer.ActionSecretRead}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("streamed %v, want %v", got, want)
		}
	})
}
