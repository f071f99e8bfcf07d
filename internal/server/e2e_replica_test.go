package server_test

// End-to-end tests of a node on a real replicated PostgreSQL (a primary and a streaming
// standby from testenv.PostgresReplicated): reads served by the replica, a fresh token that
// authenticates while the replica lags, a replica killed under load, and a primary restarted
// under a node that keeps running.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestReplicatedPostgres(t *testing.T) {
	t.Parallel()
	pg := testenv.PostgresReplicated(t)
	n := servertest.StartWith(t, store.Postgres, func(c *config.Config) {
		c.DatabaseURL, c.DatabaseReadReplicas = pg.PrimaryURL, pg.ReplicaURL
	})
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "app", "admin")
	secretsPath := "/api/v3/secrets/raw?" + url.Values{"workspaceId": {p.ID}, "environment": {"dev"}, "secretPath": {"/"}}.Encode()
	create := func(token, key string) *servertest.Response {
		return n.Do(t, http.MethodPost, "/api/v3/secrets/raw/"+key, token, map[string]any{
			"workspaceId": p.ID, "environment": "dev", "secretPath": "/", "secretValue": "v-" + key, "type": "shared"})
	}
	if r := create(p.Token, "API_KEY"); r.Status != http.StatusOK {
		t.Fatalf("create secret: %d %s", r.Status, r.Body)
	}
	pg.WaitReplayed(t)
	replicaReads := func() int64 { return n.Server.DB.ReplicaStats()[0].Reads }

	t.Run("reads served by the replica", func(t *testing.T) {
		// Secret listings are cached, and filled from the primary; folder listings are not.
		n.MustDo(t, http.MethodPost, "/api/v1/folders", p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/", "name": "sub"})
		pg.WaitReplayed(t)
		before := replicaReads()
		r := n.MustDo(t, http.MethodGet, "/api/v1/folders?"+url.Values{"workspaceId": {p.ID}, "environment": {"dev"}, "path": {"/"}}.Encode(), p.Token, nil)
		if !strings.Contains(string(r.Body), `"sub"`) {
			t.Errorf("folder list lacks sub: %s", r.Body)
		}
		if replicaReads() <= before {
			t.Error("listing folders read nothing from the replica")
		}
		if r := n.MustDo(t, http.MethodGet, secretsPath, p.Token, nil); !strings.Contains(string(r.Body), "API_KEY") {
			t.Errorf("secret list lacks API_KEY: %s", r.Body)
		}
	})

	t.Run("fresh credentials work while the replica lags", func(t *testing.T) {
		pg.PauseReplay(t)
		defer pg.ResumeReplay(t)
		// A new identity, its universal auth, client secret, token and project membership: all
		// written on the primary, none replayed on the replica.
		id, _, _, token := n.NewIdentity(t, admin, "fresh", "no-access")
		n.MustDo(t, http.MethodPost, "/api/v2/workspace/"+p.ID+"/identity-memberships/"+id, admin.Token, map[string]any{"role": "admin"})
		r := n.Do(t, http.MethodGet, secretsPath, token, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "API_KEY") {
			t.Fatalf("a token minted a moment ago, used while the replica lags: %d %s", r.Status, r.Body)
		}
		if r := create(token, "FRESH_KEY"); r.Status != http.StatusOK {
			t.Errorf("write with the fresh token: %d %s", r.Status, r.Body)
		}
	})
	pg.WaitReplayed(t)

	t.Run("replica killed", func(t *testing.T) {
		pg.KillReplica(t)
		failed := 0
		for range 40 {
			if r := n.Do(t, http.MethodGet, secretsPath, p.Token, nil); r.Status != http.StatusOK {
				failed++
				t.Errorf("read with the replica down: %d %s", r.Status, r.Body)
			}
		}
		t.Logf("replica killed: 40 reads, %d failed", failed)
		pg.StartReplica(t)
	})

	t.Run("primary restarted", func(t *testing.T) {
		pg.StopPrimary(t)
		start := time.Now()
		r := create(p.Token, "DURING_OUTAGE")
		t.Logf("write with the primary down: %d after %v: %s", r.Status, time.Since(start).Round(time.Millisecond), r.Body)
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "ServiceUnavailable") ||
			r.Header.Get("Retry-After") == "" {
			t.Errorf("write with the primary down: %d %v %s, want 503 ServiceUnavailable with Retry-After", r.Status, r.Header, r.Body)
		}
		if r := n.Do(t, http.MethodGet, "/readyz", "", nil); r.Status != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the primary down: %d, want 503", r.Status)
		}

		restart := time.Now()
		pg.StartPrimary(t)
		up := time.Since(restart)
		start, attempts := time.Now(), 0
		for {
			attempts++
			r := create(p.Token, "AFTER_RESTART")
			if r.Status == http.StatusOK {
				break
			}
			if r.Status != http.StatusServiceUnavailable || time.Since(start) > time.Minute {
				t.Fatalf("write after the primary came back: %d %s", r.Status, r.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("primary restarted in %v; the node's first successful write came %v later, at attempt %d, without a node restart",
			up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), attempts)
		n.MustDo(t, http.MethodGet, "/readyz", "", nil)
	})
}
