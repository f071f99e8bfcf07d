package server_test

// End-to-end tests of authentication and administration: universal auth, access tokens,
// bootstrap, projects, environments, identities and memberships and health routes (the role
// matrix is in e2e_matrix_test.go). Each top-level test starts one node per dialect and reuses
// it for its subtests. Package-level names start with "ax" so
// that they cannot clash with other end-to-end test files of this package.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to inspect the node's database
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", to inspect the node's database

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// ---------------------------------------------------------------------------------------------
// Helpers shared with e2e_security_test.go.

// axErrorNames are the "error" values of the error body, by status (decisions taken for the
// Infisical-compatible API).
var axErrorNames = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "UnauthorizedError",
	http.StatusForbidden:             "PermissionDenied",
	http.StatusNotFound:              "NotFound",
	http.StatusRequestEntityTooLarge: "PayloadTooLarge",
	http.StatusUnprocessableEntity:   "ValidationFailure",
}

// axStart starts a node on dialect and bootstraps it.
func axStart(t *testing.T, dialect string) (*servertest.Node, *servertest.Admin) {
	t.Helper()
	n := servertest.Start(t, dialect)
	return n, n.Bootstrap(t)
}

// axRandHex returns n random bytes as hex.
func axRandHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// axDecode decodes a response body into a T, failing the test on error.
func axDecode[T any](t testing.TB, r *servertest.Response) T {
	t.Helper()
	var v T
	r.JSON(t, &v)
	return v
}

// axJSON is v as compact JSON (maps with sorted keys), for comparisons.
func axJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// axKeys returns the sorted keys of a JSON object.
func axKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// axWantErr checks that r is an error answer with status and the error body
// {reqId, statusCode, message, error}, and returns its message ("" when the check failed).
func axWantErr(t testing.TB, r *servertest.Response, status int, what string) string {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Errorf("%s: error body is not JSON: %v: %q", what, err, r.Body)
		return ""
	}
	if got := axKeys(m); !reflect.DeepEqual(got, []string{"error", "message", "reqId", "statusCode"}) {
		t.Errorf("%s: error body has keys %v, want error, message, reqId, statusCode: %s", what, got, r.Body)
	}
	reqID, _ := m["reqId"].(string)
	if !strings.HasPrefix(reqID, "req-") || reqID != r.Header.Get("X-Request-Id") {
		t.Errorf("%s: reqId %q, want req-… equal to X-Request-Id %q", what, reqID, r.Header.Get("X-Request-Id"))
	}
	if sc, _ := m["statusCode"].(float64); int(sc) != status {
		t.Errorf("%s: statusCode %v, want %d", what, m["statusCode"], status)
	}
	if name := m["error"]; name != axErrorNames[status] {
		t.Errorf("%s: error %q, want %q", what, name, axErrorNames[status])
	}
	msg, _ := m["message"].(string)
	if msg == "" {
		t.Errorf("%s: empty message: %s", what, r.Body)
	}
	return msg
}

// axWantOK checks that r is a 200.
func axWantOK(t testing.TB, r *servertest.Response, what string) bool {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("%s: status %d, want 200: %s", what, r.Status, r.Body)
		return false
	}
	return true
}

// axCreateIdentity creates an identity of the admin's organization and returns its id.
func axCreateIdentity(t testing.TB, n *servertest.Node, admin *servertest.Admin, name, orgRole string) string {
	t.Helper()
	var out struct {
		Identity struct{ ID string } `json:"identity"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/identities", admin.Token,
		map[string]any{"name": name, "organizationId": admin.OrgID, "role": orgRole}).JSON(t, &out)
	if out.Identity.ID == "" {
		t.Fatalf("create identity %s: no id", name)
	}
	return out.Identity.ID
}

type axTrustedIP struct {
	IPAddress string `json:"ipAddress"`
	Type      string `json:"type"`
	Prefix    *int   `json:"prefix"`
}

type axUniversalAuth struct {
	ID                      string        `json:"id"`
	ClientID                string        `json:"clientId"`
	IdentityID              string        `json:"identityId"`
	AccessTokenTTL          int           `json:"accessTokenTTL"`
	AccessTokenMaxTTL       int           `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit int           `json:"accessTokenNumUsesLimit"`
	ClientSecretTrustedIps  []axTrustedIP `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIps   []axTrustedIP `json:"accessTokenTrustedIps"`
}

const axUAPath = "/api/v1/auth/universal-auth/identities/"

// axAttach attaches universal auth to an identity.
func axAttach(t testing.TB, n *servertest.Node, admin *servertest.Admin, identityID string, body map[string]any) axUniversalAuth {
	t.Helper()
	var out struct {
		UA axUniversalAuth `json:"identityUniversalAuth"`
	}
	n.MustDo(t, http.MethodPost, axUAPath+identityID, admin.Token, body).JSON(t, &out)
	return out.UA
}

type axClientSecretData struct {
	ID                       string `json:"id"`
	Description              string `json:"description"`
	ClientSecretPrefix       string `json:"clientSecretPrefix"`
	ClientSecretNumUses      int    `json:"clientSecretNumUses"`
	ClientSecretNumUsesLimit int    `json:"clientSecretNumUsesLimit"`
	ClientSecretTTL          int    `json:"clientSecretTTL"`
	IsClientSecretRevoked    bool   `json:"isClientSecretRevoked"`
}

// axClientSecret creates a client secret.
func axClientSecret(t testing.TB, n *servertest.Node, admin *servertest.Admin, identityID string, body map[string]any) (string, axClientSecretData) {
	t.Helper()
	var out struct {
		ClientSecret string             `json:"clientSecret"`
		Data         axClientSecretData `json:"clientSecretData"`
	}
	n.MustDo(t, http.MethodPost, axUAPath+identityID+"/client-secrets", admin.Token, body).JSON(t, &out)
	if out.ClientSecret == "" {
		t.Fatal("client secret create: no clientSecret")
	}
	return out.ClientSecret, out.Data
}

type axToken struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int    `json:"expiresIn"`
	AccessTokenMaxTTL int    `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

func axLogin(t testing.TB, n *servertest.Node, clientID, clientSecret string) *servertest.Response {
	t.Helper()
	return n.Do(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": clientSecret})
}

// axMustLogin logs in and returns the token answer.
func axMustLogin(t testing.TB, n *servertest.Node, clientID, clientSecret string) axToken {
	t.Helper()
	r := axLogin(t, n, clientID, clientSecret)
	if r.Status != http.StatusOK {
		t.Fatalf("login: status %d: %s", r.Status, r.Body)
	}
	return axDecode[axToken](t, r)
}

// axPing makes an authenticated call that any valid token may make.
func axPing(t testing.TB, n *servertest.Node, token string) *servertest.Response {
	t.Helper()
	return n.Do(t, http.MethodGet, "/api/v1/workspace", token, nil)
}

// axLoginIdentity creates an identity with universal auth (attach body ua) and one client
// secret, and returns its id, client id and client secret.
func axLoginIdentity(t testing.TB, n *servertest.Node, admin *servertest.Admin, name string, ua map[string]any) (id, clientID, secret string) {
	t.Helper()
	id = axCreateIdentity(t, n, admin, name, coffer.RoleNoAccess)
	clientID = axAttach(t, n, admin, id, ua).ClientID
	secret, _ = axClientSecret(t, n, admin, id, map[string]any{"description": name})
	return id, clientID, secret
}

type axEnv struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type axProject struct {
	ID           string  `json:"id"`
	UnderscoreID string  `json:"_id"`
	Name         string  `json:"name"`
	Slug         string  `json:"slug"`
	OrgID        string  `json:"orgId"`
	Environments []axEnv `json:"environments"`
}

// axCreateProject creates a project through POST /api/v2/workspace.
func axCreateProject(t testing.TB, n *servertest.Node, token, name string) axProject {
	t.Helper()
	var out struct {
		Project axProject `json:"project"`
	}
	n.MustDo(t, http.MethodPost, "/api/v2/workspace", token, map[string]any{"projectName": name}).JSON(t, &out)
	return out.Project
}

// axSetMembership gives an identity a role in a project.
func axSetMembership(t testing.TB, n *servertest.Node, token, projectID, identityID, role string) {
	t.Helper()
	n.MustDo(t, http.MethodPost, "/api/v2/workspace/"+projectID+"/identity-memberships/"+identityID, token, map[string]any{"role": role})
}

// axOtherOrgAdmin creates, directly in the node's database and through the identity service
// the node runs, a second organization with an admin identity, and returns the organization
// id, the identity id and a token of that identity (bootstrap works only once, so there is no
// API way to a second organization yet).
func axOtherOrgAdmin(t testing.TB, n *servertest.Node) (orgID, identityID, token string) {
	t.Helper()
	ctx := context.Background()
	db := n.Server.DB
	ids := identity.New(db, &authz.Authorizer{DB: db}, []byte(n.Server.Config.AuthSecret), nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	org := &coffer.Organization{ID: store.NewID(), Name: "Other Org", Slug: "other-" + axRandHex(4), CreatedAt: now, UpdatedAt: now}
	ident := &coffer.Identity{ID: store.NewID(), OrgID: org.ID, Name: "other-admin", OrgRole: coffer.RoleAdmin,
		AuthMethods: []string{}, CreatedAt: now, UpdatedAt: now}
	var iss *identity.Issued
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := ids.CreateIdentityTx(ctx, tx, ident); err != nil {
			return err
		}
		var err error
		iss, err = ids.IssueTokenAuth(ctx, tx, ident)
		return err
	})
	if err != nil {
		t.Fatalf("create other organization: %v", err)
	}
	// The token works and belongs to an admin of the other organization.
	r := n.Do(t, http.MethodPost, "/api/v2/workspace", iss.Token, map[string]any{"projectName": "other org project"})
	if r.Status != http.StatusOK {
		t.Fatalf("other org admin cannot create a project: %d %s", r.Status, r.Body)
	}
	return org.ID, ident.ID, iss.Token
}

// axOpenDB opens the node's database for inspection (SQLite read-only).
func axOpenDB(t testing.TB, n *servertest.Node) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	switch n.Dialect {
	case store.SQLite:
		db, err = sql.Open("sqlite", "file:"+n.DSN+"?mode=ro&_pragma=busy_timeout(10000)")
	case store.Postgres:
		db, err = sql.Open("pgx", n.DSN)
	default:
		t.Fatalf("unknown dialect %s", n.Dialect)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// axCount runs a count query written with '?' placeholders.
func axCount(t testing.TB, n *servertest.Node, db *sql.DB, query string, args ...any) int {
	t.Helper()
	if n.Dialect == store.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var c int
	if err := db.QueryRow(query, args...).Scan(&c); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return c
}

// ---------------------------------------------------------------------------------------------
// 1. Universal auth.

func TestE2EAuthUniversalAuth(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		defaultIPs := `[{"ipAddress":"0.0.0.0","prefix":0,"type":"ipv4"},{"ipAddress":"::","prefix":0,"type":"ipv6"}]`

		t.Run("attach shape and defaults", func(t *testing.T) {
			id := axCreateIdentity(t, n, admin, "ua-shape", coffer.RoleNoAccess)
			r := n.MustDo(t, http.MethodPost, axUAPath+id, admin.Token, map[string]any{})
			top := r.Map(t)
			ua, ok := top["identityUniversalAuth"].(map[string]any)
			if !ok {
				t.Fatalf("no identityUniversalAuth object: %s", r.Body)
			}
			for _, k := range []string{"id", "clientId", "identityId", "accessTokenTTL", "accessTokenMaxTTL",
				"accessTokenNumUsesLimit", "clientSecretTrustedIps", "accessTokenTrustedIps"} {
				if _, ok := ua[k]; !ok {
					t.Errorf("identityUniversalAuth has no %q: %s", k, r.Body)
				}
			}
			if ua["identityId"] != id || ua["id"] == "" || ua["clientId"] == "" {
				t.Errorf("ids: %s", r.Body)
			}
			for k, want := range map[string]float64{"accessTokenTTL": 2592000, "accessTokenMaxTTL": 2592000, "accessTokenNumUsesLimit": 0} {
				if ua[k] != want {
					t.Errorf("%s = %v, want %v", k, ua[k], want)
				}
			}
			for _, k := range []string{"clientSecretTrustedIps", "accessTokenTrustedIps"} {
				if got := axJSON(ua[k]); got != defaultIPs {
					t.Errorf("%s = %s, want %s", k, got, defaultIPs)
				}
			}
			// GET answers the same configuration; the identity now lists the method.
			got := n.MustDo(t, http.MethodGet, axUAPath+id, admin.Token, nil).Map(t)["identityUniversalAuth"]
			if axJSON(got) != axJSON(ua) {
				t.Errorf("GET universal auth = %s, want %s", axJSON(got), axJSON(ua))
			}
			ident := n.MustDo(t, http.MethodGet, "/api/v1/identities/"+id, admin.Token, nil).Map(t)["identity"].(map[string]any)
			if axJSON(ident["authMethods"]) != `["universal-auth"]` {
				t.Errorf("identity authMethods = %s, want [\"universal-auth\"]", axJSON(ident["authMethods"]))
			}
			// Attaching twice is refused.
			axWantErr(t, n.Do(t, http.MethodPost, axUAPath+id, admin.Token, map[string]any{}), http.StatusBadRequest, "attach twice")
		})

		t.Run("attach validation", func(t *testing.T) {
			id := axCreateIdentity(t, n, admin, "ua-invalid", coffer.RoleNoAccess)
			for _, c := range []struct {
				name string
				body map[string]any
			}{
				{"ttl above max ttl", map[string]any{"accessTokenTTL": 7200, "accessTokenMaxTTL": 3600}},
				{"ttl above default max ttl", map[string]any{"accessTokenTTL": 2592001}},
				{"negative ttl", map[string]any{"accessTokenTTL": -1}},
				{"bad client secret ip", map[string]any{"clientSecretTrustedIps": []map[string]any{{"ipAddress": "not-an-ip"}}}},
				{"bad access token cidr", map[string]any{"accessTokenTrustedIps": []map[string]any{{"ipAddress": "10.0.0.0/33"}}}},
			} {
				axWantErr(t, n.Do(t, http.MethodPost, axUAPath+id, admin.Token, c.body), http.StatusUnprocessableEntity, c.name)
			}
			// Nothing was attached by the failed calls.
			axWantErr(t, n.Do(t, http.MethodPost, axUAPath+id+"/client-secrets", admin.Token, map[string]any{}), http.StatusBadRequest, "client secret without universal auth")
			ua := axAttach(t, n, admin, id, map[string]any{"accessTokenTTL": 60, "accessTokenMaxTTL": 120, "accessTokenNumUsesLimit": 5,
				"clientSecretTrustedIps": []map[string]any{{"ipAddress": "10.1.2.3/8"}, {"ipAddress": "127.0.0.1"}},
				"accessTokenTrustedIps":  []map[string]any{{"ipAddress": "2001:db8::/32"}}})
			if ua.AccessTokenTTL != 60 || ua.AccessTokenMaxTTL != 120 || ua.AccessTokenNumUsesLimit != 5 {
				t.Errorf("configured TTLs not kept: %+v", ua)
			}
			if len(ua.ClientSecretTrustedIps) != 2 || ua.ClientSecretTrustedIps[0].IPAddress != "10.0.0.0" ||
				ua.ClientSecretTrustedIps[0].Type != "ipv4" || ua.ClientSecretTrustedIps[0].Prefix == nil || *ua.ClientSecretTrustedIps[0].Prefix != 8 ||
				ua.ClientSecretTrustedIps[1].IPAddress != "127.0.0.1" {
				t.Errorf("clientSecretTrustedIps = %s", axJSON(ua.ClientSecretTrustedIps))
			}
			if len(ua.AccessTokenTrustedIps) != 1 || ua.AccessTokenTrustedIps[0].Type != "ipv6" || ua.AccessTokenTrustedIps[0].IPAddress != "2001:db8::" {
				t.Errorf("accessTokenTrustedIps = %s", axJSON(ua.AccessTokenTrustedIps))
			}
		})

		t.Run("client secrets", func(t *testing.T) {
			id := axCreateIdentity(t, n, admin, "ua-secrets", coffer.RoleNoAccess)
			axAttach(t, n, admin, id, map[string]any{})
			r := n.MustDo(t, http.MethodPost, axUAPath+id+"/client-secrets", admin.Token,
				map[string]any{"description": "deploy bot", "numUsesLimit": 7, "ttl": 3600})
			m := r.Map(t)
			secret, _ := m["clientSecret"].(string)
			if len(secret) != 64 || strings.Trim(secret, "0123456789abcdef") != "" {
				t.Errorf("clientSecret %q is not 64 hex characters", secret)
			}
			data, _ := m["clientSecretData"].(map[string]any)
			for _, k := range []string{"id", "description", "clientSecretPrefix", "clientSecretNumUses", "clientSecretNumUsesLimit",
				"clientSecretTTL", "isClientSecretRevoked"} {
				if _, ok := data[k]; !ok {
					t.Errorf("clientSecretData has no %q: %s", k, r.Body)
				}
			}
			if data["description"] != "deploy bot" || data["clientSecretNumUses"] != 0.0 || data["clientSecretNumUsesLimit"] != 7.0 ||
				data["clientSecretTTL"] != 3600.0 || data["isClientSecretRevoked"] != false {
				t.Errorf("clientSecretData = %s", axJSON(data))
			}
			if len(secret) >= 4 && data["clientSecretPrefix"] != secret[:4] {
				t.Errorf("clientSecretPrefix %v, want %q", data["clientSecretPrefix"], secret[:4])
			}
			if strings.Count(string(r.Body), secret) != 1 {
				t.Errorf("the secret should appear exactly once in the create answer: %s", r.Body)
			}
			second, _ := axClientSecret(t, n, admin, id, map[string]any{})
			list := n.MustDo(t, http.MethodGet, axUAPath+id+"/client-secrets", admin.Token, nil)
			for _, s := range []string{secret, second} {
				if strings.Contains(string(list.Body), s) {
					t.Errorf("client secret list contains a secret: %s", list.Body)
				}
			}
			var listed struct {
				Data []axClientSecretData `json:"clientSecretData"`
			}
			list.JSON(t, &listed)
			if len(listed.Data) != 2 {
				t.Fatalf("listed %d client secrets, want 2: %s", len(listed.Data), list.Body)
			}
			// Revoke the first: it is reported revoked and no longer listed.
			rv := n.MustDo(t, http.MethodPost, axUAPath+id+"/client-secrets/"+data["id"].(string)+"/revoke", admin.Token, nil)
			var revoked struct {
				Data axClientSecretData `json:"clientSecretData"`
			}
			rv.JSON(t, &revoked)
			if !revoked.Data.IsClientSecretRevoked || revoked.Data.ID != data["id"] {
				t.Errorf("revoke answer: %s", rv.Body)
			}
			list = n.MustDo(t, http.MethodGet, axUAPath+id+"/client-secrets", admin.Token, nil)
			list.JSON(t, &listed)
			if len(listed.Data) != 1 || listed.Data[0].ID == data["id"] {
				t.Errorf("after revoke the list is %s", list.Body)
			}
		})

		t.Run("login", func(t *testing.T) {
			id := axCreateIdentity(t, n, admin, "ua-login", coffer.RoleNoAccess)
			ua := axAttach(t, n, admin, id, map[string]any{"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200})
			secret, _ := axClientSecret(t, n, admin, id, map[string]any{})
			r := axLogin(t, n, ua.ClientID, secret)
			if !axWantOK(t, r, "login") {
				return
			}
			m := r.Map(t)
			if got := axKeys(m); !reflect.DeepEqual(got, []string{"accessToken", "accessTokenMaxTTL", "expiresIn", "tokenType"}) {
				t.Errorf("login answer keys %v", got)
			}
			tok := axDecode[axToken](t, r)
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.AccessTokenMaxTTL != 7200 || tok.ExpiresIn < 3599 || tok.ExpiresIn > 3600 {
				t.Errorf("login answer %s", r.Body)
			}
			axWantOK(t, axPing(t, n, tok.AccessToken), "use token")
			// Default TTLs.
			_, cid, sec := axLoginIdentity(t, n, admin, "ua-login-default", map[string]any{})
			if tok := axMustLogin(t, n, cid, sec); tok.ExpiresIn < 2591999 || tok.ExpiresIn > 2592000 || tok.AccessTokenMaxTTL != 2592000 {
				t.Errorf("default login answer %+v", tok)
			}

			// A wrong secret and an unknown client id get the same 401.
			wrong := axWantErr(t, axLogin(t, n, ua.ClientID, axRandHex(32)), http.StatusUnauthorized, "wrong client secret")
			unknown := axWantErr(t, axLogin(t, n, store.NewID(), secret), http.StatusUnauthorized, "unknown client id")
			if wrong != unknown {
				t.Errorf("wrong secret says %q, unknown client id says %q: they must not differ", wrong, unknown)
			}
			// Another identity's secret does not open this one.
			axWantErr(t, axLogin(t, n, ua.ClientID, sec), http.StatusUnauthorized, "secret of another identity")
			// Missing fields.
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": ua.ClientID}),
				http.StatusUnprocessableEntity, "no client secret")
		})

		t.Run("revoked client secret", func(t *testing.T) {
			id, cid, _ := axLoginIdentity(t, n, admin, "ua-revoked", map[string]any{})
			secret, data := axClientSecret(t, n, admin, id, map[string]any{})
			axMustLogin(t, n, cid, secret)
			n.MustDo(t, http.MethodPost, axUAPath+id+"/client-secrets/"+data.ID+"/revoke", admin.Token, nil)
			axWantErr(t, axLogin(t, n, cid, secret), http.StatusUnauthorized, "login with a revoked secret")
		})

		t.Run("client secret use limit", func(t *testing.T) {
			id, cid, _ := axLoginIdentity(t, n, admin, "ua-uses", map[string]any{})
			secret, data := axClientSecret(t, n, admin, id, map[string]any{"numUsesLimit": 2})
			if data.ClientSecretNumUsesLimit != 2 {
				t.Errorf("clientSecretNumUsesLimit = %d", data.ClientSecretNumUsesLimit)
			}
			axMustLogin(t, n, cid, secret)
			axMustLogin(t, n, cid, secret)
			axWantErr(t, axLogin(t, n, cid, secret), http.StatusUnauthorized, "third login")
			var listed struct {
				Data []axClientSecretData `json:"clientSecretData"`
			}
			n.MustDo(t, http.MethodGet, axUAPath+id+"/client-secrets", admin.Token, nil).JSON(t, &listed)
			for _, d := range listed.Data {
				if d.ID == data.ID && d.ClientSecretNumUses != 2 {
					t.Errorf("clientSecretNumUses = %d, want 2", d.ClientSecretNumUses)
				}
			}
		})

		t.Run("client secret trusted ips", func(t *testing.T) {
			id, cid, secret := axLoginIdentity(t, n, admin, "ua-csip",
				map[string]any{"clientSecretTrustedIps": []map[string]any{{"ipAddress": "10.0.0.0/8"}}})
			axWantErr(t, axLogin(t, n, cid, secret), http.StatusForbidden, "login from an untrusted IP")
			ua := axDecode[struct {
				UA axUniversalAuth `json:"identityUniversalAuth"`
			}](t, n.MustDo(t, http.MethodPatch, axUAPath+id, admin.Token,
				map[string]any{"clientSecretTrustedIps": []map[string]any{{"ipAddress": "127.0.0.1"}}})).UA
			if len(ua.ClientSecretTrustedIps) != 1 || ua.ClientSecretTrustedIps[0].IPAddress != "127.0.0.1" {
				t.Errorf("clientSecretTrustedIps after PATCH: %s", axJSON(ua.ClientSecretTrustedIps))
			}
			tok := axMustLogin(t, n, cid, secret)
			axWantOK(t, axPing(t, n, tok.AccessToken), "token of a trusted login")
		})

		t.Run("access token trusted ips", func(t *testing.T) {
			_, cid, secret := axLoginIdentity(t, n, admin, "ua-atip",
				map[string]any{"accessTokenTrustedIps": []map[string]any{{"ipAddress": "10.0.0.0/8"}, {"ipAddress": "192.168.1.1"}}})
			tok := axMustLogin(t, n, cid, secret)
			axWantErr(t, axPing(t, n, tok.AccessToken), http.StatusForbidden, "token used from an untrusted IP")
			_, cid2, secret2 := axLoginIdentity(t, n, admin, "ua-atip-ok",
				map[string]any{"accessTokenTrustedIps": []map[string]any{{"ipAddress": "127.0.0.0/8"}}})
			axWantOK(t, axPing(t, n, axMustLogin(t, n, cid2, secret2).AccessToken), "token used from a trusted IP")
		})

		t.Run("access token use limit", func(t *testing.T) {
			_, cid, secret := axLoginIdentity(t, n, admin, "ua-atuses", map[string]any{"accessTokenNumUsesLimit": 2})
			tok := axMustLogin(t, n, cid, secret)
			axWantOK(t, axPing(t, n, tok.AccessToken), "first use")
			axWantOK(t, axPing(t, n, tok.AccessToken), "second use")
			axWantErr(t, axPing(t, n, tok.AccessToken), http.StatusUnauthorized, "third use")
		})

		t.Run("revoke", func(t *testing.T) {
			_, cid, secret := axLoginIdentity(t, n, admin, "ua-revoke", map[string]any{})
			tok := axMustLogin(t, n, cid, secret)
			other := axMustLogin(t, n, cid, secret)
			axWantOK(t, axPing(t, n, tok.AccessToken), "before revoke")
			// No Authorization header: holding the token is enough.
			r := n.Do(t, http.MethodPost, "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": tok.AccessToken})
			if axWantOK(t, r, "revoke") {
				if msg, _ := r.Map(t)["message"].(string); msg == "" {
					t.Errorf("revoke answer has no message: %s", r.Body)
				}
			}
			axWantErr(t, axPing(t, n, tok.AccessToken), http.StatusUnauthorized, "revoked token")
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": tok.AccessToken}),
				http.StatusUnauthorized, "renew a revoked token")
			// Only that token: another token of the same identity still works.
			axWantOK(t, axPing(t, n, other.AccessToken), "other token")
			// With a bearer of another token, the body's token is the one revoked.
			axWantOK(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/revoke", admin.Token, map[string]any{"accessToken": other.AccessToken}), "revoke with bearer")
			axWantErr(t, axPing(t, n, other.AccessToken), http.StatusUnauthorized, "revoked other token")
			axWantOK(t, axPing(t, n, admin.Token), "the bearer of the revoke call")
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": "garbage"}),
				http.StatusUnauthorized, "revoke garbage")
		})

		t.Run("bad bearers", func(t *testing.T) {
			_, cid, secret := axLoginIdentity(t, n, admin, "ua-bearer", map[string]any{})
			good := axMustLogin(t, n, cid, secret).AccessToken
			// The same claims, signed with another key, and unsigned.
			var claims jwt.MapClaims
			if _, _, err := jwt.NewParser().ParseUnverified(good, &claims); err != nil {
				t.Fatalf("the token is not a JWT: %v", err)
			}
			forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("another-secret-" + strings.Repeat("y", 32)))
			if err != nil {
				t.Fatal(err)
			}
			unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ name, header string }{
				{"garbage", "Bearer garbage"},
				{"signed with another secret", "Bearer " + forged},
				{"unsigned", "Bearer " + unsigned},
				{"Bearer without token", "Bearer"},
				{"Bearer and a space", "Bearer "},
				{"Basic", "Basic x"},
				{"token without scheme", good},
				{"truncated token", "Bearer " + good[:len(good)-3]},
			} {
				r := n.Do(t, http.MethodGet, "/api/v1/workspace", "", nil, "Authorization", c.header)
				axWantErr(t, r, http.StatusUnauthorized, c.name)
			}
			// Without Authorization, protected routes answer 401.
			p := axCreateProject(t, n, admin.Token, "bearer checks")
			// (The project routes are all in the role matrix, as "anonymous".)
			identityID, _, _ := axLoginIdentity(t, n, admin, "ua-bearer-target", map[string]any{})
			var secrets struct {
				Data []axClientSecretData `json:"clientSecretData"`
			}
			n.MustDo(t, http.MethodGet, axUAPath+identityID+"/client-secrets", admin.Token, nil).JSON(t, &secrets)
			for _, c := range []struct{ method, path string }{
				{http.MethodGet, "/api/v1/workspace"},
				{http.MethodGet, "/api/v1/projects"},
				{http.MethodGet, "/api/v1/identities"},
				{http.MethodGet, "/api/v1/identities/" + identityID},
				{http.MethodDelete, "/api/v1/identities/" + identityID},
				{http.MethodGet, axUAPath + identityID},
				{http.MethodPost, axUAPath + identityID},
				{http.MethodGet, axUAPath + identityID + "/client-secrets"},
				{http.MethodPost, axUAPath + identityID + "/client-secrets"},
				{http.MethodPost, axUAPath + identityID + "/client-secrets/" + secrets.Data[0].ID + "/revoke"},
			} {
				axWantErr(t, n.Do(t, c.method, c.path, "", nil), http.StatusUnauthorized, "no Authorization: "+c.method+" "+c.path)
			}
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodPost, "/api/v2/workspace", map[string]any{"projectName": "anon"}},
				{http.MethodPost, "/api/v1/identities", map[string]any{"name": "anon", "organizationId": admin.OrgID, "role": "admin"}},
				{http.MethodPost, "/api/v4/secrets/ANON", map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "x"}},
				{http.MethodPatch, axUAPath + identityID, map[string]any{"accessTokenTTL": 60}},
			} {
				axWantErr(t, n.Do(t, c.method, c.path, "", c.body), http.StatusUnauthorized, "no Authorization: "+c.method+" "+c.path)
			}
			// Every protected route of internal/api/api.go answers 401 to an anonymous request
			// before it looks at the (here: missing) input.
			x := store.NewID()
			for _, c := range []struct{ method, path string }{
				{"GET", "/api/v4/secrets"}, {"GET", "/api/v4/secrets/K"}, {"POST", "/api/v4/secrets/K"}, {"PATCH", "/api/v4/secrets/K"},
				{"DELETE", "/api/v4/secrets/K"}, {"POST", "/api/v4/secrets/batch"}, {"PATCH", "/api/v4/secrets/batch"}, {"DELETE", "/api/v4/secrets/batch"},
				{"GET", "/api/v3/secrets/raw"}, {"GET", "/api/v3/secrets/raw/K"}, {"POST", "/api/v3/secrets/raw/K"}, {"PATCH", "/api/v3/secrets/raw/K"},
				{"DELETE", "/api/v3/secrets/raw/K"}, {"POST", "/api/v3/secrets/batch/raw"}, {"PATCH", "/api/v3/secrets/batch/raw"}, {"DELETE", "/api/v3/secrets/batch/raw"},
				{"GET", "/api/v4/secrets/K/versions"}, {"POST", "/api/v4/secrets/K/rollback"},
				{"GET", "/api/v1/folders"}, {"POST", "/api/v1/folders"}, {"PATCH", "/api/v1/folders/" + x}, {"DELETE", "/api/v1/folders/" + x},
				{"GET", "/api/v1/secret-imports"}, {"POST", "/api/v1/secret-imports"}, {"PATCH", "/api/v1/secret-imports/" + x}, {"DELETE", "/api/v1/secret-imports/" + x},
				{"GET", "/api/v1/projects/" + x + "/tags"}, {"POST", "/api/v1/projects/" + x + "/tags"}, {"GET", "/api/v1/projects/" + x + "/tags/slug/s"},
				{"GET", "/api/v1/projects/" + x + "/tags/" + x}, {"PATCH", "/api/v1/projects/" + x + "/tags/" + x}, {"DELETE", "/api/v1/projects/" + x + "/tags/" + x},
				{"GET", "/api/v1/projects/slug/" + p.Slug},
				{"POST", "/api/v2/workspace"}, {"POST", "/api/v1/projects"}, {"GET", "/api/v1/workspace"}, {"GET", "/api/v1/projects"},
				{"GET", "/api/v1/workspace/" + p.ID}, {"GET", "/api/v1/projects/" + p.ID}, {"DELETE", "/api/v1/workspace/" + p.ID}, {"DELETE", "/api/v1/projects/" + p.ID},
				{"POST", "/api/v1/workspace/" + p.ID + "/environments"}, {"PATCH", "/api/v1/workspace/" + p.ID + "/environments/" + x}, {"DELETE", "/api/v1/workspace/" + p.ID + "/environments/" + x},
				{"POST", "/api/v1/projects/" + p.ID + "/environments"}, {"PATCH", "/api/v1/projects/" + p.ID + "/environments/" + x}, {"DELETE", "/api/v1/projects/" + p.ID + "/environments/" + x},
				{"POST", "/api/v1/identities"}, {"GET", "/api/v1/identities"}, {"GET", "/api/v1/identities/" + x}, {"DELETE", "/api/v1/identities/" + x},
				{"POST", axUAPath + x}, {"GET", axUAPath + x}, {"PATCH", axUAPath + x},
				{"POST", axUAPath + x + "/client-secrets"}, {"GET", axUAPath + x + "/client-secrets"}, {"POST", axUAPath + x + "/client-secrets/" + x + "/revoke"},
				{"GET", "/api/v2/workspace/" + p.ID + "/identity-memberships"}, {"POST", "/api/v2/workspace/" + p.ID + "/identity-memberships/" + x},
				{"PATCH", "/api/v2/workspace/" + p.ID + "/identity-memberships/" + x}, {"DELETE", "/api/v2/workspace/" + p.ID + "/identity-memberships/" + x},
			} {
				axWantErr(t, n.Do(t, c.method, c.path, "", nil), http.StatusUnauthorized, "anonymous, no input: "+c.method+" "+c.path)
			}
			axWantOK(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+p.ID, admin.Token, nil), "project after anonymous deletes")

			axWantOK(t, axPing(t, n, good), "the good token still works")
			// None of those anonymous calls changed anything.
			axWantOK(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+identityID, admin.Token, nil), "identity after anonymous delete")
			var after struct {
				Data []axClientSecretData `json:"clientSecretData"`
			}
			n.MustDo(t, http.MethodGet, axUAPath+identityID+"/client-secrets", admin.Token, nil).JSON(t, &after)
			if !reflect.DeepEqual(after, secrets) {
				t.Errorf("client secrets changed by anonymous calls: %+v, was %+v", after, secrets)
			}
		})
	})
}

// TestE2EAuthTokenLifetimes covers everything that needs the clock to move: client secret
// TTL, access token TTL, renewal and the max TTL. The node runs on a clock the test moves, so
// no window depends on how busy the machine is.
func TestE2EAuthTokenLifetimes(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		n := servertest.StartOptions(t, dialect, nil, server.Options{Now: clock})
		admin := n.Bootstrap(t)
		// X: a client secret that lives one second.
		x := axCreateIdentity(t, n, admin, "ttl-secret", coffer.RoleNoAccess)
		xClient := axAttach(t, n, admin, x, map[string]any{}).ClientID
		xSecret, xData := axClientSecret(t, n, admin, x, map[string]any{"ttl": 1})
		if xData.ClientSecretTTL != 1 {
			t.Errorf("clientSecretTTL = %d, want 1", xData.ClientSecretTTL)
		}
		// Y: tokens that live one second, renewable up to two.
		_, yClient, ySecret := axLoginIdentity(t, n, admin, "ttl-token", map[string]any{"accessTokenTTL": 1, "accessTokenMaxTTL": 2})

		// Every secret and token below was created at the clock's time t0.
		short := axMustLogin(t, n, yClient, ySecret)
		renewed := axMustLogin(t, n, yClient, ySecret)
		if short.ExpiresIn != 1 || short.AccessTokenMaxTTL != 2 {
			t.Errorf("login answer %+v, want expiresIn 1 and accessTokenMaxTTL 2", short)
		}
		axWantOK(t, axPing(t, n, short.AccessToken), "fresh token")

		advance(500 * time.Millisecond) // t0+0.5s
		r := n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": renewed.AccessToken})
		if axWantOK(t, r, "renew") {
			tok := axDecode[axToken](t, r)
			if tok.ExpiresIn != 1 || tok.AccessTokenMaxTTL != 2 || tok.TokenType != "Bearer" || tok.AccessToken != renewed.AccessToken {
				t.Errorf("renew answer %s, want the same token with expiresIn back to 1", r.Body)
			}
		}

		// t0+1.1s: the secret and the unrenewed token have expired; the renewed token lives on
		// (renewed at t0+0.5s, until t0+1.5s).
		advance(600 * time.Millisecond)
		axWantErr(t, axLogin(t, n, xClient, xSecret), http.StatusUnauthorized, "login with an expired client secret")
		axWantErr(t, axPing(t, n, short.AccessToken), http.StatusUnauthorized, "expired token")
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": short.AccessToken}),
			http.StatusUnauthorized, "renew an expired token")
		axWantOK(t, axPing(t, n, renewed.AccessToken), "renewed token after the original TTL")
		r = n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": renewed.AccessToken})
		if axWantOK(t, r, "second renew") {
			if tok := axDecode[axToken](t, r); tok.ExpiresIn > 1 {
				t.Errorf("second renew expiresIn %d: a renewal must not pass the max TTL", tok.ExpiresIn)
			}
		}

		// t0+2.05s, past the max TTL: renewals end.
		advance(950 * time.Millisecond)
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": renewed.AccessToken}),
			http.StatusUnauthorized, "renew past the max TTL")
		axWantErr(t, axPing(t, n, renewed.AccessToken), http.StatusUnauthorized, "token past the max TTL")
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": "garbage"}),
			http.StatusUnauthorized, "renew garbage")
	})
}

// ---------------------------------------------------------------------------------------------
// 2. Bootstrap.

func TestE2EAdminBootstrap(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n := servertest.Start(t, dialect)
		const path = "/api/v1/admin/bootstrap"
		const password = "correct horse battery staple"

		// Bad input: 422 naming the field, and nothing is set up.
		for _, c := range []struct {
			name, field string
			body        map[string]any
		}{
			{"invalid email", "email", map[string]any{"email": "not an email", "password": password, "organization": "Acme"}},
			{"missing email", "email", map[string]any{"password": password, "organization": "Acme"}},
			{"short password", "password", map[string]any{"email": "admin@example.com", "password": "Sh0rt!pw", "organization": "Acme"}},
			{"missing organization", "organization", map[string]any{"email": "admin@example.com", "password": password}},
			{"blank organization", "organization", map[string]any{"email": "admin@example.com", "password": password, "organization": "  "}},
		} {
			msg := axWantErr(t, n.Do(t, http.MethodPost, path, "", c.body), http.StatusUnprocessableEntity, c.name)
			if !strings.Contains(msg, c.field) {
				t.Errorf("%s: message %q does not name %s", c.name, msg, c.field)
			}
			if pw, _ := c.body["password"].(string); pw != "" && strings.Contains(msg, pw) {
				t.Errorf("%s: message quotes the password: %q", c.name, msg)
			}
		}

		r := n.Do(t, http.MethodPost, path, "", map[string]any{"email": "Admin@Example.com", "password": password, "organization": "Acme"})
		if !axWantOK(t, r, "bootstrap") {
			t.FailNow()
		}
		var b struct {
			Message string `json:"message"`
			User    struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"user"`
			Organization struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Slug string `json:"slug"`
			} `json:"organization"`
			Identity struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Credentials struct {
					Token string `json:"token"`
				} `json:"credentials"`
			} `json:"identity"`
		}
		r.JSON(t, &b)
		if b.Message == "" || b.User.ID == "" || b.User.Email != "admin@example.com" || b.Organization.ID == "" ||
			b.Organization.Name != "Acme" || b.Organization.Slug == "" || b.Identity.ID == "" || b.Identity.Name == "" ||
			b.Identity.Credentials.Token == "" {
			t.Errorf("bootstrap answer %s", r.Body)
		}
		if strings.Contains(string(r.Body), password) {
			t.Errorf("bootstrap answer contains the password")
		}
		admin := &servertest.Admin{Email: b.User.Email, Password: password, UserID: b.User.ID, OrgID: b.Organization.ID,
			IdentityID: b.Identity.ID, Token: b.Identity.Credentials.Token}

		// The token is an organization admin's: it creates projects and identities.
		p := axCreateProject(t, n, admin.Token, "first project")
		if p.OrgID != admin.OrgID {
			t.Errorf("project orgId %s, want %s", p.OrgID, admin.OrgID)
		}
		axCreateIdentity(t, n, admin, "made-by-bootstrap-admin", coffer.RoleAdmin)
		ident := n.MustDo(t, http.MethodGet, "/api/v1/identities/"+admin.IdentityID, admin.Token, nil).Map(t)["identity"].(map[string]any)
		if role, ok := ident["role"]; ok && role != coffer.RoleAdmin {
			t.Errorf("bootstrap identity role %v, want admin", role)
		}
		axWantOK(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": password}), "password login")
		before := n.MustDo(t, http.MethodGet, "/api/v1/identities", admin.Token, nil).Body

		// Second bootstrap: 400, and nothing changes.
		for _, body := range []map[string]any{
			{"email": "intruder@example.com", "password": "another long password", "organization": "Evil"},
			{"email": admin.Email, "password": password, "organization": "Acme"},
		} {
			axWantErr(t, n.Do(t, http.MethodPost, path, "", body), http.StatusBadRequest, "second bootstrap")
		}
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": "intruder@example.com", "password": "another long password"}),
			http.StatusUnauthorized, "login as the second bootstrap's user")
		axWantOK(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": password}), "password login after")
		after := n.MustDo(t, http.MethodGet, "/api/v1/identities", admin.Token, nil).Body
		if string(before) != string(after) {
			t.Errorf("identities changed after a refused bootstrap:\n%s\n%s", before, after)
		}
		db := axOpenDB(t, n)
		if c := axCount(t, n, db, "SELECT COUNT(*) FROM users"); c != 1 {
			t.Errorf("%d users after a refused bootstrap, want 1", c)
		}
		if c := axCount(t, n, db, "SELECT COUNT(*) FROM organizations"); c != 1 {
			t.Errorf("%d organizations after a refused bootstrap, want 1", c)
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 3. Projects and environments.

func TestE2EAdminProjects(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)

		// Create, both routes.
		r := n.MustDo(t, http.MethodPost, "/api/v2/workspace", admin.Token, map[string]any{"projectName": "Web App"})
		if _, ok := r.Map(t)["project"]; !ok {
			t.Fatalf("create answer has no project: %s", r.Body)
		}
		web := axDecode[struct {
			Project axProject `json:"project"`
		}](t, r).Project
		checkProject := func(what string, p axProject, name string) {
			t.Helper()
			if p.ID == "" || p.UnderscoreID != p.ID || p.Name != name || p.Slug == "" || p.OrgID != admin.OrgID {
				t.Errorf("%s: project %+v", what, p)
			}
			var slugs []string
			for _, e := range p.Environments {
				slugs = append(slugs, e.Slug)
				if e.ID == "" || e.Name == "" {
					t.Errorf("%s: environment %+v", what, e)
				}
			}
			if !slices.Equal(slugs, []string{"dev", "staging", "prod"}) {
				t.Errorf("%s: environments %v, want dev, staging, prod", what, slugs)
			}
		}
		checkProject("POST /api/v2/workspace", web, "Web App")
		api := axDecode[struct {
			Project axProject `json:"project"`
		}](t, n.MustDo(t, http.MethodPost, "/api/v1/projects", admin.Token, map[string]any{"projectName": "api", "slug": "api-svc"})).Project
		checkProject("POST /api/v1/projects", api, "api")
		if api.Slug != "api-svc" {
			t.Errorf("slug %q, want api-svc", api.Slug)
		}
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/projects", admin.Token, map[string]any{"projectName": "dup", "slug": "api-svc"}),
			http.StatusBadRequest, "duplicate project slug")
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v2/workspace", admin.Token, map[string]any{}), http.StatusUnprocessableEntity, "no projectName")
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v2/workspace", admin.Token, map[string]any{"projectName": "x", "slug": "Bad Slug"}),
			http.StatusUnprocessableEntity, "bad project slug")

		// Reads.
		ws := axDecode[struct {
			Workspace axProject `json:"workspace"`
		}](t, n.MustDo(t, http.MethodGet, "/api/v1/workspace/"+web.ID, admin.Token, nil)).Workspace
		checkProject("GET /api/v1/workspace/{id}", ws, "Web App")
		pr := axDecode[struct {
			Project axProject `json:"project"`
		}](t, n.MustDo(t, http.MethodGet, "/api/v1/projects/"+web.ID, admin.Token, nil)).Project
		checkProject("GET /api/v1/projects/{id}", pr, "Web App")
		r = n.MustDo(t, http.MethodGet, "/api/v1/projects/slug/"+web.Slug, admin.Token, nil)
		bare := axDecode[axProject](t, r)
		checkProject("GET /api/v1/projects/slug/{slug} (bare)", bare, "Web App")
		wrapped := axDecode[struct {
			Workspace axProject `json:"workspace"`
		}](t, r).Workspace
		checkProject("GET /api/v1/projects/slug/{slug} (workspace)", wrapped, "Web App")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/projects/slug/no-such-slug", admin.Token, nil), http.StatusNotFound, "unknown slug")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/workspace/"+store.NewID(), admin.Token, nil), http.StatusNotFound, "unknown project")
		for _, c := range []struct{ path, key string }{{"/api/v1/workspace", "workspaces"}, {"/api/v1/projects", "projects"}} {
			var list map[string][]axProject
			n.MustDo(t, http.MethodGet, c.path, admin.Token, nil).JSON(t, &list)
			var ids []string
			for _, p := range list[c.key] {
				ids = append(ids, p.ID)
			}
			if !slices.Contains(ids, web.ID) || !slices.Contains(ids, api.ID) {
				t.Errorf("%s: %s = %v, want both projects", c.path, c.key, ids)
			}
		}

		// Environments.
		envPath := "/api/v1/workspace/" + web.ID + "/environments"
		r = n.MustDo(t, http.MethodPost, envPath, admin.Token, map[string]any{"name": "QA", "slug": "qa"})
		var created struct {
			Message     string `json:"message"`
			ProjectID   string `json:"projectId"`
			Environment struct {
				ID        string `json:"id"`
				Name      string `json:"name"`
				Slug      string `json:"slug"`
				Position  int    `json:"position"`
				ProjectID string `json:"projectId"`
			} `json:"environment"`
		}
		r.JSON(t, &created)
		if created.Message == "" || created.ProjectID != web.ID || created.Environment.ID == "" || created.Environment.Name != "QA" ||
			created.Environment.Slug != "qa" || created.Environment.Position != 4 {
			t.Errorf("environment create answer %s", r.Body)
		}
		axWantErr(t, n.Do(t, http.MethodPost, envPath, admin.Token, map[string]any{"name": "QA again", "slug": "qa"}), http.StatusBadRequest, "duplicate env slug")
		axWantErr(t, n.Do(t, http.MethodPost, envPath, admin.Token, map[string]any{"name": "Bad", "slug": "Bad Slug!"}), http.StatusUnprocessableEntity, "bad env slug")
		axWantErr(t, n.Do(t, http.MethodPost, envPath, admin.Token, map[string]any{"slug": "noname"}), http.StatusUnprocessableEntity, "env without name")
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/QA_KEY", admin.Token, map[string]any{"projectId": web.ID, "environment": "qa", "secretValue": "qa"})

		r = n.MustDo(t, http.MethodPatch, envPath+"/"+created.Environment.ID, admin.Token, map[string]any{"name": "Quality", "slug": "quality"})
		var updated struct {
			Message     string `json:"message"`
			ProjectID   string `json:"projectId"`
			Environment axEnv  `json:"environment"`
		}
		r.JSON(t, &updated)
		if updated.Message == "" || updated.ProjectID != web.ID || updated.Environment.ID != created.Environment.ID ||
			updated.Environment.Name != "Quality" || updated.Environment.Slug != "quality" {
			t.Errorf("environment update answer %s", r.Body)
		}
		axWantErr(t, n.Do(t, http.MethodPatch, envPath+"/"+created.Environment.ID, admin.Token, map[string]any{"slug": "dev"}), http.StatusBadRequest, "rename onto a taken slug")
		axWantErr(t, n.Do(t, http.MethodPatch, envPath+"/"+created.Environment.ID, admin.Token, map[string]any{"slug": "NO"}), http.StatusUnprocessableEntity, "rename to a bad slug")
		// The secret moved with the environment's new slug.
		axWantOK(t, n.Do(t, http.MethodGet, "/api/v4/secrets/QA_KEY?projectId="+web.ID+"&environment=quality", admin.Token, nil), "secret under the new slug")

		r = n.MustDo(t, http.MethodDelete, "/api/v1/projects/"+web.ID+"/environments/"+created.Environment.ID, admin.Token, nil)
		var deleted struct {
			Message     string `json:"message"`
			Environment axEnv  `json:"environment"`
		}
		r.JSON(t, &deleted)
		if deleted.Message == "" || deleted.Environment.ID != created.Environment.ID {
			t.Errorf("environment delete answer %s", r.Body)
		}
		axWantErr(t, n.Do(t, http.MethodDelete, envPath+"/"+created.Environment.ID, admin.Token, nil), http.StatusNotFound, "delete a deleted env")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v4/secrets/QA_KEY?projectId="+web.ID+"&environment=quality", admin.Token, nil), http.StatusNotFound, "secret of a deleted env")
		ws = axDecode[struct {
			Workspace axProject `json:"workspace"`
		}](t, n.MustDo(t, http.MethodGet, "/api/v1/workspace/"+web.ID, admin.Token, nil)).Workspace
		checkProject("after env delete", ws, "Web App")

		// Delete a project with secrets: it is gone, and so are its secrets and their versions.
		var made struct {
			Secrets []struct {
				ID string `json:"id"`
			} `json:"secrets"`
		}
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", admin.Token, map[string]any{"projectId": api.ID, "environment": "dev",
			"secrets": []map[string]any{{"secretKey": "A", "secretValue": "a"}, {"secretKey": "B", "secretValue": "b"}}}).JSON(t, &made)
		n.MustDo(t, http.MethodPatch, "/api/v4/secrets/A", admin.Token, map[string]any{"projectId": api.ID, "environment": "dev", "secretValue": "a2"})
		db := axOpenDB(t, n)
		if c := axCount(t, n, db, "SELECT COUNT(*) FROM secrets WHERE project_id = ?", api.ID); c != 2 {
			t.Errorf("%d secrets stored before the delete, want 2", c)
		}
		r = n.MustDo(t, http.MethodDelete, "/api/v1/workspace/"+api.ID, admin.Token, nil)
		if got := axDecode[struct {
			Workspace axProject `json:"workspace"`
		}](t, r).Workspace; got.ID != api.ID {
			t.Errorf("delete answer %s", r.Body)
		}
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/workspace/"+api.ID, admin.Token, nil), http.StatusNotFound, "deleted project")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v4/secrets?projectId="+api.ID+"&environment=dev", admin.Token, nil), http.StatusNotFound, "secrets of a deleted project")
		axWantErr(t, n.Do(t, http.MethodDelete, "/api/v1/projects/"+api.ID, admin.Token, nil), http.StatusNotFound, "delete twice")
		if c := axCount(t, n, db, "SELECT COUNT(*) FROM secrets WHERE project_id = ?", api.ID); c != 0 {
			t.Errorf("%d secrets left after the project was deleted", c)
		}
		for _, s := range made.Secrets {
			if c := axCount(t, n, db, "SELECT COUNT(*) FROM secret_versions WHERE secret_id = ?", s.ID); c != 0 {
				t.Errorf("%d versions of secret %s left after the project was deleted", c, s.ID)
			}
		}
		if c := axCount(t, n, db, "SELECT COUNT(*) FROM project_keys WHERE project_id = ?", api.ID); c != 0 {
			t.Errorf("%d data keys left after the project was deleted", c)
		}
		// The other project is untouched.
		axWantOK(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+web.ID, admin.Token, nil), "other project")
	})
}

// ---------------------------------------------------------------------------------------------
// 4. Identities and memberships.

func TestE2EAdminIdentities(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)

		r := n.MustDo(t, http.MethodPost, "/api/v1/identities", admin.Token, map[string]any{"name": "ci", "organizationId": admin.OrgID, "role": "no-access"})
		ident, _ := r.Map(t)["identity"].(map[string]any)
		if ident["id"] == "" || ident["name"] != "ci" || axJSON(ident["authMethods"]) != "[]" {
			t.Errorf("identity create answer %s", r.Body)
		}
		ciID, _ := ident["id"].(string)
		for _, c := range []struct {
			name string
			body map[string]any
		}{
			{"bad role", map[string]any{"name": "x", "organizationId": admin.OrgID, "role": "superuser"}},
			{"project-only role", map[string]any{"name": "x", "organizationId": admin.OrgID, "role": "viewer"}},
			{"no organization", map[string]any{"name": "x", "role": "member"}},
			{"no name", map[string]any{"organizationId": admin.OrgID, "role": "member"}},
		} {
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/identities", admin.Token, c.body), http.StatusUnprocessableEntity, c.name)
		}
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/identities", admin.Token, map[string]any{"name": "x", "organizationId": store.NewID(), "role": "member"}),
			http.StatusForbidden, "identity in another organization")

		// GET one and the list.
		got := n.MustDo(t, http.MethodGet, "/api/v1/identities/"+ciID, admin.Token, nil).Map(t)["identity"].(map[string]any)
		if got["id"] != ciID || got["name"] != "ci" {
			t.Errorf("GET identity: %s", axJSON(got))
		}
		if list := n.MustDo(t, http.MethodGet, "/api/v1/identities", admin.Token, nil); !strings.Contains(string(list.Body), ciID) {
			t.Errorf("identity list does not have %s: %s", ciID, list.Body)
		}
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+store.NewID(), admin.Token, nil), http.StatusNotFound, "unknown identity")

		// Identities that are not organization admins cannot manage identities.
		for _, role := range []string{coffer.RoleMember, coffer.RoleNoAccess} {
			_, _, _, tok := n.NewIdentity(t, admin, "plain-"+role, role)
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/identities", tok, map[string]any{"name": "sneaky", "organizationId": admin.OrgID, "role": "admin"}),
				http.StatusForbidden, role+" creates an identity")
			axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+ciID, tok, nil), http.StatusForbidden, role+" reads an identity")
			axWantErr(t, n.Do(t, http.MethodDelete, "/api/v1/identities/"+ciID, tok, nil), http.StatusForbidden, role+" deletes an identity")
			axWantErr(t, n.Do(t, http.MethodPost, axUAPath+ciID, tok, map[string]any{}), http.StatusForbidden, role+" attaches universal auth")
			axWantErr(t, n.Do(t, http.MethodPost, axUAPath+admin.IdentityID+"/client-secrets", tok, map[string]any{}),
				http.StatusForbidden, role+" makes a client secret for the admin")
		}

		// Memberships: viewer, then member, then none.
		p := axCreateProject(t, n, admin.Token, "members")
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/SEEN", admin.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "v"})
		id, _, _, tok := n.NewIdentity(t, admin, "worker", coffer.RoleNoAccess)
		mPath := "/api/v2/workspace/" + p.ID + "/identity-memberships/" + id
		listSecrets := func() *servertest.Response {
			return n.Do(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", tok, nil)
		}
		write := func(key string) *servertest.Response {
			return n.Do(t, http.MethodPost, "/api/v4/secrets/"+key, tok, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "w"})
		}
		axWantErr(t, listSecrets(), http.StatusForbidden, "before any membership")
		checkMembership := func(r *servertest.Response, role string) {
			t.Helper()
			var m struct {
				M struct {
					ID         string `json:"id"`
					IdentityID string `json:"identityId"`
					Roles      []struct {
						Role string `json:"role"`
					} `json:"roles"`
				} `json:"identityMembership"`
			}
			r.JSON(t, &m)
			if m.M.ID == "" || m.M.IdentityID != id || len(m.M.Roles) != 1 || m.M.Roles[0].Role != role {
				t.Errorf("membership answer %s, want role %s", r.Body, role)
			}
		}
		checkMembership(n.MustDo(t, http.MethodPost, mPath, admin.Token, map[string]any{"role": "viewer"}), "viewer")
		axWantOK(t, listSecrets(), "viewer reads")
		axWantErr(t, write("BY_VIEWER"), http.StatusForbidden, "viewer writes")
		checkMembership(n.MustDo(t, http.MethodPatch, mPath, admin.Token, map[string]any{"roles": []map[string]any{{"role": "member"}}}), "member")
		axWantOK(t, write("BY_MEMBER"), "member writes")
		checkMembership(n.MustDo(t, http.MethodPost, mPath, admin.Token, map[string]any{"roles": []map[string]any{{"role": "admin"}}}), "admin")
		var ms struct {
			Memberships []struct {
				IdentityID string `json:"identityId"`
				Roles      []struct {
					Role string `json:"role"`
				} `json:"roles"`
			} `json:"identityMemberships"`
		}
		n.MustDo(t, http.MethodGet, "/api/v2/workspace/"+p.ID+"/identity-memberships", admin.Token, nil).JSON(t, &ms)
		if len(ms.Memberships) != 1 || ms.Memberships[0].IdentityID != id || ms.Memberships[0].Roles[0].Role != "admin" {
			t.Errorf("membership list %+v", ms)
		}
		axWantErr(t, n.Do(t, http.MethodPost, mPath, admin.Token, map[string]any{"role": "owner"}), http.StatusUnprocessableEntity, "bad project role")
		axWantErr(t, n.Do(t, http.MethodPost, mPath, admin.Token, map[string]any{}), http.StatusUnprocessableEntity, "no role")
		checkMembership(n.MustDo(t, http.MethodDelete, mPath, admin.Token, nil), "admin")
		axWantErr(t, listSecrets(), http.StatusForbidden, "after the membership is deleted")
		axWantErr(t, write("AFTER_DELETE"), http.StatusForbidden, "write after the membership is deleted")
		axWantErr(t, n.Do(t, http.MethodDelete, mPath, admin.Token, nil), http.StatusNotFound, "delete a deleted membership")
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v2/workspace/"+p.ID+"/identity-memberships/"+store.NewID(), admin.Token, map[string]any{"role": "viewer"}),
			http.StatusNotFound, "unknown identity")

		// An identity of another organization cannot be added, and sees nothing.
		_, otherID, otherTok := axOtherOrgAdmin(t, n)
		axWantErr(t, n.Do(t, http.MethodPost, "/api/v2/workspace/"+p.ID+"/identity-memberships/"+otherID, admin.Token, map[string]any{"role": "admin"}),
			http.StatusNotFound, "identity of another organization")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+ciID, otherTok, nil), http.StatusNotFound, "other org reads our identity")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+otherID, admin.Token, nil), http.StatusNotFound, "we read the other org's identity")
		axWantErr(t, n.Do(t, http.MethodDelete, "/api/v1/identities/"+otherID, admin.Token, nil), http.StatusNotFound, "we delete the other org's identity")
		axWantOK(t, axPing(t, n, otherTok), "the other org's token survives")

		// Deleting an identity ends its tokens.
		id2, cid2, sec2, tok2 := n.NewIdentity(t, admin, "doomed", coffer.RoleNoAccess)
		axSetMembership(t, n, admin.Token, p.ID, id2, "member")
		axWantOK(t, n.Do(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", tok2, nil), "before delete")
		r = n.MustDo(t, http.MethodDelete, "/api/v1/identities/"+id2, admin.Token, nil)
		if got := r.Map(t)["identity"].(map[string]any); got["id"] != id2 {
			t.Errorf("delete identity answer %s", r.Body)
		}
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", tok2, nil), http.StatusUnauthorized, "token of a deleted identity")
		axWantErr(t, axLogin(t, n, cid2, sec2), http.StatusUnauthorized, "login of a deleted identity")
		axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/identities/"+id2, admin.Token, nil), http.StatusNotFound, "deleted identity")
		axWantErr(t, n.Do(t, http.MethodDelete, "/api/v1/identities/"+id2, admin.Token, nil), http.StatusNotFound, "delete twice")
		n.MustDo(t, http.MethodGet, "/api/v2/workspace/"+p.ID+"/identity-memberships", admin.Token, nil).JSON(t, &ms)
		for _, m := range ms.Memberships {
			if m.IdentityID == id2 {
				t.Errorf("the deleted identity is still a member")
			}
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 6. Status, health, unknown routes, trailing slashes.

func TestE2EAdminStatusAndRouting(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)

		r := n.MustDo(t, http.MethodGet, "/api/status", "", nil)
		m := r.Map(t)
		date, _ := m["date"].(string)
		if ts, err := time.Parse("2006-01-02T15:04:05.000Z", date); err != nil || time.Since(ts).Abs() > time.Minute {
			t.Errorf("status date %q: %v", date, err)
		}
		if m["message"] != "Ok" || m["emailConfigured"] != false || m["redisConfigured"] != false {
			t.Errorf("status %s", r.Body)
		}
		axWantOK(t, n.Do(t, http.MethodGet, "/healthz", "", nil), "healthz")
		axWantOK(t, n.Do(t, http.MethodGet, "/readyz", "", nil), "readyz")

		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/api/v9/nothing"},
			{http.MethodGet, "/nothing"},
			{http.MethodPost, "/api/status/extra"},
			{http.MethodPut, "/api/v4/secrets"},
		} {
			axWantErr(t, n.Do(t, c.method, c.path, admin.Token, nil), http.StatusNotFound, c.method+" "+c.path)
		}

		// Trailing slashes.
		p := axCreateProject(t, n, admin.Token, "slashes")
		_, cid, secret := axLoginIdentity(t, n, admin, "slash-login", map[string]any{})
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/api/status/", nil},
			{http.MethodGet, "/healthz/", nil},
			{http.MethodGet, "/api/v1/workspace/", nil},
			{http.MethodGet, "/api/v1/workspace/" + p.ID + "/", nil},
			{http.MethodGet, "/api/v1/projects/slug/" + p.Slug + "/", nil},
			{http.MethodGet, "/api/v4/secrets/?projectId=" + p.ID + "&environment=dev", nil},
			{http.MethodPost, "/api/v3/secrets/raw/SLASHED/", map[string]any{"workspaceId": p.ID, "environment": "dev", "secretValue": "s"}},
			{http.MethodGet, "/api/v3/secrets/raw/SLASHED/?workspaceId=" + p.ID + "&environment=dev", nil},
			{http.MethodGet, "/api/v1/folders/?workspaceId=" + p.ID + "&environment=dev", nil},
			{http.MethodPost, "/api/v1/auth/universal-auth/login/", map[string]any{"clientId": cid, "clientSecret": secret}},
			{http.MethodPost, "/api/v2/workspace/", map[string]any{"projectName": "slash created"}},
		} {
			axWantOK(t, n.Do(t, c.method, c.path, admin.Token, c.body), c.method+" "+c.path)
		}
	})
}
