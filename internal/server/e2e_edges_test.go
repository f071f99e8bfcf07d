package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// TestE2EEdgesNameTheirCause covers errors that must name what caused them rather than
// falling back to a generic conflict.
func TestE2EEdgesNameTheirCause(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "edges", "member")
		scope := map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/"}
		with := func(kv ...any) map[string]any {
			m := map[string]any{}
			for k, v := range scope {
				m[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, with("secrets", []map[string]any{
			{"secretKey": "A", "secretValue": "a"}, {"secretKey": "B", "secretValue": "b"}}))

		t.Run("two renames to one name in a batch", func(t *testing.T) {
			r := n.Do(t, http.MethodPatch, "/api/v4/secrets/batch", p.Token, with("secrets", []map[string]any{
				{"secretKey": "A", "newSecretName": "C"}, {"secretKey": "B", "newSecretName": "C"}}))
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "C") || !strings.Contains(string(r.Body), "new name") {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			l := n.MustDo(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", p.Token, nil)
			if !strings.Contains(string(l.Body), `"secretKey":"A"`) || !strings.Contains(string(l.Body), `"secretKey":"B"`) {
				t.Fatalf("a refused batch changed names: %s", l.Body)
			}
		})

		t.Run("negative version", func(t *testing.T) {
			r := n.Do(t, http.MethodGet, "/api/v4/secrets/A?projectId="+p.ID+"&environment=dev&version=-1", p.Token, nil)
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "version") {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})

		t.Run("moving an import onto a source already imported", func(t *testing.T) {
			for _, f := range []string{"one", "two"} {
				n.MustDo(t, http.MethodPost, "/api/v1/folders", p.Token, map[string]any{"workspaceId": p.ID, "environment": "prod", "name": f, "path": "/"})
			}
			var ids []string
			for _, f := range []string{"/one", "/two"} {
				var res struct{ SecretImport struct{ ID string } }
				n.MustDo(t, http.MethodPost, "/api/v1/secret-imports", p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/",
					"import": map[string]any{"environment": "prod", "path": f}}).JSON(t, &res)
				ids = append(ids, res.SecretImport.ID)
			}
			r := n.Do(t, http.MethodPatch, "/api/v1/secret-imports/"+ids[1], p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/",
				"import": map[string]any{"path": "/one"}})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "already imports /one") {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})
	})
}
