package server_test

// Project key rotation end to end: a rotation under concurrent writes (through two nodes on
// PostgreSQL), the re-seal job, the retirement of the old key, and every value (current and
// kept versions) readable afterwards. Names start with "kx".

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

type kxStatus struct {
	CurrentTerm uint32 `json:"currentTerm"`
	Resealing   bool   `json:"resealing"`
	PendingRows int    `json:"pendingRows"`
	Keys        []struct {
		Term      uint32     `json:"term"`
		Status    string     `json:"status"`
		RetiredAt *time.Time `json:"retiredAt"`
	} `json:"keys"`
	Job *struct {
		Kind      string    `json:"kind"`
		Status    string    `json:"status"`
		Attempts  int       `json:"attempts"`
		LastError string    `json:"lastError"`
		RunAt     time.Time `json:"runAt"`
	} `json:"job"`
}

// kxTerms returns how many stored ciphertexts of the project (secrets and versions, values and
// comments) are sealed with each key term, read straight from the database.
func kxTerms(t *testing.T, db *sql.DB, dialect, projectID string) map[uint32]int {
	t.Helper()
	q := `SELECT s.value, s.comment FROM secrets s WHERE s.project_id = ?
 UNION ALL SELECT v.value, v.comment FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.project_id = ?`
	if dialect == store.Postgres {
		q = `SELECT s.value, s.comment FROM secrets s WHERE s.project_id = $1
 UNION ALL SELECT v.value, v.comment FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.project_id = $2`
	}
	rows, err := db.Query(q, projectID, projectID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint32]int{}
	for rows.Next() {
		var v, c []byte
		if err := rows.Scan(&v, &c); err != nil {
			t.Fatal(err)
		}
		for _, ct := range [][]byte{v, c} {
			term, err := keyring.Term(ct)
			if err != nil {
				t.Fatalf("stored ciphertext: %v", err)
			}
			out[term]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestE2EProjectKeyRotation(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		// PostgreSQL: a second node on the same database, with its own key cache. SQLite is
		// served by one process per file: there the "peer" is the same node.
		peer := n
		if dialect == store.Postgres {
			peer = n.StartPeer(t)
		}
		p := n.NewProject(t, admin, "rotation", coffer.RoleMember)
		db := axOpenDB(t, n)
		keysPath := "/api/v1/workspace/" + p.ID + "/keys"

		// 40 secrets with a comment, each updated twice: 3 kept versions each.
		const count = 40
		want := map[string]string{}
		var batch []map[string]any
		for i := range count {
			k := fmt.Sprintf("KEY_%02d", i)
			batch = append(batch, map[string]any{"secretKey": k, "secretValue": "v1-" + k, "secretComment": "comment " + k})
			want[k] = "v1-" + k
		}
		scope := map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/"}
		body := func(extra map[string]any) map[string]any {
			m := map[string]any{}
			for k, v := range scope {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, body(map[string]any{"secrets": batch}))
		for round := 2; round <= 3; round++ {
			var upd []map[string]any
			for k := range want {
				want[k] = fmt.Sprintf("v%d-%s", round, k)
				upd = append(upd, map[string]any{"secretKey": k, "secretValue": want[k]})
			}
			n.MustDo(t, http.MethodPatch, "/api/v4/secrets/batch", p.Token, body(map[string]any{"secrets": upd}))
		}
		// The peer reads (and so caches the project's key of term 1) before the rotation.
		peer.MustDo(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev&secretPath=/", p.Token, nil)
		const sealed = 2 * (count + 3*count) // value and comment of each secret and of its 3 versions
		if got := kxTerms(t, db, dialect, p.ID); got[1] != sealed || len(got) != 1 {
			t.Fatalf("before rotation: ciphertexts by term %v, want all %d of term 1", got, sealed)
		}
		var st kxStatus
		n.MustDo(t, http.MethodGet, keysPath, admin.Token, nil).JSON(t, &st)
		if st.CurrentTerm != 1 || st.Resealing || len(st.Keys) != 1 || st.Keys[0].Status != "current" {
			t.Fatalf("before rotation: %+v", st)
		}
		// A developer may not rotate: only project admins (settings: edit).
		axWantErr(t, n.Do(t, http.MethodPost, keysPath+"/rotate", p.Token, nil), http.StatusForbidden, "developer rotates")

		// Writers on both nodes keep changing W_0..W_3 while the key rotates.
		var stop atomic.Bool
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := map[string]string{}
		for w, node := range []*servertest.Node{n, peer} {
			for j := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k := fmt.Sprintf("W_%d", 2*w+j)
					for i := 0; !stop.Load(); i++ {
						v := fmt.Sprintf("%s-%d", k, i)
						method, path := http.MethodPatch, "/api/v4/secrets/"+k
						if i == 0 {
							method = http.MethodPost
						}
						r := node.Do(t, method, path, p.Token, body(map[string]any{"secretValue": v, "secretComment": "c"}))
						if r.Status != http.StatusOK {
							t.Errorf("write %s during rotation: %d %s", k, r.Status, r.Body)
							return
						}
						mu.Lock()
						written[k] = v
						mu.Unlock()
					}
				}()
			}
		}
		time.Sleep(100 * time.Millisecond)
		n.MustDo(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil).JSON(t, &st)
		if st.CurrentTerm != 2 {
			t.Fatalf("after rotate: %+v", st)
		}
		time.Sleep(200 * time.Millisecond) // writes after the rotation, on both nodes
		stop.Store(true)
		wg.Wait()
		if t.Failed() {
			return
		}

		st = kxWaitResealed(t, n, admin, keysPath)
		if len(st.Keys) != 2 || st.Keys[0].Status != "retired" || st.Keys[0].RetiredAt == nil || st.Keys[1].Status != "current" || st.PendingRows != 0 {
			t.Fatalf("after re-seal: %+v", st)
		}
		got := kxTerms(t, db, dialect, p.ID)
		if got[1] != 0 || got[2] == 0 {
			t.Fatalf("after re-seal: ciphertexts by term %v, want none of term 1", got)
		}
		// The old key is destroyed, not only marked.
		var wrapped []byte
		q := "SELECT wrapped FROM project_keys WHERE project_id = ? AND term = 1"
		if dialect == store.Postgres {
			q = "SELECT wrapped FROM project_keys WHERE project_id = $1 AND term = 1"
		}
		if err := db.QueryRow(q, p.ID).Scan(&wrapped); err != nil || len(wrapped) != 0 {
			t.Fatalf("retired key: %d bytes still stored (err %v)", len(wrapped), err)
		}

		// Everything reads back through both nodes: values, comments, every kept version, and a
		// rollback to a version sealed before the rotation.
		for k, v := range written {
			want[k] = v
		}
		for _, node := range []*servertest.Node{n, peer} {
			var list struct {
				Secrets []struct {
					Key     string `json:"secretKey"`
					Value   string `json:"secretValue"`
					Comment string `json:"secretComment"`
				} `json:"secrets"`
			}
			node.MustDo(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev&secretPath=/", p.Token, nil).JSON(t, &list)
			if len(list.Secrets) != len(want) {
				t.Fatalf("%d secrets listed, want %d", len(list.Secrets), len(want))
			}
			for _, s := range list.Secrets {
				if want[s.Key] != s.Value || s.Comment == "" {
					t.Errorf("%s after rotation: value %q comment %q, want %q", s.Key, s.Value, s.Comment, want[s.Key])
				}
			}
		}
		var vs struct {
			Versions []struct {
				Version int    `json:"version"`
				Value   string `json:"secretValue"`
			} `json:"secretVersions"`
		}
		n.MustDo(t, http.MethodGet, "/api/v4/secrets/KEY_07/versions?projectId="+p.ID+"&environment=dev&secretPath=/", p.Token, nil).JSON(t, &vs)
		if len(vs.Versions) != 3 {
			t.Fatalf("KEY_07 versions: %+v", vs)
		}
		for _, v := range vs.Versions {
			if v.Value != fmt.Sprintf("v%d-KEY_07", v.Version) {
				t.Errorf("KEY_07 version %d = %q", v.Version, v.Value)
			}
		}
		peer.MustDo(t, http.MethodPost, "/api/v4/secrets/KEY_07/rollback", p.Token, body(map[string]any{"version": 1}))
		if v := kxValue(t, n, p, "KEY_07"); v != "v1-KEY_07" {
			t.Errorf("KEY_07 after rollback to 1: %q", v)
		}

		// The rotation and the retirement are in the audit log.
		var logs struct {
			AuditLogs []struct {
				Event struct {
					Type     string         `json:"type"`
					Metadata map[string]any `json:"metadata"`
				} `json:"event"`
				Actor struct {
					Type string `json:"type"`
				} `json:"actor"`
			} `json:"auditLogs"`
		}
		n.MustDo(t, http.MethodGet, "/api/v1/organization/"+admin.OrgID+"/audit-logs?projectId="+p.ID+"&limit=1000", admin.Token, nil).JSON(t, &logs)
		seen := map[string]string{}
		for _, l := range logs.AuditLogs {
			seen[l.Event.Type] = l.Actor.Type
		}
		if seen[coffer.ActionProjectKeyRotate] != coffer.AuditActorIdentity || seen[coffer.ActionProjectKeyRetire] != coffer.AuditActorSystem {
			t.Errorf("audit log: rotate by %q, retire by %q; want identity (the admin) and system", seen[coffer.ActionProjectKeyRotate], seen[coffer.ActionProjectKeyRetire])
		}

		// A second rotation works the same way.
		n.MustDo(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil).JSON(t, &st)
		if st.CurrentTerm != 3 {
			t.Fatalf("second rotation: %+v", st)
		}
		if st = kxWaitResealed(t, n, admin, keysPath); len(st.Keys) != 3 || st.Keys[1].Status != "retired" {
			t.Fatalf("after the second re-seal: %+v", st)
		}
		if got := kxTerms(t, db, dialect, p.ID); len(got) != 1 || got[3] == 0 {
			t.Fatalf("after the second re-seal: ciphertexts by term %v, want all of term 3", got)
		}
	})
}

// kxValue reads one secret of the project's dev root as its identity.
func kxValue(t *testing.T, n *servertest.Node, p *servertest.Project, key string) string {
	t.Helper()
	var one struct {
		Secret struct {
			Value string `json:"secretValue"`
		} `json:"secret"`
	}
	n.MustDo(t, http.MethodGet, "/api/v4/secrets/"+key+"?projectId="+p.ID+"&environment=dev&secretPath=/", p.Token, nil).JSON(t, &one)
	return one.Secret.Value
}

// kxWaitResealed waits for the project's re-seal job to finish and returns the key status.
func kxWaitResealed(t *testing.T, n *servertest.Node, admin *servertest.Admin, keysPath string) kxStatus {
	t.Helper()
	return kxWaitStatus(t, n, admin, keysPath, func(st kxStatus) bool { return !st.Resealing })
}

// kxWaitStatus polls the project's key status until done says so, for at most 60 s.
func kxWaitStatus(t *testing.T, n *servertest.Node, admin *servertest.Admin, keysPath string, done func(kxStatus) bool) kxStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st kxStatus
		n.MustDo(t, http.MethodGet, keysPath, admin.Token, nil).JSON(t, &st)
		if done(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("key status did not reach the awaited state in 60 s: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A row that cannot be opened stops the re-seal without destroying the old key: the job's
// error (naming the row, never a value) shows in the key status and the job retries by
// itself; once the row is gone the re-seal finishes.
func TestE2EProjectKeyRotationStopsOnUnreadableRow(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "tampered", coffer.RoleMember)
		keysPath := "/api/v1/workspace/" + p.ID + "/keys"
		scope := func(extra map[string]any) map[string]any {
			m := map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/GOOD", p.Token, scope(map[string]any{"secretValue": "good-value"}))
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/BROKEN", p.Token, scope(map[string]any{"secretValue": "broken-value"}))

		// Flip the last byte of BROKEN's stored value: it keeps its term, but no longer opens.
		driver, dsn, sel, upd := "pgx", n.DSN, `SELECT value FROM secrets WHERE name = $1 AND project_id = $2`,
			`UPDATE secrets SET value = $1 WHERE name = $2 AND project_id = $3`
		if dialect == store.SQLite {
			driver, dsn = "sqlite", "file:"+n.DSN+"?_pragma=busy_timeout(10000)"
			sel, upd = `SELECT value FROM secrets WHERE name = ? AND project_id = ?`, `UPDATE secrets SET value = ? WHERE name = ? AND project_id = ?`
		}
		w, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		var ct []byte
		if err := w.QueryRow(sel, "BROKEN", p.ID).Scan(&ct); err != nil {
			t.Fatal(err)
		}
		ct[len(ct)-1] ^= 1
		if _, err := w.Exec(upd, ct, "BROKEN", p.ID); err != nil {
			t.Fatal(err)
		}

		n.MustDo(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil)
		st := kxWaitStatus(t, n, admin, keysPath, func(st kxStatus) bool {
			return !st.Resealing || st.Job != nil && st.Job.LastError != ""
		})
		if !st.Resealing || len(st.Keys) != 2 || st.Keys[0].Status != "resealing" {
			t.Fatalf("the old key must stay live while a row is unreadable: %+v", st)
		}
		if !strings.Contains(st.Job.LastError, "message authentication failed") || strings.Contains(st.Job.LastError, "broken-value") {
			t.Errorf("job error %q: want the authentication failure, never the value", st.Job.LastError)
		}
		// A second rotation is refused while the job is alive; the good secret reads meanwhile.
		axWantErr(t, n.Do(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil), http.StatusBadRequest, "rotation during a re-seal")
		if v := kxValue(t, n, p, "GOOD"); v != "good-value" {
			t.Errorf("GOOD during a stuck re-seal: %q", v)
		}

		// The operator deletes the broken secret; the job's next attempt finishes.
		n.MustDo(t, http.MethodDelete, "/api/v4/secrets/BROKEN", p.Token, scope(nil))
		if got := kxWaitResealed(t, n, admin, keysPath); len(got.Keys) != 2 || got.Keys[0].Status != "retired" {
			t.Fatalf("after the broken row was deleted: %+v", got)
		}
	})
}

// With COFFER_KEY_RETIRE_DELAY the older key outlives the re-seal by that long: the status
// names the retirement job and when it runs, the key is still live meanwhile, then destroyed.
func TestE2EProjectKeyRetireDelay(t *testing.T) {
	t.Parallel()
	n := servertest.StartWith(t, store.SQLite, func(c *config.Config) { c.KeyRetireDelay = 1500 * time.Millisecond })
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "delayed", coffer.RoleMember)
	keysPath := "/api/v1/workspace/" + p.ID + "/keys"
	n.MustDo(t, http.MethodPost, "/api/v4/secrets/A", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/", "secretValue": "a"})
	rotated := time.Now()
	n.MustDo(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil)
	st := kxWaitStatus(t, n, admin, keysPath, func(st kxStatus) bool {
		return !st.Resealing || st.Job != nil && st.Job.Kind == "project.key_retire"
	})
	if !st.Resealing || st.PendingRows != 0 || st.Keys[0].Status != "resealing" || st.Job.RunAt.Before(rotated.Add(1500*time.Millisecond)) {
		t.Fatalf("waiting to retire: %+v (job %+v)", st, st.Job)
	}
	axWantErr(t, n.Do(t, http.MethodPost, keysPath+"/rotate", admin.Token, nil), http.StatusBadRequest, "rotation while the old key waits")
	if got := kxWaitResealed(t, n, admin, keysPath); got.Keys[0].Status != "retired" {
		t.Fatalf("after the delay: %+v", got)
	}
}
