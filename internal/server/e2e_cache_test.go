package server_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// The cache (internal/cache) must never serve what a committed write changed. These tests read
// through the cache (checking that it is used), change what the read depends on in every way
// that matters, and read again at once.

func listPath(projectID string) string {
	return "/api/v4/secrets?projectId=" + projectID + "&environment=dev&secretPath=/"
}

func TestE2ECacheServesEveryCommittedChange(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "cached", "member")
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, map[string]any{"projectId": p.ID, "environment": "dev",
			"secretPath": "/", "secrets": []map[string]any{{"secretKey": "A", "secretValue": "one"}}})

		read := func(want ...string) {
			t.Helper()
			body := string(n.MustDo(t, http.MethodGet, listPath(p.ID), p.Token, nil).Body)
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Fatalf("listing lacks %s: %s", w, body)
				}
			}
		}
		read(`"secretValue":"one"`)
		hits := n.Server.Cache.Stats().Hits.Load()
		read(`"secretValue":"one"`)
		if n.Server.Cache.Stats().Hits.Load() == hits {
			t.Fatal("a repeated read did not come from the cache")
		}

		// A value update.
		n.MustDo(t, http.MethodPatch, "/api/v4/secrets/A", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "two"})
		read(`"secretValue":"two"`)
		// A tag renamed: the listing shows tag slugs.
		var tag struct {
			Tag struct{ ID string } `json:"tag"`
		}
		n.MustDo(t, http.MethodPost, "/api/v1/projects/"+p.ID+"/tags", admin.Token, map[string]any{"slug": "red", "name": "Red", "color": "#f00"}).JSON(t, &tag)
		n.MustDo(t, http.MethodPatch, "/api/v4/secrets/A", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "tagIds": []string{tag.Tag.ID}})
		read(`"slug":"red"`)
		n.MustDo(t, http.MethodPatch, "/api/v1/projects/"+p.ID+"/tags/"+tag.Tag.ID, admin.Token, map[string]any{"slug": "blue"})
		read(`"slug":"blue"`)
		// An import added to the folder.
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, map[string]any{"projectId": p.ID, "environment": "prod",
			"secretPath": "/", "secrets": []map[string]any{{"secretKey": "FROM_PROD", "secretValue": "p"}}})
		n.MustDo(t, http.MethodGet, listPath(p.ID)+"&include_imports=true", p.Token, nil)
		n.MustDo(t, http.MethodPost, "/api/v1/secret-imports", p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/",
			"import": map[string]any{"environment": "prod", "path": "/"}})
		if body := string(n.MustDo(t, http.MethodGet, listPath(p.ID)+"&include_imports=true", p.Token, nil).Body); !strings.Contains(body, "FROM_PROD") {
			t.Fatalf("new import not listed: %s", body)
		}
		// A secret in the imported environment changes: the importing listing changes.
		n.MustDo(t, http.MethodPatch, "/api/v4/secrets/FROM_PROD", p.Token, map[string]any{"projectId": p.ID, "environment": "prod", "secretValue": "p2"})
		if body := string(n.MustDo(t, http.MethodGet, listPath(p.ID)+"&include_imports=true", p.Token, nil).Body); !strings.Contains(body, `"secretValue":"p2"`) {
			t.Fatalf("imported change not listed: %s", body)
		}

		// Losing the role: viewer still reads, no-access does not, at once.
		n.MustDo(t, http.MethodPatch, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, p.IdentityID), admin.Token, map[string]any{"role": "no-access"})
		if r := n.Do(t, http.MethodGet, listPath(p.ID), p.Token, nil); r.Status != http.StatusForbidden {
			t.Fatalf("after losing its role: %d %s", r.Status, r.Body)
		}
		n.MustDo(t, http.MethodPatch, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, p.IdentityID), admin.Token, map[string]any{"role": "viewer"})
		read(`"secretValue":"two"`)
		if r := n.Do(t, http.MethodPatch, "/api/v4/secrets/A", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "x"}); r.Status != http.StatusForbidden {
			t.Fatalf("viewer wrote: %d %s", r.Status, r.Body)
		}

		// Token revocation and identity deletion: 401 at once.
		other := n.NewProject(t, admin, "other", "member")
		n.MustDo(t, http.MethodGet, listPath(other.ID), other.Token, nil)
		n.MustDo(t, http.MethodPost, "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": other.Token})
		if r := n.Do(t, http.MethodGet, listPath(other.ID), other.Token, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d %s", r.Status, r.Body)
		}
		read()
		n.MustDo(t, http.MethodDelete, "/api/v1/identities/"+p.IdentityID, admin.Token, nil)
		if r := n.Do(t, http.MethodGet, listPath(p.ID), p.Token, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("token of a deleted identity: %d %s", r.Status, r.Body)
		}
		// Project deletion: the admin's cached grant goes with it.
		n.MustDo(t, http.MethodGet, listPath(other.ID), admin.Token, nil)
		n.MustDo(t, http.MethodDelete, "/api/v1/projects/"+other.ID, admin.Token, nil)
		if r := n.Do(t, http.MethodGet, listPath(other.ID), admin.Token, nil); r.Status != http.StatusNotFound {
			t.Fatalf("deleted project: %d %s", r.Status, r.Body)
		}
	})
}

// TestE2ECacheAcrossNodes runs two nodes on one PostgreSQL database: a write committed through
// one is seen by the other's very next request, though the other serves repeated reads from
// its cache.
func TestE2ECacheAcrossNodes(t *testing.T) {
	a := servertest.Start(t, store.Postgres)
	b := a.StartPeer(t)
	admin := a.Bootstrap(t)
	p := a.NewProject(t, admin, "shared", "member")
	a.MustDo(t, http.MethodPost, "/api/v4/secrets/K", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "v0"})
	has := func(n *servertest.Node, v string) bool {
		return strings.Contains(string(n.MustDo(t, http.MethodGet, listPath(p.ID), p.Token, nil).Body), `"secretValue":"`+v+`"`)
	}
	if !has(b, "v0") {
		t.Fatal("node b does not list v0")
	}
	hits := b.Server.Cache.Stats().Hits.Load()
	has(b, "v0")
	if b.Server.Cache.Stats().Hits.Load() == hits {
		t.Fatal("node b's repeated read did not come from its cache")
	}
	for i := 1; i <= 20; i++ {
		v := "v" + strconv.Itoa(i)
		a.MustDo(t, http.MethodPatch, "/api/v4/secrets/K", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": v})
		if !has(b, v) {
			t.Fatalf("node b's next request after a write through node a does not list %s", v)
		}
	}
	// Losing the role through a: refused by b at once.
	a.MustDo(t, http.MethodPatch, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, p.IdentityID), admin.Token, map[string]any{"role": "no-access"})
	if r := b.Do(t, http.MethodGet, listPath(p.ID), p.Token, nil); r.Status != http.StatusForbidden {
		t.Fatalf("node b after the role was removed through node a: %d %s", r.Status, r.Body)
	}
	a.MustDo(t, http.MethodPatch, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, p.IdentityID), admin.Token, map[string]any{"role": "member"})
	has(b, "v20")
	// A token revoked through a: refused by b at once.
	a.MustDo(t, http.MethodPost, "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": p.Token})
	if r := b.Do(t, http.MethodGet, listPath(p.ID), p.Token, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("node b with a token revoked through node a: %d %s", r.Status, r.Body)
	}
}
