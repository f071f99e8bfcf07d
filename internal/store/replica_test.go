package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// replicaFixture is a store on a replicated PostgreSQL with one organization.
type replicaFixture struct {
	pg  *testenv.Replicated
	db  *store.DB
	org *coffer.Organization
	n   atomic.Int64
}

func newReplicaFixture(t *testing.T) *replicaFixture {
	t.Helper()
	pg := testenv.PostgresReplicated(t)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Postgres, pg.PrimaryURL, store.Options{ReadReplicas: []string{pg.ReplicaURL},
		StatementTimeout: 10 * time.Second, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	f := &replicaFixture{pg: pg, db: db}
	now := time.Now().UTC().Truncate(time.Millisecond)
	f.org = &coffer.Organization{ID: store.NewID(), Name: "Acme", Slug: "acme", CreatedAt: now, UpdatedAt: now}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateOrganization(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	pg.WaitReplayed(t)
	return f
}

// createProject writes a project through ctx's session.
func (f *replicaFixture) createProject(ctx context.Context) (*coffer.Project, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	slug := fmt.Sprintf("p%d", f.n.Add(1))
	p := &coffer.Project{ID: store.NewID(), OrgID: f.org.ID, Name: slug, Slug: slug, CreatedAt: now, UpdatedAt: now,
		Environments: coffer.DefaultEnvironments()}
	for i := range p.Environments {
		p.Environments[i].CreatedAt, p.Environments[i].UpdatedAt = now, now
	}
	return p, f.db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateProject(ctx, p) })
}

func (f *replicaFixture) mustCreateProject(t *testing.T, ctx context.Context) *coffer.Project {
	t.Helper()
	p, err := f.createProject(ctx)
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// sees reports whether a list of the organization's projects read with ctx holds p.
func (f *replicaFixture) sees(t *testing.T, ctx context.Context, p *coffer.Project) bool {
	t.Helper()
	ps, err := f.db.ListProjects(ctx, f.org.ID)
	if err != nil {
		t.Fatalf("list projects: %v", err)
	}
	return slices.ContainsFunc(ps, func(q *coffer.Project) bool { return q.ID == p.ID })
}

func (f *replicaFixture) replicaReads() int64 { return f.db.ReplicaStats()[0].Reads }

// TestReplicaReads proves with a paused standby which reads a replica serves: a list read in a
// fresh session misses a project the lagging replica has not replayed, while the request that
// wrote, Primary, reads without a session and single-row lookups see it.
func TestReplicaReads(t *testing.T) {
	t.Parallel()
	f := newReplicaFixture(t)
	ctx := context.Background()
	f.pg.PauseReplay(t)
	lagged := f.mustCreateProject(t, ctx)

	before := f.replicaReads()
	if f.sees(t, store.WithSession(ctx), lagged) {
		t.Fatal("a fresh session listed a project the paused replica has not replayed: the list was not read from the replica")
	}
	if got := f.replicaReads(); got <= before {
		t.Errorf("replica reads = %d, want more than %d", got, before)
	}
	if !f.sees(t, ctx, lagged) {
		t.Error("a read without a session (background work) did not read from the primary")
	}
	if !f.sees(t, store.Primary(store.WithSession(ctx)), lagged) {
		t.Error("a Primary read did not read from the primary")
	}
	// A lookup that misses on the replica finds the row on the primary, and the rest of its
	// request reads from the primary: the replica is behind what this request needs.
	behind := store.WithSession(ctx)
	got, err := f.db.FindProject(behind, lagged.ID)
	if err != nil || got.ID != lagged.ID {
		t.Errorf("FindProject of a project the replica lacks = %v, %v; want it found on the primary", got, err)
	}
	if !f.sees(t, behind, lagged) {
		t.Error("after a lookup found only on the primary, the session still reads from the lagging replica")
	}
	// A lookup that misses everywhere changes nothing.
	missing := store.WithSession(ctx)
	if _, err := f.db.FindProject(missing, store.NewID()); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("FindProject of no project: %v", err)
	}
	if f.sees(t, missing, lagged) {
		t.Error("a lookup that found nothing anywhere moved the session to the primary")
	}

	// The request that wrote reads its write, and the writes of others, from the primary.
	sess := store.WithSession(ctx)
	if f.sees(t, sess, lagged) {
		t.Fatal("before writing, the session read from the primary")
	}
	own := f.mustCreateProject(t, sess)
	if !f.sees(t, sess, own) || !f.sees(t, sess, lagged) {
		t.Error("after a write, the session's reads do not come from the primary")
	}
	// So does a request that wrote outside a transaction.
	direct := store.WithSession(ctx)
	if _, err := f.db.ClaimSetting(direct, "replica-test", "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !f.sees(t, direct, lagged) {
		t.Error("after a write outside a transaction, the session's reads do not come from the primary")
	}
	// A failed transaction wrote nothing: the session stays on the replica.
	sess2 := store.WithSession(ctx)
	boom := errors.New("boom")
	if err := f.db.InTx(sess2, func(tx *store.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if f.sees(t, sess2, lagged) {
		t.Error("a rolled-back transaction moved the session to the primary")
	}

	f.pg.ResumeReplay(t)
	f.pg.WaitReplayed(t)
	if !f.sees(t, store.WithSession(ctx), lagged) {
		t.Error("after replay resumed, the replica still lacks the project")
	}
}

// TestReplicaDown kills the replica under reads: every read succeeds (from the primary), and
// once the replica is back it serves reads again, without reopening the store.
func TestReplicaDown(t *testing.T) {
	t.Parallel()
	f := newReplicaFixture(t)
	ctx := context.Background()
	p := f.mustCreateProject(t, ctx)
	f.pg.WaitReplayed(t)
	if !f.sees(t, store.WithSession(ctx), p) || f.replicaReads() == 0 {
		t.Fatal("the replica does not serve reads")
	}

	f.pg.KillReplica(t)
	failed := 0
	for i := range 50 {
		sess := store.WithSession(ctx)
		if _, err := f.db.ListProjects(sess, f.org.ID); err != nil {
			failed++
			t.Errorf("read %d with the replica down: %v", i, err)
		}
		if _, err := f.db.FindProject(sess, p.ID); err != nil {
			failed++
			t.Errorf("lookup %d with the replica down: %v", i, err)
		}
	}
	st := f.db.ReplicaStats()[0]
	t.Logf("replica killed: 100 reads, %d failed; replica healthy=%v", failed, st.Healthy)
	if st.Healthy {
		t.Error("the replica is still marked healthy after it was killed")
	}

	f.pg.StartReplica(t)
	start, reads := time.Now(), f.replicaReads()
	for f.replicaReads() == reads {
		if time.Since(start) > time.Minute {
			t.Fatal("the restarted replica serves no read after a minute")
		}
		f.sees(t, store.WithSession(ctx), p)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("replica restarted: serving reads again after %v", time.Since(start).Round(time.Millisecond))
}

// TestPrimaryRestart stops the primary: writes fail at once with EUNAVAILABLE (a 503), session
// reads keep being served by the replica, and once the primary is back on the same port writes
// succeed again without reopening the store.
func TestPrimaryRestart(t *testing.T) {
	t.Parallel()
	f := newReplicaFixture(t)
	ctx := context.Background()
	f.mustCreateProject(t, ctx)

	f.pg.StopPrimary(t)
	start := time.Now()
	_, err := f.createProject(ctx)
	t.Logf("write with the primary down failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil {
		t.Fatal("a write succeeded with the primary down")
	}
	if !store.IsUnavailable(err) || coffer.ErrorCode(err) != coffer.EUNAVAILABLE {
		t.Errorf("write error %v is not EUNAVAILABLE", err)
	}
	if err := f.db.Ping(ctx); coffer.ErrorCode(err) != coffer.EUNAVAILABLE {
		t.Errorf("Ping with the primary down = %v, want EUNAVAILABLE", err)
	}
	if _, err := f.db.ListProjects(store.WithSession(ctx), f.org.ID); err != nil {
		t.Errorf("a session read with the primary down failed: %v (the replica should serve it)", err)
	}
	if _, err := f.db.ListProjects(ctx, f.org.ID); coffer.ErrorCode(err) != coffer.EUNAVAILABLE {
		t.Errorf("a primary read with the primary down = %v, want EUNAVAILABLE", err)
	}

	restart := time.Now()
	f.pg.StartPrimary(t)
	t.Logf("primary accepting connections again %v after the restart began", time.Since(restart).Round(time.Millisecond))
	start = time.Now()
	attempts := 0
	for {
		attempts++
		_, err := f.createProject(ctx)
		if err == nil {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("writes still fail a minute after the primary came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("primary restarted: first write succeeded after %v, at attempt %d", time.Since(start).Round(time.Millisecond), attempts)
}

// TestMultiHostURL connects with target_session_attrs=read-write through a URL whose first
// hosts are a dead port and the standby: only the primary accepts the session.
func TestMultiHostURL(t *testing.T) {
	t.Parallel()
	pg := testenv.PostgresReplicated(t)
	dead := freeDeadPort(t)
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/coffer?sslmode=disable&target_session_attrs=read-write",
		dead, pg.ReplicaPort(), pg.PrimaryPort())
	ctx := context.Background()
	db, err := store.Open(ctx, store.Postgres, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate through a multi-host URL: %v", err)
	}
	o := &coffer.Organization{ID: store.NewID(), Name: "Acme", Slug: "acme", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
		t.Fatalf("write through a multi-host URL: %v", err)
	}
}

// TestOpenBadTLSSettings: a URL naming a missing CA file fails to open with a message that
// names the file and never the password.
func TestOpenBadTLSSettings(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://coffer:planted-pw@127.0.0.1:1/coffer?sslmode=verify-full&sslrootcert=/missing/ca.pem",
		"postgres://127.0.0.1:1/coffer?user=coffer&password=planted-pw&sslmode=verify-full&sslrootcert=/missing/ca.pem",
	} {
		_, err := store.Open(context.Background(), store.Postgres, url, store.Options{})
		if err == nil {
			t.Fatal("Open succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, "planted-pw") || !strings.Contains(msg, "/missing/ca.pem") {
			t.Errorf("error %q leaks the password or does not name the CA file", msg)
		}
	}
}

// freeDeadPort returns a loopback port on which nothing listens.
func freeDeadPort(t *testing.T) int {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestReplicaRefusesConnections: a replica that answers but refuses the connection (here, a
// database that does not exist; in production a wrong password) is set aside like one that is
// down, and reads succeed on the primary.
func TestReplicaRefusesConnections(t *testing.T) {
	t.Parallel()
	primary := testenv.PostgresURL(t)
	u, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_database"
	ctx := context.Background()
	db, err := store.Open(ctx, store.Postgres, primary, store.Options{ReadReplicas: []string{u.String()},
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := db.ListProjects(store.WithSession(ctx), store.NewID()); err != nil {
			t.Fatalf("read with a refusing replica: %v", err)
		}
	}
	if st := db.ReplicaStats()[0]; st.Healthy || st.Reads != 0 {
		t.Errorf("refusing replica: healthy %v, reads %d; want set aside, no reads", st.Healthy, st.Reads)
	}
}
