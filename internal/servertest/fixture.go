package servertest

import (
	"fmt"
	"net/http"
	"testing"
)

// Project is a project made for a test, with a machine identity that logs in with universal
// auth and holds a role in it.
type Project struct {
	ID           string
	IdentityID   string
	ClientID     string
	ClientSecret string
	Token        string // the identity's access token
}

// NewProject creates a project (as the admin) and an identity with the given project role,
// attaches universal auth, makes a client secret and logs in.
func (n *Node) NewProject(t testing.TB, admin *Admin, name, role string) *Project {
	t.Helper()
	p := &Project{}
	var proj struct {
		Project struct{ ID string } `json:"project"`
	}
	n.MustDo(t, http.MethodPost, "/api/v2/workspace", admin.Token, map[string]any{"projectName": name}).JSON(t, &proj)
	p.ID = proj.Project.ID
	p.IdentityID, p.ClientID, p.ClientSecret, p.Token = n.NewIdentity(t, admin, name+"-"+role, "no-access")
	n.MustDo(t, http.MethodPost, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, p.IdentityID), admin.Token, map[string]any{"role": role})
	return p
}

// NewIdentity creates an identity with an organization role and universal auth, and logs it in.
func (n *Node) NewIdentity(t testing.TB, admin *Admin, name, orgRole string) (id, clientID, clientSecret, token string) {
	t.Helper()
	var ident struct {
		Identity struct{ ID string } `json:"identity"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/identities", admin.Token, map[string]any{"name": name, "organizationId": admin.OrgID, "role": orgRole}).JSON(t, &ident)
	id = ident.Identity.ID
	var ua struct {
		UA struct{ ClientID string } `json:"identityUniversalAuth"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/universal-auth/identities/"+id, admin.Token, map[string]any{}).JSON(t, &ua)
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", admin.Token, map[string]any{"description": "test"}).JSON(t, &cs)
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": ua.UA.ClientID, "clientSecret": cs.ClientSecret}).JSON(t, &tok)
	return id, ua.UA.ClientID, cs.ClientSecret, tok.AccessToken
}

// MustDo is Do that fails the test unless the answer is 200.
func (n *Node) MustDo(t testing.TB, method, path, token string, body any, headers ...string) *Response {
	t.Helper()
	r := n.Do(t, method, path, token, body, headers...)
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, path, r.Status, r.Body)
	}
	return r
}
