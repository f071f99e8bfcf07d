package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// BenchmarkReadAudit lists 20 secrets over HTTP as a user (reads by users are not audited)
// and as a machine identity (each read buffers an audit event): the difference is the cost
// of read auditing on the hot path. The rendered listing is cached for both.
func BenchmarkReadAudit(b *testing.B) {
	n := servertest.Start(b, store.SQLite)
	admin := n.Bootstrap(b)
	p := n.NewProject(b, admin, "bench", "member")
	var secrets []map[string]any
	for i := range 20 {
		secrets = append(secrets, map[string]any{"secretKey": "KEY_" + string(rune('A'+i)), "secretValue": "value"})
	}
	n.MustDo(b, http.MethodPost, "/api/v4/secrets/batch", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/", "secrets": secrets})
	var login struct {
		AccessToken string `json:"accessToken"`
	}
	n.MustDo(b, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": admin.Password}).JSON(b, &login)
	path := "/api/v3/secrets/raw?" + url.Values{"workspaceId": {p.ID}, "environment": {"dev"}, "secretPath": {"/"}}.Encode()
	for _, who := range []struct{ name, token string }{{"user-not-audited", login.AccessToken}, {"identity-audited", p.Token}} {
		b.Run(who.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, n.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+who.token)
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
