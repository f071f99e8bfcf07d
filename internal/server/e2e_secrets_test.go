package server_test

// End-to-end tests of the Infisical-compatible secret routes (v3 raw and v4): every test runs
// a real node on SQLite and on PostgreSQL and talks raw HTTP to it, as the Infisical CLI and SDKs
// do. Each failing write is also checked to leave the project exactly as it was.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// ---------------------------------------------------------------------------------------------
// Fixture and helpers (shared with e2e_tree_test.go). Package-level names start with "es" so
// that they cannot clash with other end-to-end test files of this package.

// esNode is one running node with its bootstrap admin, and a connection to its database for
// checking that refused writes change nothing.
type esNode struct {
	n     *servertest.Node
	admin *servertest.Admin
	db    *sql.DB
	seq   int
}

func esStart(t *testing.T, dialect string) *esNode {
	t.Helper()
	n := servertest.Start(t, dialect)
	driver, dsn := "pgx", n.DSN
	if dialect == store.SQLite {
		driver, dsn = "sqlite", "file:"+n.DSN+"?mode=ro&_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &esNode{n: n, admin: n.Bootstrap(t), db: db}
}

// esTreeTables hold the secret trees of all projects.
var esTreeTables = []string{"environments", "folders", "secrets", "secret_versions", "tags", "secret_tags", "secret_imports"}

// dumpTree writes every row of the secret-tree tables to b, in a stable order.
func (e *esNode) dumpTree(t *testing.T, b *strings.Builder) {
	t.Helper()
	for _, table := range esTreeTables {
		rows, err := e.db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		fmt.Fprintf(b, "%s:\n", table)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			fmt.Fprintf(b, "%v\n", vals)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
	}
}

// esProject is a fresh project on the node, with a machine identity holding the member role.
type esProject struct {
	e   *esNode
	n   *servertest.Node
	id  string
	tok string
}

func (e *esNode) project(t *testing.T) *esProject {
	t.Helper()
	e.seq++
	p := e.n.NewProject(t, e.admin, fmt.Sprintf("web%d", e.seq), "member")
	return &esProject{e: e, n: e.n, id: p.ID, tok: p.Token}
}

// member adds another machine identity to the project with a project role and returns its token.
func (p *esProject) member(t *testing.T, role string) string {
	t.Helper()
	p.e.seq++
	id, _, _, tok := p.n.NewIdentity(t, p.e.admin, fmt.Sprintf("extra%d-%s", p.e.seq, role), "no-access")
	p.n.MustDo(t, http.MethodPost, "/api/v2/workspace/"+p.id+"/identity-memberships/"+id, p.e.admin.Token, esObj("role", role))
	return tok
}

// userToken logs the bootstrap user (an organization owner) in with its password.
func (e *esNode) userToken(t *testing.T) string {
	t.Helper()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	e.n.MustDo(t, http.MethodPost, "/api/v1/auth/password/login", "", esObj("email", e.admin.Email, "password", e.admin.Password)).JSON(t, &out)
	if out.AccessToken == "" {
		t.Fatal("password login returned no accessToken")
	}
	return out.AccessToken
}

// otherOrgToken makes a second organization straight in the node's database (the API creates
// only the first one) and returns the token of an identity that is an admin of it.
func (e *esNode) otherOrgToken(t *testing.T) string {
	t.Helper()
	ctx, db := context.Background(), e.n.Server.DB
	ids := identity.New(db, &authz.Authorizer{DB: db}, []byte(e.n.Server.Config.AuthSecret), nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	e.seq++
	org := &coffer.Organization{ID: store.NewID(), Name: "Elsewhere", Slug: fmt.Sprintf("elsewhere-%d", e.seq), CreatedAt: now, UpdatedAt: now}
	ident := &coffer.Identity{ID: store.NewID(), OrgID: org.ID, Name: "elsewhere-admin", OrgRole: coffer.RoleAdmin, AuthMethods: []string{}, CreatedAt: now, UpdatedAt: now}
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
		t.Fatalf("create another organization: %v", err)
	}
	return iss.Token
}

// esAPI names the routes and the project parameter of one API version.
type esAPI struct {
	name    string
	list    string // list route
	one     string // prefix of the one-secret routes
	batch   string // batch route
	project string // name of the project id in bodies and queries
}

var (
	esV3 = esAPI{"v3", "/api/v3/secrets/raw", "/api/v3/secrets/raw/", "/api/v3/secrets/batch/raw", "workspaceId"}
	esV4 = esAPI{"v4", "/api/v4/secrets", "/api/v4/secrets/", "/api/v4/secrets/batch", "projectId"}
)

func (v esAPI) key(k string) string { return v.one + url.PathEscape(k) }

// esObj builds a JSON object from name, value pairs.
func esObj(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// scope is a body naming a folder of the project, plus extra name, value pairs.
func (p *esProject) scope(v esAPI, env, path string, kv ...any) map[string]any {
	m := esObj(kv...)
	m[v.project], m["environment"], m["secretPath"] = p.id, env, path
	return m
}

// query is a query string naming a folder of the project, plus extra name, value pairs.
func (p *esProject) query(v esAPI, env, path string, kv ...string) string {
	q := url.Values{v.project: {p.id}, "environment": {env}, "secretPath": {path}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "?" + q.Encode()
}

// esItems builds the secrets of a batch from key, value pairs.
func esItems(kv ...string) []map[string]any {
	var out []map[string]any
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, esObj("secretKey", kv[i], "secretValue", kv[i+1]))
	}
	return out
}

func (p *esProject) do(t *testing.T, method, path string, body any, headers ...string) *servertest.Response {
	t.Helper()
	return p.n.Do(t, method, path, p.tok, body, headers...)
}

func (p *esProject) ok(t *testing.T, method, path string, body any) *servertest.Response {
	t.Helper()
	return p.n.MustDo(t, method, path, p.tok, body)
}

// esSecret is the part of SECRET the tests read.
type esSecret struct {
	ID      string  `json:"id"`
	Key     string  `json:"secretKey"`
	Value   string  `json:"secretValue"`
	Comment string  `json:"secretComment"`
	Version int     `json:"version"`
	Type    string  `json:"type"`
	Env     string  `json:"environment"`
	Path    string  `json:"secretPath"`
	Tags    []esTag `json:"tags"`
}

type esTag struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

type esImportBlock struct {
	SecretPath  string     `json:"secretPath"`
	Environment string     `json:"environment"`
	FolderID    string     `json:"folderId"`
	Secrets     []esSecret `json:"secrets"`
}

type esListing struct {
	Secrets []esSecret      `json:"secrets"`
	Imports []esImportBlock `json:"imports"`
}

// values maps key to value; it fails on a key listed twice.
func (l esListing) values(t *testing.T) map[string]string {
	t.Helper()
	return esSecretValues(t, l.Secrets)
}

func esSecretValues(t *testing.T, ss []esSecret) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, s := range ss {
		if _, dup := m[s.Key]; dup {
			t.Errorf("key %s listed twice", s.Key)
		}
		m[s.Key] = s.Value
	}
	return m
}

func esTagSlugs(s esSecret) []string {
	out := []string{}
	for _, tg := range s.Tags {
		out = append(out, tg.Slug)
	}
	slices.Sort(out)
	return out
}

// listAs lists a folder with a token.
func (p *esProject) listAs(t *testing.T, tok string, v esAPI, env, path string, kv ...string) esListing {
	t.Helper()
	var l esListing
	p.n.MustDo(t, http.MethodGet, v.list+p.query(v, env, path, kv...), tok, nil).JSON(t, &l)
	return l
}

// list lists a folder through v4 as the member identity.
func (p *esProject) list(t *testing.T, env, path string, kv ...string) esListing {
	t.Helper()
	return p.listAs(t, p.tok, esV4, env, path, kv...)
}

// get reads one secret through a version's route.
func (p *esProject) get(t *testing.T, v esAPI, env, path, key string, kv ...string) *servertest.Response {
	t.Helper()
	return p.do(t, http.MethodGet, v.key(key)+p.query(v, env, path, kv...), nil)
}

func (p *esProject) mustGet(t *testing.T, v esAPI, env, path, key string, kv ...string) esSecret {
	t.Helper()
	r := p.get(t, v, env, path, key, kv...)
	if r.Status != http.StatusOK {
		t.Fatalf("get %s: %d %s", key, r.Status, r.Body)
	}
	return esDecodeSecret(t, r)
}

func esDecodeSecret(t *testing.T, r *servertest.Response) esSecret {
	t.Helper()
	var out struct {
		Secret *esSecret `json:"secret"`
	}
	r.JSON(t, &out)
	if out.Secret == nil {
		t.Fatalf("no \"secret\" in %s", r.Body)
	}
	return *out.Secret
}

func esDecodeSecrets(t *testing.T, r *servertest.Response) []esSecret {
	t.Helper()
	var out struct {
		Secrets *[]esSecret `json:"secrets"`
	}
	r.JSON(t, &out)
	if out.Secrets == nil {
		t.Fatalf("no \"secrets\" in %s", r.Body)
	}
	return *out.Secrets
}

// put creates a shared secret through v4.
func (p *esProject) put(t *testing.T, env, path, key, value string, kv ...any) esSecret {
	t.Helper()
	return esDecodeSecret(t, p.ok(t, http.MethodPost, esV4.key(key), p.scope(esV4, env, path, append([]any{"secretValue", value}, kv...)...)))
}

// set updates a shared secret through v4.
func (p *esProject) set(t *testing.T, env, path, key string, kv ...any) esSecret {
	t.Helper()
	return esDecodeSecret(t, p.ok(t, http.MethodPatch, esV4.key(key), p.scope(esV4, env, path, kv...)))
}

// folder creates a folder (and its missing parents).
func (p *esProject) folder(t *testing.T, env, parent, name string) string {
	t.Helper()
	var out struct {
		Folder struct{ ID string } `json:"folder"`
	}
	p.ok(t, http.MethodPost, "/api/v1/folders", esObj("workspaceId", p.id, "environment", env, "path", parent, "name", name)).JSON(t, &out)
	return out.Folder.ID
}

// tag creates a tag and returns it.
func (p *esProject) tag(t *testing.T, slug string) esTag {
	t.Helper()
	var out struct {
		Tag esTag `json:"tag"`
	}
	p.ok(t, http.MethodPost, "/api/v1/projects/"+p.id+"/tags", esObj("slug", slug, "color", "#123456")).JSON(t, &out)
	return out.Tag
}

// importFrom makes the folder env/path import srcEnv/srcPath and returns the import id.
func (p *esProject) importFrom(t *testing.T, env, path, srcEnv, srcPath string) string {
	t.Helper()
	var out struct {
		SecretImport struct{ ID string } `json:"secretImport"`
	}
	p.ok(t, http.MethodPost, "/api/v1/secret-imports", esObj("workspaceId", p.id, "environment", env, "path", path,
		"import", esObj("environment", srcEnv, "path", srcPath))).JSON(t, &out)
	return out.SecretImport.ID
}

// snapshot is the state of the node's secret trees: every row of the tables that hold them
// (secrets of every folder, their versions and tags, folders, imports, tags), and what a
// recursive listing of dev shows with each token (the admin's when none).
func (p *esProject) snapshot(t *testing.T, toks ...string) string {
	t.Helper()
	if len(toks) == 0 {
		toks = []string{p.e.admin.Token}
	}
	var b strings.Builder
	p.e.dumpTree(t, &b)
	for _, tok := range toks {
		b.Write(p.n.MustDo(t, http.MethodGet, esV3.list+p.query(esV3, "dev", "/", "recursive", "true", "include_imports", "true"), tok, nil).Body)
	}
	return b.String()
}

// same fails the test when the project no longer looks as before.
func (p *esProject) same(t *testing.T, before string, toks ...string) {
	t.Helper()
	after := p.snapshot(t, toks...)
	if after == before {
		return
	}
	i := 0
	for i < len(before) && i < len(after) && before[i] == after[i] {
		i++
	}
	lo := max(i-150, 0)
	t.Errorf("the project changed at byte %d:\nbefore …%s…\nafter  …%s…", i, before[lo:min(i+150, len(before))], after[lo:min(i+150, len(after))])
}

// esReq is one request.
type esReq struct {
	method, path string
	body         any
}

// refused sends r with tok, expects the error status, name and mentions, and checks that the
// project did not change (as the admin sees it).
func (p *esProject) refused(t *testing.T, tok string, r esReq, status int, name string, mention ...string) {
	t.Helper()
	before := p.snapshot(t)
	esWantErr(t, p.n.Do(t, r.method, r.path, tok, r.body), status, name, mention...)
	p.same(t, before)
}

// esWantErr checks the Infisical error body: {reqId, statusCode, message (a string), error}.
func esWantErr(t *testing.T, r *servertest.Response, status int, name string, mention ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d %s; body %s", r.Status, status, name, esShort(r.Body))
		return
	}
	var b struct {
		ReqID      string          `json:"reqId"`
		StatusCode int             `json:"statusCode"`
		Message    json.RawMessage `json:"message"`
		Error      string          `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Errorf("error body %s: %v", esShort(r.Body), err)
		return
	}
	var msg string
	if err := json.Unmarshal(b.Message, &msg); err != nil {
		t.Errorf("message %s is not a string", b.Message)
	}
	if b.StatusCode != status || b.Error != name {
		t.Errorf("body %s: want statusCode %d, error %q", esShort(r.Body), status, name)
	}
	if b.ReqID == "" || b.ReqID != r.Header.Get("X-Request-Id") {
		t.Errorf("reqId %q, X-Request-Id %q", b.ReqID, r.Header.Get("X-Request-Id"))
	}
	for _, m := range mention {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not mention %q", msg, m)
		}
	}
}

func esShort(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func esWantValues(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("values = %v, want %v", got, want)
	}
}

// ---------------------------------------------------------------------------------------------
// 1. Create, get, update, delete one secret, on v3 and v4.

func TestE2ESecretsCRUD(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		for _, v := range []esAPI{esV3, esV4} {
			t.Run(v.name, func(t *testing.T) {
				p := e.project(t)
				red, blue := p.tag(t, "red"), p.tag(t, "blue")

				s := esDecodeSecret(t, p.ok(t, http.MethodPost, v.key("API_KEY"),
					p.scope(v, "dev", "/", "secretValue", "one", "secretComment", "first", "type", "shared")))
				if s.Key != "API_KEY" || s.Value != "one" || s.Comment != "first" || s.Version != 1 || s.Type != "shared" || s.Env != "dev" || s.Path != "/" {
					t.Errorf("created %+v", s)
				}
				if got := p.mustGet(t, v, "dev", "/", "API_KEY"); got.Value != "one" || got.Comment != "first" || got.ID != s.ID {
					t.Errorf("get = %+v", got)
				}

				// Updates: the value, then the comment alone.
				s = esDecodeSecret(t, p.ok(t, http.MethodPatch, v.key("API_KEY"), p.scope(v, "dev", "/", "secretValue", "two", "type", "shared")))
				if s.Value != "two" || s.Comment != "first" || s.Version != 2 {
					t.Errorf("after value update %+v", s)
				}
				s = esDecodeSecret(t, p.ok(t, http.MethodPatch, v.key("API_KEY"), p.scope(v, "dev", "/", "secretComment", "second")))
				if s.Value != "two" || s.Comment != "second" || s.Version != 3 {
					t.Errorf("after comment update %+v", s)
				}
				for n, want := range map[int]string{1: "one", 2: "two", 3: "two"} {
					got := p.mustGet(t, v, "dev", "/", "API_KEY", "version", fmt.Sprint(n))
					if got.Value != want || got.Version != n {
						t.Errorf("version=%d: %q v%d, want %q", n, got.Value, got.Version, want)
					}
				}
				esWantErr(t, p.get(t, v, "dev", "/", "API_KEY", "version", "9"), 404, "NotFound", "9")
				esWantErr(t, p.get(t, v, "dev", "/", "API_KEY", "version", "two"), 422, "ValidationFailure", "version")

				// tagIds replace the tags; an update without tagIds keeps them.
				tags := func(s esSecret) string { return strings.Join(esTagSlugs(s), ",") }
				s = esDecodeSecret(t, p.ok(t, http.MethodPost, v.key("TAGGED"), p.scope(v, "dev", "/", "secretValue", "t", "tagIds", []string{red.ID})))
				if tags(s) != "red" {
					t.Errorf("created with tags %q", tags(s))
				}
				for _, step := range []struct {
					body []any
					want string
				}{
					{[]any{"tagIds", []string{blue.ID}}, "blue"},
					{[]any{"tagIds", []string{red.ID, blue.ID}}, "blue,red"},
					{[]any{"secretValue", "t2"}, "blue,red"},
					{[]any{"tagIds", []string{}}, ""},
				} {
					s = esDecodeSecret(t, p.ok(t, http.MethodPatch, v.key("TAGGED"), p.scope(v, "dev", "/", step.body...)))
					if got := tags(p.mustGet(t, v, "dev", "/", "TAGGED")); tags(s) != step.want || got != step.want {
						t.Errorf("after %v: tags %q (then read %q), want %q", step.body, tags(s), got, step.want)
					}
				}

				// Rename.
				s = esDecodeSecret(t, p.ok(t, http.MethodPatch, v.key("API_KEY"), p.scope(v, "dev", "/", "newSecretName", "API_TOKEN")))
				if s.Key != "API_TOKEN" || s.Value != "two" || s.Version != 4 {
					t.Errorf("renamed %+v", s)
				}
				esWantErr(t, p.get(t, v, "dev", "/", "API_KEY"), 404, "NotFound", "API_KEY")
				if got := p.mustGet(t, v, "dev", "/", "API_TOKEN"); got.Value != "two" || got.Comment != "second" {
					t.Errorf("get renamed = %+v", got)
				}

				// Delete with a JSON body; the CLI's v3 body carries secretName too.
				body := p.scope(v, "dev", "/", "type", "shared")
				if v == esV3 {
					body["secretName"] = "API_TOKEN"
				}
				if s = esDecodeSecret(t, p.ok(t, http.MethodDelete, v.key("API_TOKEN"), body)); s.Key != "API_TOKEN" || s.Value != "two" {
					t.Errorf("deleted %+v", s)
				}
				esWantErr(t, p.get(t, v, "dev", "/", "API_TOKEN"), 404, "NotFound", "API_TOKEN")
				// Some clients put the scope of a DELETE in the query instead.
				p.put(t, "dev", "/", "BYQUERY", "q")
				if s = esDecodeSecret(t, p.ok(t, http.MethodDelete, v.key("BYQUERY")+p.query(v, "dev", "/"), nil)); s.Key != "BYQUERY" {
					t.Errorf("deleted %+v", s)
				}
				esWantValues(t, p.list(t, "dev", "/").values(t), map[string]string{"TAGGED": "t2"})

				p.refused(t, p.tok, esReq{http.MethodPost, v.key("TAGGED"), p.scope(v, "dev", "/", "secretValue", "x")}, 400, "BadRequest", "TAGGED")
				p.refused(t, p.tok, esReq{http.MethodPatch, v.key("NOPE"), p.scope(v, "dev", "/", "secretValue", "x")}, 404, "NotFound", "NOPE")
				p.refused(t, p.tok, esReq{http.MethodDelete, v.key("NOPE"), p.scope(v, "dev", "/", "type", "shared")}, 404, "NotFound", "NOPE")
				p.refused(t, p.tok, esReq{http.MethodPatch, v.key("TAGGED"), p.scope(v, "dev", "/", "newSecretName", "bad name")}, 422, "ValidationFailure", "newSecretName")
			})
		}

		t.Run("captured client traffic", func(t *testing.T) {
			// The requests of the contract's capture, byte for byte (Infisical CLI v0.43, Go SDK v0.8).
			p := e.project(t)
			P := p.id
			send := func(agent, method, path, body string) *servertest.Response {
				t.Helper()
				var b any
				if body != "" {
					b = body
				}
				r := p.n.Do(t, method, path, p.tok, b, "User-Agent", agent)
				if r.Status != http.StatusOK {
					t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
				}
				return r
			}
			list := func(flag string) map[string]string {
				t.Helper()
				var l esListing
				send("cli", http.MethodGet, "/api/v4/secrets?environment=dev&expandSecretReferences="+flag+"&includeImports="+flag+
					"&includePersonalOverrides="+flag+"&projectId="+P+"&recursive=false&secretPath=%2F", "").JSON(t, &l)
				return l.values(t)
			}
			p.put(t, "dev", "/", "API_KEY", "original")
			esWantValues(t, list("false"), map[string]string{"API_KEY": "original"})
			send("cli", http.MethodPost, "/api/v3/secrets/raw/NEW_KEY", `{"workspaceId":"`+P+`","type":"shared","environment":"dev","secretPath":"/","secretValue":"hello"}`)
			send("cli", http.MethodPatch, "/api/v3/secrets/raw/API_KEY", `{"workspaceId":"`+P+`","environment":"dev","secretPath":"/","secretValue":"rotated","type":"shared"}`)
			esWantValues(t, list("true"), map[string]string{"API_KEY": "rotated", "NEW_KEY": "hello"})
			send("cli", http.MethodDelete, "/api/v3/secrets/raw/NEW_KEY", `{"secretName":"NEW_KEY","workspaceId":"`+P+`","environment":"dev","type":"shared","secretPath":"/"}`)
			esWantValues(t, list("true"), map[string]string{"API_KEY": "rotated"})

			const sdk = "infisical-go-sdk"
			send(sdk, http.MethodPost, "/api/v3/secrets/raw/DB_URL", `{"workspaceId":"`+P+`","environment":"dev","secretPath":"/","secretValue":"postgres://db","type":"shared"}`)
			send(sdk, http.MethodPost, "/api/v3/secrets/batch/raw", `{"workspaceId":"`+P+`","environment":"dev","secretPath":"/","secrets":[{"secretKey":"B1","secretValue":"1"},{"secretKey":"B2","secretValue":"${DB_URL}"}]}`)
			var one struct {
				Secret esSecret `json:"secret"`
			}
			send(sdk, http.MethodGet, "/api/v3/secrets/raw/DB_URL?workspaceId="+P+"&environment=dev&secretPath=%2F&type=shared&include_imports=true&expandSecretReferences=false", "").JSON(t, &one)
			if one.Secret.Value != "postgres://db" {
				t.Errorf("SDK get DB_URL = %+v", one.Secret)
			}
			var l esListing
			send(sdk, http.MethodGet, "/api/v3/secrets/raw?workspaceId="+P+"&workspaceSlug=&environment=dev&secretPath=%2F&expandSecretReferences=true&include_imports=true&recursive=false", "").JSON(t, &l)
			esWantValues(t, l.values(t), map[string]string{"API_KEY": "rotated", "DB_URL": "postgres://db", "B1": "1", "B2": "postgres://db"})
		})
	})
}

// ---------------------------------------------------------------------------------------------
// 1. Batch create, update (three modes), delete; all or nothing.

func TestE2ESecretsBatch(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		for _, v := range []esAPI{esV3, esV4} {
			t.Run(v.name, func(t *testing.T) {
				p := e.project(t)
				batch := func(method string, secrets any, kv ...any) esReq {
					return esReq{method, v.batch, p.scope(v, "dev", "/", append([]any{"secrets", secrets}, kv...)...)}
				}
				send := func(r esReq) []esSecret { t.Helper(); return esDecodeSecrets(t, p.ok(t, r.method, r.path, r.body)) }
				values := func() map[string]string { t.Helper(); return p.list(t, "dev", "/").values(t) }

				if got := send(batch(http.MethodPost, esItems("A", "a1", "B", "b1", "C", "c1"))); len(got) != 3 || got[0].Version != 1 {
					t.Errorf("created %+v", got)
				}
				esWantValues(t, values(), map[string]string{"A": "a1", "B": "b1", "C": "c1"})

				if got := send(batch(http.MethodPatch, esItems("A", "a2", "B", "b2"))); len(got) != 2 || got[0].Version != 2 || got[1].Version != 2 {
					t.Errorf("updated %+v", got)
				}
				esWantValues(t, values(), map[string]string{"A": "a2", "B": "b2", "C": "c1"})

				// failOnNotFound, the default: 404 naming the missing keys, nothing written.
				p.refused(t, p.tok, batch(http.MethodPatch, esItems("A", "a3", "X", "x", "Y", "y")), 404, "NotFound", "X", "Y")
				p.refused(t, p.tok, batch(http.MethodPatch, esItems("A", "a3", "X", "x"), "mode", "failOnNotFound"), 404, "NotFound", "X")

				// upsert creates the missing keys.
				got := send(batch(http.MethodPatch, esItems("A", "a3", "D", "d1"), "mode", "upsert"))
				byKey := map[string]esSecret{}
				for _, s := range got {
					byKey[s.Key] = s
				}
				if len(got) != 2 || byKey["A"].Version != 3 || byKey["D"].Version != 1 || byKey["D"].Value != "d1" {
					t.Errorf("upsert returned %+v", got)
				}
				// ignore skips them.
				if got := send(batch(http.MethodPatch, esItems("B", "b3", "Z", "z"), "mode", "ignore")); len(got) != 1 || got[0].Key != "B" || got[0].Value != "b3" {
					t.Errorf("ignore returned %+v", got)
				}
				esWantValues(t, values(), map[string]string{"A": "a3", "B": "b3", "C": "c1", "D": "d1"})
				p.refused(t, p.tok, batch(http.MethodPatch, esItems("A", "a4"), "mode", "sometimes"), 422, "ValidationFailure", "mode")

				// Rename in a batch; a rename onto an existing key is refused.
				send(batch(http.MethodPatch, []map[string]any{esObj("secretKey", "C", "newSecretName", "C2")}))
				p.refused(t, p.tok, batch(http.MethodPatch, []map[string]any{esObj("secretKey", "C2", "newSecretName", "D")}), 400, "BadRequest", "D")

				// Delete.
				del := []map[string]any{esObj("secretKey", "A"), esObj("secretKey", "B", "type", "shared")}
				if got := send(batch(http.MethodDelete, del)); len(got) != 2 {
					t.Errorf("deleted %+v", got)
				}
				esWantValues(t, values(), map[string]string{"C2": "c1", "D": "d1"})
				p.refused(t, p.tok, batch(http.MethodDelete, []map[string]any{esObj("secretKey", "C2"), esObj("secretKey", "NOPE")}), 404, "NotFound", "NOPE")

				// All or nothing: one bad item of five writes none of them.
				five := esItems("N1", "1", "N2", "2", "N3", "3", "N4", "4", "N5", "5")
				bad := slices.Clone(five)
				bad[2] = esObj("secretKey", "bad name", "secretValue", "3")
				p.refused(t, p.tok, batch(http.MethodPost, bad), 422, "ValidationFailure", "secrets[2].secretKey")
				bad[2] = esObj("secretKey", "D", "secretValue", "3")
				p.refused(t, p.tok, batch(http.MethodPost, bad), 400, "BadRequest", "D")
				bad[2] = esObj("secretKey", "N1", "secretValue", "3")
				p.refused(t, p.tok, batch(http.MethodPost, bad), 422, "ValidationFailure", "N1")
				// An upsert that fails on its fourth item rolls back the three written before it.
				upd := esItems("C2", "u", "D", "u", "N0", "u")
				upd = append(upd, esObj("secretKey", "N9"), esObj("secretKey", "D2", "secretValue", "u"))
				p.refused(t, p.tok, batch(http.MethodPatch, upd, "mode", "upsert"), 422, "ValidationFailure", "secretValue", "N9")
				send(batch(http.MethodPost, five))
				esWantValues(t, values(), map[string]string{"C2": "c1", "D": "d1", "N1": "1", "N2": "2", "N3": "3", "N4": "4", "N5": "5"})
			})
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 2. The exact SECRET shape, and values that round-trip byte for byte.

var esISOMillis = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// esSecretFields are the fields of the contract's SECRET.
var esSecretFields = []string{"id", "_id", "workspace", "environment", "version", "type", "secretKey", "secretValue", "secretComment",
	"secretReminderNote", "secretReminderRepeatDays", "skipMultilineEncoding", "createdAt", "updatedAt", "secretPath",
	"secretValueHidden", "secretMetadata", "tags"}

// esCheckShape checks every field of a SECRET and its JSON type.
func esCheckShape(t *testing.T, s map[string]any, projectID, env, path string) {
	t.Helper()
	for _, f := range esSecretFields {
		if _, ok := s[f]; !ok {
			t.Errorf("secret %v has no field %q", s["secretKey"], f)
		}
	}
	str := func(m map[string]any, f string) string {
		t.Helper()
		v, ok := m[f].(string)
		if !ok {
			t.Errorf("%s = %#v, want a string", f, m[f])
		}
		return v
	}
	if id := str(s, "id"); id == "" || s["_id"] != id {
		t.Errorf("id %q, _id %v", id, s["_id"])
	}
	if str(s, "workspace") != projectID || str(s, "environment") != env || str(s, "secretPath") != path {
		t.Errorf("workspace/environment/secretPath = %v/%v/%v, want %s/%s/%s", s["workspace"], s["environment"], s["secretPath"], projectID, env, path)
	}
	if v, ok := s["version"].(float64); !ok || v < 1 || v != float64(int(v)) {
		t.Errorf("version = %#v, want a positive integer", s["version"])
	}
	if typ := str(s, "type"); typ != "shared" && typ != "personal" {
		t.Errorf("type = %q", typ)
	}
	str(s, "secretKey")
	str(s, "secretValue")
	str(s, "secretComment")
	if v := s["secretReminderNote"]; v != nil {
		str(s, "secretReminderNote")
	}
	if v, ok := s["secretReminderRepeatDays"]; ok && v != nil {
		if _, ok := v.(float64); !ok {
			t.Errorf("secretReminderRepeatDays = %#v, want a number or null", v)
		}
	}
	if _, ok := s["skipMultilineEncoding"].(bool); !ok {
		t.Errorf("skipMultilineEncoding = %#v, want a boolean", s["skipMultilineEncoding"])
	}
	for _, f := range []string{"createdAt", "updatedAt"} {
		if v := str(s, f); !esISOMillis.MatchString(v) {
			t.Errorf("%s = %q, want ISO-8601 with milliseconds and Z", f, v)
		}
	}
	if s["secretValueHidden"] != false {
		t.Errorf("secretValueHidden = %#v, want false", s["secretValueHidden"])
	}
	meta, ok := s["secretMetadata"].([]any)
	if !ok {
		t.Errorf("secretMetadata = %#v, want an array", s["secretMetadata"])
	}
	for _, m := range meta {
		mm, _ := m.(map[string]any)
		str(mm, "key")
		str(mm, "value")
		if _, ok := mm["isEncrypted"].(bool); !ok {
			t.Errorf("secretMetadata entry %#v: isEncrypted is not a boolean", m)
		}
	}
	tags, ok := s["tags"].([]any)
	if !ok {
		t.Errorf("tags = %#v, want an array", s["tags"])
	}
	for _, tg := range tags {
		tm, _ := tg.(map[string]any)
		for _, f := range []string{"id", "slug", "name", "color"} {
			str(tm, f)
		}
	}
}

func TestE2ESecretsShape(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		ops := p.tag(t, "ops")
		full := p.put(t, "dev", "/", "FULL", "full-value", "secretComment", "a comment", "tagIds", []string{ops.ID},
			"secretMetadata", []any{esObj("key", "owner", "value", "team")}, "skipMultilineEncoding", true,
			"secretReminderNote", "rotate me", "secretReminderRepeatDays", 30)
		p.ok(t, http.MethodPost, esV3.key("BARE"), p.scope(esV3, "dev", "/", "secretValue", "bare"))

		for _, u := range []string{
			esV4.list + p.query(esV4, "dev", "/"),
			esV4.list + p.query(esV4, "dev", "/", "includeImports", "true", "expandSecretReferences", "true"),
			esV3.list + p.query(esV3, "dev", "/"),
			esV3.list + p.query(esV3, "dev", "/", "include_imports", "true"),
		} {
			r := p.ok(t, http.MethodGet, u, nil)
			if !strings.Contains(string(r.Body), `"imports":[]`) {
				t.Errorf("GET %s: imports is not [] in %s", u, esShort(r.Body))
			}
			var body struct {
				Secrets []map[string]any `json:"secrets"`
			}
			r.JSON(t, &body)
			if len(body.Secrets) != 2 {
				t.Fatalf("GET %s: %d secrets", u, len(body.Secrets))
			}
			for _, s := range body.Secrets {
				esCheckShape(t, s, p.id, "dev", "/")
				switch s["secretKey"] {
				case "FULL":
					if s["id"] != full.ID || s["secretComment"] != "a comment" || s["skipMultilineEncoding"] != true ||
						s["secretReminderNote"] != "rotate me" || s["secretReminderRepeatDays"] != 30.0 {
						t.Errorf("FULL = %v", s)
					}
					if want := []any{map[string]any{"key": "owner", "value": "team", "isEncrypted": false}}; fmt.Sprint(s["secretMetadata"]) != fmt.Sprint(want) {
						t.Errorf("FULL secretMetadata = %v, want %v", s["secretMetadata"], want)
					}
					if want := []any{map[string]any{"id": ops.ID, "slug": "ops", "name": "ops", "color": "#123456"}}; fmt.Sprint(s["tags"]) != fmt.Sprint(want) {
						t.Errorf("FULL tags = %v, want %v", s["tags"], want)
					}
				case "BARE":
					if s["secretComment"] != "" || s["skipMultilineEncoding"] != false || len(s["tags"].([]any)) != 0 || len(s["secretMetadata"].([]any)) != 0 {
						t.Errorf("BARE = %v", s)
					}
				}
			}
		}
		// The one-secret answers carry the same shape.
		for _, r := range []*servertest.Response{
			p.get(t, esV4, "dev", "/", "FULL"),
			p.get(t, esV3, "dev", "/", "BARE"),
			p.ok(t, http.MethodPost, esV4.key("THIRD"), p.scope(esV4, "dev", "/", "secretValue", "3")),
			p.ok(t, http.MethodPatch, esV3.key("THIRD"), p.scope(esV3, "dev", "/", "secretValue", "4")),
			p.ok(t, http.MethodDelete, esV4.key("THIRD"), p.scope(esV4, "dev", "/")),
		} {
			var one struct {
				Secret map[string]any `json:"secret"`
			}
			r.JSON(t, &one)
			esCheckShape(t, one.Secret, p.id, "dev", "/")
		}

		t.Run("values round-trip", func(t *testing.T) {
			p := e.project(t)
			big := strings.Repeat("0123456789abcdé✓\n", 200<<10/20) // 200 KiB of multi-byte text
			if len(big) != 200<<10 {
				t.Fatalf("big is %d bytes", len(big))
			}
			values := map[string]string{
				"MULTI":   "line one\nline two\r\nline three\n\n",
				"QUOTES":  `double " single ' back` + "`" + ` backslash \ \n slash / {"json": true}`,
				"UNICODE": "héllo wörld ✓ 日本語 🙂 \u2028\u2029 \u00a0 \ufeff",
				"DOLLAR":  "$HOME $1 $$ $ {x} $",
				"NOT_REF": "${ x, ${not closed, ${has space}, ${}, ${a/b}, ${a:b} and ${ok",
				"HTML":    "<b>&amp;</b> <script>alert(1)</script>",
				"CONTROL": "tab\there nul\x00 esc\x1b del\x7f",
				"EMPTY":   "",
				"BIG":     big,
			}
			for k, val := range values {
				s := esDecodeSecret(t, p.ok(t, http.MethodPost, esV3.key(k), p.scope(esV3, "dev", "/", "secretValue", val, "secretComment", val[:min(len(val), 100)])))
				if s.Value != val {
					t.Errorf("%s: create answered %q", k, esShort([]byte(s.Value)))
				}
			}
			for _, v := range []esAPI{esV3, esV4} {
				for _, expand := range []string{"false", "true"} {
					got := p.listAs(t, p.tok, v, "dev", "/", "expandSecretReferences", expand).values(t)
					for k, val := range values {
						if got[k] != val {
							t.Errorf("%s list expand=%s: %s = %q, want %q", v.name, expand, k, esShort([]byte(got[k])), esShort([]byte(val)))
						}
					}
				}
				for k, val := range values {
					if s := p.mustGet(t, v, "dev", "/", k, "expandSecretReferences", "true"); s.Value != val || s.Comment != val[:min(len(val), 100)] {
						t.Errorf("%s get %s = %q", v.name, k, esShort([]byte(s.Value)))
					}
				}
			}
		})
	})
}

// ---------------------------------------------------------------------------------------------
// 3. Listing: recursive, tag filter, ETag, trailing slash, query booleans, unknown scopes.

func TestE2ESecretsListing(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		p.folder(t, "dev", "/a", "b") // creates /a too
		p.put(t, "dev", "/", "ROOT", "r")
		p.put(t, "dev", "/a", "IN_A", "a")
		p.put(t, "dev", "/a/b/", "IN_B", "b") // a trailing slash is stripped
		p.put(t, "staging", "/", "OTHER_ENV", "x")

		t.Run("recursive", func(t *testing.T) {
			paths := func(l esListing) map[string]string {
				m := map[string]string{}
				for _, s := range l.Secrets {
					m[s.Key] = s.Path
				}
				return m
			}
			for _, v := range []esAPI{esV3, esV4} {
				esWantValues(t, paths(p.listAs(t, p.tok, v, "dev", "/", "recursive", "true")), map[string]string{"ROOT": "/", "IN_A": "/a", "IN_B": "/a/b"})
				esWantValues(t, paths(p.listAs(t, p.tok, v, "dev", "/", "recursive", "false")), map[string]string{"ROOT": "/"})
				esWantValues(t, paths(p.listAs(t, p.tok, v, "dev", "/a/", "recursive", "true")), map[string]string{"IN_A": "/a", "IN_B": "/a/b"})
				esWantValues(t, paths(p.listAs(t, p.tok, v, "dev", "a/b")), map[string]string{"IN_B": "/a/b"})
			}
		})

		t.Run("tagSlugs", func(t *testing.T) {
			red, blue := p.tag(t, "red"), p.tag(t, "blue")
			p.put(t, "dev", "/a/b", "RED", "1", "tagIds", []string{red.ID})
			p.put(t, "dev", "/a/b", "BLUE", "2", "tagIds", []string{blue.ID})
			p.put(t, "dev", "/a/b", "BOTH", "3", "tagIds", []string{red.ID, blue.ID})
			keys := func(kv ...string) []string {
				var out []string
				for _, s := range p.list(t, "dev", "/a/b", kv...).Secrets {
					out = append(out, s.Key)
				}
				slices.Sort(out)
				return out
			}
			for _, tt := range []struct {
				slugs string
				want  []string
			}{
				{"red", []string{"BOTH", "RED"}},
				{"blue", []string{"BLUE", "BOTH"}},
				{"red,blue", []string{"BLUE", "BOTH", "RED"}},
				{"nope", nil},
				{"", []string{"BLUE", "BOTH", "IN_B", "RED"}},
			} {
				if got := keys("tagSlugs", tt.slugs); !slices.Equal(got, tt.want) {
					t.Errorf("tagSlugs=%q: %v, want %v", tt.slugs, got, tt.want)
				}
			}
			if got := keys("tagSlugs", "red", "recursive", "true"); !slices.Equal(got, []string{"BOTH", "RED"}) {
				t.Errorf("tagSlugs=red recursive: %v", got)
			}
		})

		t.Run("etag", func(t *testing.T) {
			for _, v := range []esAPI{esV3, esV4} {
				u := v.list + p.query(v, "dev", "/", "recursive", "true")
				first := p.ok(t, http.MethodGet, u, nil)
				etag := first.Header.Get("ETag")
				if etag == "" {
					t.Fatalf("%s: no ETag", v.name)
				}
				r := p.do(t, http.MethodGet, u, nil, "If-None-Match", etag)
				if r.Status != http.StatusNotModified || len(r.Body) != 0 {
					t.Errorf("%s If-None-Match: %d %q, want 304 with no body", v.name, r.Status, r.Body)
				}
				p.set(t, "dev", "/a", "IN_A", "secretValue", "a-"+v.name)
				r = p.do(t, http.MethodGet, u, nil, "If-None-Match", etag)
				if r.Status != http.StatusOK || r.Header.Get("ETag") == etag || r.Header.Get("ETag") == "" {
					t.Errorf("%s after an update: %d, ETag %q (was %q)", v.name, r.Status, r.Header.Get("ETag"), etag)
				}
			}
		})

		t.Run("trailing slash", func(t *testing.T) {
			for _, v := range []esAPI{esV3, esV4} {
				q := p.query(v, "dev", "/")
				a, b := p.ok(t, http.MethodGet, v.list+q, nil), p.ok(t, http.MethodGet, v.list+"/"+q, nil)
				if string(a.Body) != string(b.Body) {
					t.Errorf("%s: with a trailing slash %s, without %s", v.name, b.Body, a.Body)
				}
				p.ok(t, http.MethodGet, v.key("ROOT")+"/"+q, nil)
				p.ok(t, http.MethodPost, v.key("SLASH_"+v.name)+"/", p.scope(v, "dev", "/", "secretValue", "s"))
				p.ok(t, http.MethodPatch, v.batch+"/", p.scope(v, "dev", "/", "secrets", esItems("SLASH_"+v.name, "t")))
			}
			// The Go SDK sends an empty workspaceSlug, which means absent.
			p.ok(t, http.MethodGet, esV3.list+p.query(esV3, "dev", "/", "include_imports", "true")+"&workspaceSlug=", nil)
		})

		t.Run("query booleans", func(t *testing.T) {
			for _, name := range []string{"recursive", "expandSecretReferences", "includeImports", "include_imports", "includePersonalOverrides"} {
				for _, bad := range []string{"yes", "1", "TRUE", "True"} {
					for _, v := range []esAPI{esV3, esV4} {
						esWantErr(t, p.do(t, http.MethodGet, v.list+p.query(v, "dev", "/", name, bad), nil), 422, "ValidationFailure", name)
					}
				}
				if name != "recursive" && name != "includePersonalOverrides" {
					esWantErr(t, p.get(t, esV4, "dev", "/", "ROOT", name, "1"), 422, "ValidationFailure", name)
				}
			}
		})

		t.Run("unknown scopes", func(t *testing.T) {
			other := "00000000-0000-4000-8000-000000000000"
			for _, v := range []esAPI{esV3, esV4} {
				for _, tt := range []struct {
					query   string
					status  int
					name    string
					mention string
				}{
					{"?" + url.Values{v.project: {other}, "environment": {"dev"}}.Encode(), 404, "NotFound", other},
					{p.query(v, "nope", "/"), 404, "NotFound", "nope"},
					{p.query(v, "dev", "/nope"), 404, "NotFound", "/nope"},
					{p.query(v, "dev", "/a/nope"), 404, "NotFound", "/a/nope"},
					{"?" + url.Values{v.project: {p.id}}.Encode(), 422, "ValidationFailure", "environment"},
					{"?environment=dev", 422, "ValidationFailure", "projectId"},
					{p.query(v, "dev", "/bad path"), 422, "ValidationFailure", "secretPath"},
				} {
					esWantErr(t, p.do(t, http.MethodGet, v.list+tt.query, nil), tt.status, tt.name, tt.mention)
					esWantErr(t, p.do(t, http.MethodGet, v.key("ROOT")+tt.query, nil), tt.status, tt.name, tt.mention)
				}
				esWantErr(t, p.get(t, v, "dev", "/", "NOPE"), 404, "NotFound", "NOPE")
				esWantErr(t, p.get(t, v, "dev", "/a", "ROOT"), 404, "NotFound", "ROOT")
			}
		})
	})
}

// ---------------------------------------------------------------------------------------------
// 4. Secret references.

func TestE2ESecretsReferences(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)

		t.Run("expansion", func(t *testing.T) {
			p := e.project(t)
			p.put(t, "dev", "/", "B", "bee")
			p.put(t, "dev", "/", "LOCAL", "${B}")
			p.put(t, "staging", "/", "S", "staging-s")
			p.put(t, "dev", "/", "OTHER_ENV", "${staging.S}")
			p.folder(t, "staging", "/a", "b")
			p.put(t, "staging", "/a/b", "DEEP", "deep")
			p.put(t, "dev", "/", "IN_FOLDER", "${staging.a.b.DEEP}")
			// Nested references resolve where the referenced secret lives: R of staging /a, not of dev /.
			p.put(t, "staging", "/a", "R", "staging-r")
			p.put(t, "staging", "/a", "Q", "q:${R}")
			p.put(t, "dev", "/", "R", "dev-r")
			p.put(t, "dev", "/", "NESTED", "${staging.a.Q}")
			p.put(t, "dev", "/", "MIXED", "pre-${B}-mid-${staging.S}-post ${not a ref} $B")
			p.put(t, "dev", "/", "TWICE", "${LOCAL}${LOCAL}")

			raw := map[string]string{"B": "bee", "LOCAL": "${B}", "OTHER_ENV": "${staging.S}", "IN_FOLDER": "${staging.a.b.DEEP}",
				"R": "dev-r", "NESTED": "${staging.a.Q}", "MIXED": "pre-${B}-mid-${staging.S}-post ${not a ref} $B", "TWICE": "${LOCAL}${LOCAL}"}
			expanded := map[string]string{"B": "bee", "LOCAL": "bee", "OTHER_ENV": "staging-s", "IN_FOLDER": "deep",
				"R": "dev-r", "NESTED": "q:staging-r", "MIXED": "pre-bee-mid-staging-s-post ${not a ref} $B", "TWICE": "beebee"}
			for _, v := range []esAPI{esV3, esV4} {
				esWantValues(t, p.listAs(t, p.tok, v, "dev", "/").values(t), raw) // off by default
				esWantValues(t, p.listAs(t, p.tok, v, "dev", "/", "expandSecretReferences", "false").values(t), raw)
				esWantValues(t, p.listAs(t, p.tok, v, "dev", "/", "expandSecretReferences", "true").values(t), expanded)
				for k := range raw {
					if got := p.mustGet(t, v, "dev", "/", k).Value; got != raw[k] {
						t.Errorf("%s get %s = %q, want %q", v.name, k, got, raw[k])
					}
					if got := p.mustGet(t, v, "dev", "/", k, "expandSecretReferences", "true").Value; got != expanded[k] {
						t.Errorf("%s get %s expanded = %q, want %q", v.name, k, got, expanded[k])
					}
				}
			}
			// Recursive listings expand each secret relative to its own folder.
			l := p.list(t, "staging", "/", "recursive", "true", "expandSecretReferences", "true")
			esWantValues(t, l.values(t), map[string]string{"S": "staging-s", "DEEP": "deep", "R": "staging-r", "Q": "q:staging-r"})

			// Imported secrets expand relative to the folder they come from.
			p.importFrom(t, "dev", "/", "staging", "/a")
			l = p.list(t, "dev", "/", "includeImports", "true", "expandSecretReferences", "true")
			if len(l.Imports) != 1 {
				t.Fatalf("imports %+v", l.Imports)
			}
			esWantValues(t, esSecretValues(t, l.Imports[0].Secrets), map[string]string{"Q": "q:staging-r", "R": "staging-r"})
			l = p.list(t, "dev", "/", "includeImports", "true")
			esWantValues(t, esSecretValues(t, l.Imports[0].Secrets), map[string]string{"Q": "q:${R}", "R": "staging-r"})
			if got := p.mustGet(t, esV4, "dev", "/", "Q", "includeImports", "true", "expandSecretReferences", "true").Value; got != "q:staging-r" {
				t.Errorf("imported Q expanded = %q", got)
			}
		})

		t.Run("missing", func(t *testing.T) {
			p := e.project(t)
			p.put(t, "dev", "/", "B", "bee")
			p.put(t, "dev", "/", "U", "u")
			p.put(t, "staging", "/", "S", "s")
			create := func(key, val string) esReq {
				return esReq{http.MethodPost, esV4.key(key), p.scope(esV4, "dev", "/", "secretValue", val)}
			}
			for _, tt := range []struct{ value, mention string }{
				{"${NOPE}", "${NOPE}"},
				{"x ${B} ${NOPE}", "${NOPE}"},
				{"${staging.NOPE}", "${staging.NOPE}"},
				{"${staging.nofolder.S}", "${staging.nofolder.S}"},
				{"${nope.S}", "nope"}, // an environment that does not exist
			} {
				p.refused(t, p.tok, create("A", tt.value), 400, "BadRequest", "A", tt.mention)
				p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("U"), p.scope(esV4, "dev", "/", "secretValue", tt.value)}, 400, "BadRequest", "U", tt.mention)
			}
			// One bad reference in a batch writes nothing.
			p.refused(t, p.tok, esReq{http.MethodPost, esV3.batch, p.scope(esV3, "dev", "/", "secrets", esItems("OK1", "1", "BAD", "${MISSING}", "OK2", "${B}"))},
				400, "BadRequest", "BAD", "${MISSING}")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV3.batch, p.scope(esV3, "dev", "/", "mode", "upsert", "secrets", esItems("B", "b2", "NEW", "${staging.MISSING}"))},
				400, "BadRequest", "${staging.MISSING}")

			// A reference left dangling by a delete fails the expanding reads, naming it.
			p.put(t, "dev", "/", "C", "c")
			p.put(t, "dev", "/", "A", "${C}")
			p.ok(t, http.MethodDelete, esV4.key("C"), p.scope(esV4, "dev", "/"))
			for _, v := range []esAPI{esV3, esV4} {
				esWantErr(t, p.do(t, http.MethodGet, v.list+p.query(v, "dev", "/", "expandSecretReferences", "true"), nil), 400, "BadRequest", "A", "${C}")
				esWantErr(t, p.get(t, v, "dev", "/", "A", "expandSecretReferences", "true"), 400, "BadRequest", "A", "${C}")
				if got := p.mustGet(t, v, "dev", "/", "A").Value; got != "${C}" {
					t.Errorf("unexpanded A = %q", got)
				}
			}
			// Writing the dangling secret again is refused until the reference resolves.
			p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("A"), p.scope(esV4, "dev", "/", "secretValue", "${C}!")}, 400, "BadRequest", "${C}")
			p.put(t, "dev", "/", "C", "back")
			if got := p.mustGet(t, esV4, "dev", "/", "A", "expandSecretReferences", "true").Value; got != "back" {
				t.Errorf("A = %q once C is back", got)
			}
		})

		t.Run("cycles", func(t *testing.T) {
			p := e.project(t)
			p.refused(t, p.tok, esReq{http.MethodPost, esV4.key("A"), p.scope(esV4, "dev", "/", "secretValue", "${A}")}, 400, "BadRequest", "A", "cycle")
			p.refused(t, p.tok, esReq{http.MethodPost, esV4.batch, p.scope(esV4, "dev", "/", "secrets", esItems("A", "${B}", "B", "${A}"))}, 400, "BadRequest", "cycle")
			p.put(t, "dev", "/", "B", "bee")
			p.put(t, "dev", "/", "A", "${B}")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("B"), p.scope(esV4, "dev", "/", "secretValue", "${A}")}, 400, "BadRequest", "B", "cycle")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV3.key("B"), p.scope(esV3, "dev", "/", "secretValue", "x${dev.A}")}, 400, "BadRequest", "B", "cycle")
			// Across environments: staging S -> dev A -> dev B -> staging S.
			p.put(t, "staging", "/", "S", "${dev.A}")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("B"), p.scope(esV4, "dev", "/", "secretValue", "${staging.S}")}, 400, "BadRequest", "cycle")
			// A rename that would close a cycle: A -> ${B} dangles once B is gone; renaming C (= ${A}) to B closes it.
			p.put(t, "dev", "/", "C", "${A}")
			p.ok(t, http.MethodDelete, esV4.key("B"), p.scope(esV4, "dev", "/"))
			p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("C"), p.scope(esV4, "dev", "/", "newSecretName", "B")}, 400, "BadRequest", "cycle")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV3.batch, p.scope(esV3, "dev", "/", "secrets", []any{esObj("secretKey", "C", "newSecretName", "B")})}, 400, "BadRequest", "cycle")
			esWantValues(t, p.list(t, "dev", "/").values(t), map[string]string{"A": "${B}", "C": "${A}"})
		})

		t.Run("depth", func(t *testing.T) {
			p := e.project(t)
			// chain(n, prefix) is n references deep: K0 = ${K1}, …, K(n-1) = ${Kn}, Kn = end.
			chain := func(prefix string, n int) []map[string]any {
				var kv []string
				for i := 0; i < n; i++ {
					kv = append(kv, fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("${%s%d}", prefix, i+1))
				}
				return esItems(append(kv, fmt.Sprintf("%s%d", prefix, n), "end")...)
			}
			send := func(s []map[string]any) esReq {
				return esReq{http.MethodPost, esV4.batch, p.scope(esV4, "dev", "/", "secrets", s)}
			}
			p.ok(t, http.MethodPost, esV4.batch, send(chain("L", 10)).body)
			for k, v := range p.list(t, "dev", "/", "expandSecretReferences", "true").values(t) {
				if v != "end" {
					t.Errorf("%s = %q in a chain of 10", k, v)
				}
			}
			if got := p.mustGet(t, esV3, "dev", "/", "L0", "expandSecretReferences", "true").Value; got != "end" {
				t.Errorf("L0 = %q", got)
			}
			// Eleven levels are refused, whatever the order of the batch.
			c11 := chain("M", 11)
			p.refused(t, p.tok, send(c11), 400, "BadRequest", "deeper than 10")
			slices.Reverse(c11)
			p.refused(t, p.tok, send(c11), 400, "BadRequest", "deeper than 10")
			// Built one secret at a time from the end, the eleventh level is refused too.
			for _, s := range c11[:len(c11)-1] {
				p.ok(t, http.MethodPost, esV4.key(s["secretKey"].(string)), p.scope(esV4, "dev", "/", "secretValue", s["secretValue"]))
			}
			p.refused(t, p.tok, esReq{http.MethodPost, esV4.key("M0"), p.scope(esV4, "dev", "/", "secretValue", "${M1}")}, 400, "BadRequest", "M0", "deeper than 10")
			p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("L0"), p.scope(esV4, "dev", "/", "secretValue", "${M1}")}, 400, "BadRequest", "L0", "deeper than 10")

			// A leaf that grows a level makes the chain above it too deep: expanding reads say so.
			p.put(t, "dev", "/", "L11", "end")
			p.set(t, "dev", "/", "L10", "secretValue", "${L11}")
			esWantErr(t, p.do(t, http.MethodGet, esV4.list+p.query(esV4, "dev", "/", "expandSecretReferences", "true"), nil), 400, "BadRequest", "deeper than 10")
			esWantErr(t, p.get(t, esV4, "dev", "/", "L0", "expandSecretReferences", "true"), 400, "BadRequest", "L0", "deeper than 10")
			if got := p.mustGet(t, esV4, "dev", "/", "L1", "expandSecretReferences", "true").Value; got != "end" {
				t.Errorf("L1 = %q", got)
			}
		})
	})
}

// ---------------------------------------------------------------------------------------------
// 6. Personal overrides.

func TestE2ESecretsPersonal(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		user := e.userToken(t)
		p.put(t, "dev", "/", "K", "shared")
		p.put(t, "dev", "/", "ONLY", "only-shared")

		var created struct {
			Secret esSecret `json:"secret"`
		}
		e.n.MustDo(t, http.MethodPost, esV3.key("K"), user, p.scope(esV3, "dev", "/", "secretValue", "mine", "type", "personal")).JSON(t, &created)
		if created.Secret.Type != "personal" || created.Secret.Value != "mine" {
			t.Errorf("created %+v", created.Secret)
		}
		type kt struct{ key, typ, value string }
		entries := func(tok string, v esAPI, kv ...string) []kt {
			t.Helper()
			var out []kt
			for _, s := range p.listAs(t, tok, v, "dev", "/", kv...).Secrets {
				out = append(out, kt{s.Key, s.Type, s.Value})
			}
			slices.SortFunc(out, func(a, b kt) int { return strings.Compare(a.key+a.typ, b.key+b.typ) })
			return out
		}
		shared := []kt{{"K", "shared", "shared"}, {"ONLY", "shared", "only-shared"}}
		overridden := []kt{{"K", "personal", "mine"}, {"ONLY", "shared", "only-shared"}}
		both := []kt{{"K", "personal", "mine"}, {"K", "shared", "shared"}, {"ONLY", "shared", "only-shared"}}
		for _, tt := range []struct {
			name string
			tok  string
			v    esAPI
			kv   []string
			want []kt
		}{
			{"user v4 overrides", user, esV4, []string{"includePersonalOverrides", "true"}, overridden},
			{"user v4 default", user, esV4, nil, shared},
			{"user v4 overrides=false", user, esV4, []string{"includePersonalOverrides", "false"}, shared},
			{"user v3 default", user, esV3, nil, both},
			{"user v3 overrides", user, esV3, []string{"includePersonalOverrides", "true"}, overridden},
			{"user v4 overrides expanded", user, esV4, []string{"includePersonalOverrides", "true", "expandSecretReferences", "true", "includeImports", "true"}, overridden},
			{"identity v4 overrides", p.tok, esV4, []string{"includePersonalOverrides", "true"}, shared},
			{"identity v3", p.tok, esV3, nil, shared},
		} {
			if got := entries(tt.tok, tt.v, tt.kv...); !slices.Equal(got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
		getAs := func(tok, typ string) string {
			var out struct {
				Secret esSecret `json:"secret"`
			}
			e.n.MustDo(t, http.MethodGet, esV4.key("K")+p.query(esV4, "dev", "/", "type", typ), tok, nil).JSON(t, &out)
			return out.Secret.Value
		}
		if a, b := getAs(user, "personal"), getAs(user, "shared"); a != "mine" || b != "shared" {
			t.Errorf("user get personal %q, shared %q", a, b)
		}

		before := p.snapshot(t, e.admin.Token, user)
		// A machine identity has no personal secrets.
		for _, r := range []esReq{
			{http.MethodPost, esV3.key("K"), p.scope(esV3, "dev", "/", "secretValue", "x", "type", "personal")},
			{http.MethodPost, esV4.batch, p.scope(esV4, "dev", "/", "secrets", []any{esObj("secretKey", "ONLY", "secretValue", "x", "type", "personal")})},
		} {
			esWantErr(t, p.n.Do(t, r.method, r.path, p.tok, r.body), 400, "BadRequest", "personal")
		}
		esWantErr(t, p.get(t, esV4, "dev", "/", "K", "type", "personal"), 400, "BadRequest", "personal")
		// A personal override needs a shared secret of the same key.
		esWantErr(t, e.n.Do(t, http.MethodPost, esV3.key("NOSHARED"), user, p.scope(esV3, "dev", "/", "secretValue", "x", "type", "personal")), 400, "BadRequest", "NOSHARED")
		// The user's second personal K is refused as existing; an unknown type is invalid.
		esWantErr(t, e.n.Do(t, http.MethodPost, esV3.key("K"), user, p.scope(esV3, "dev", "/", "secretValue", "x", "type", "personal")), 400, "BadRequest", "K")
		esWantErr(t, e.n.Do(t, http.MethodPost, esV3.key("K2"), user, p.scope(esV3, "dev", "/", "secretValue", "x", "type", "private")), 422, "ValidationFailure", "type")
		p.same(t, before, e.admin.Token, user)

		// Update and delete the override; the shared secret stays.
		e.n.MustDo(t, http.MethodPatch, esV3.key("K"), user, p.scope(esV3, "dev", "/", "secretValue", "mine2", "type", "personal"))
		if got := getAs(user, "personal"); got != "mine2" {
			t.Errorf("personal after update = %q", got)
		}
		e.n.MustDo(t, http.MethodDelete, esV3.key("K"), user, p.scope(esV3, "dev", "/", "type", "personal"))
		if got := entries(user, esV3); !slices.Equal(got, shared) {
			t.Errorf("after deleting the override: %v", got)
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 9. Malformed input on the write routes.

func TestE2ESecretsMalformed(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		p.put(t, "dev", "/", "EXISTING", "x")
		p.folder(t, "dev", "/", "f")

		type route struct {
			name, method, path string
			batch              bool
			// body is a valid body for the route with the scope given and the fields of one item.
			body func(scope map[string]any, item map[string]any) map[string]any
		}
		single := func(scope, item map[string]any) map[string]any {
			maps.Copy(scope, item)
			delete(scope, "secretKey")
			return scope
		}
		batchBody := func(scope, item map[string]any) map[string]any {
			scope["secrets"] = []any{item}
			return scope
		}
		var routes []route
		for _, v := range []esAPI{esV3, esV4} {
			routes = append(routes,
				route{v.name + " create", http.MethodPost, v.key("NEW"), false, single},
				route{v.name + " update", http.MethodPatch, v.key("EXISTING"), false, single},
				route{v.name + " delete", http.MethodDelete, v.key("EXISTING"), false, single},
				route{v.name + " batch create", http.MethodPost, v.batch, true, batchBody},
				route{v.name + " batch update", http.MethodPatch, v.batch, true, batchBody},
				route{v.name + " batch delete", http.MethodDelete, v.batch, true, batchBody},
			)
		}
		before := p.snapshot(t)
		huge := strings.Repeat("x", 2<<20)
		for _, rt := range routes {
			v := esV4
			if strings.HasPrefix(rt.name, "v3") {
				v = esV3
			}
			key := "NEW"
			if rt.method != http.MethodPost {
				key = "EXISTING"
			}
			valid := func(env, path string, item ...any) map[string]any {
				it := esObj("secretKey", key, "secretValue", "v")
				maps.Copy(it, esObj(item...))
				return rt.body(p.scope(v, env, path), it)
			}
			t.Run(rt.name, func(t *testing.T) {
				type tc struct {
					name    string
					body    any
					status  int
					errName string
					mention []string
				}
				cases := []tc{
					{"malformed JSON", `{"` + v.project + `": "` + p.id + `", "environment": `, 400, "BadRequest", []string{"JSON"}},
					{"malformed JSON, trailing data", `{"environment": "dev"} {}`, 400, "BadRequest", []string{"JSON"}},
					{"not an object", `["dev"]`, 422, "ValidationFailure", []string{"object"}},
					{"body over the limit", valid("dev", "/", "secretValue", huge), 413, "PayloadTooLarge", nil},
					{"unknown project", rt.body(esObj(v.project, "00000000-0000-4000-8000-000000000000", "environment", "dev"), esObj("secretKey", key, "secretValue", "v")), 404, "NotFound", []string{"00000000-0000-4000-8000-000000000000"}},
					{"unknown environment", valid("nope", "/"), 404, "NotFound", []string{"nope"}},
					{"unknown path", valid("dev", "/f/nope"), 404, "NotFound", []string{"/f/nope"}},
					{"invalid path", valid("dev", "/bad path"), 422, "ValidationFailure", []string{"secretPath"}},
					{"missing environment", rt.body(esObj(v.project, p.id), esObj("secretKey", key, "secretValue", "v")), 422, "ValidationFailure", []string{"environment"}},
					{"missing project", rt.body(esObj("environment", "dev"), esObj("secretKey", key, "secretValue", "v")), 422, "ValidationFailure", []string{v.project}},
					{"wrong type of type", valid("dev", "/", "type", 1), 422, "ValidationFailure", []string{"type"}},
					{"unknown type", valid("dev", "/", "type", "private"), 422, "ValidationFailure", []string{"type"}},
				}
				// An empty body (a one-secret DELETE may carry its scope in the query instead, so
				// without either it lacks the project: 422 too).
				cases = append(cases, tc{"empty body", "", 422, "ValidationFailure", nil}, tc{"null body", "null", 422, "ValidationFailure", nil})
				if rt.method != http.MethodDelete {
					cases = append(cases,
						tc{"secretValue a number", valid("dev", "/", "secretValue", 5), 422, "ValidationFailure", []string{"secretValue"}},
						tc{"tagIds a string", valid("dev", "/", "tagIds", "x"), 422, "ValidationFailure", []string{"tagIds"}},
						tc{"skipMultilineEncoding a string", valid("dev", "/", "skipMultilineEncoding", "yes"), 422, "ValidationFailure", []string{"skipMultilineEncoding"}},
						tc{"value over 256 KiB", valid("dev", "/", "secretValue", huge[:300<<10]), 422, "ValidationFailure", []string{"secretValue"}},
						tc{"metadata without key", valid("dev", "/", "secretMetadata", []any{esObj("value", "v")}), 422, "ValidationFailure", []string{"secretMetadata"}},
						tc{"unknown tag", valid("dev", "/", "tagIds", []string{"no-such-tag"}), 404, "NotFound", []string{"no-such-tag"}},
					)
				}
				if rt.method == http.MethodPost {
					cases = append(cases, tc{"missing secretValue", valid("dev", "/", "secretValue", nil), 422, "ValidationFailure", []string{"secretValue"}})
				}
				if rt.batch {
					cases = append(cases,
						tc{"secrets a string", p.scope(v, "dev", "/", "secrets", "x"), 422, "ValidationFailure", []string{"secrets"}},
						tc{"secrets empty", p.scope(v, "dev", "/", "secrets", []any{}), 422, "ValidationFailure", []string{"secrets"}},
						tc{"secrets missing", p.scope(v, "dev", "/"), 422, "ValidationFailure", []string{"secrets"}},
						tc{"secretKey a number", p.scope(v, "dev", "/", "secrets", []any{esObj("secretKey", 7, "secretValue", "v")}), 422, "ValidationFailure", []string{"secretKey"}},
					)
					for _, name := range []string{"has space", "a/b", "", strings.Repeat("K", 300), "ünï", "a$b"} {
						cases = append(cases, tc{"secret name " + esShort([]byte(name)), valid("dev", "/", "secretKey", name), 422, "ValidationFailure", []string{"secretKey"}})
					}
				}
				for _, c := range cases {
					r := p.n.Do(t, rt.method, rt.path, p.tok, c.body)
					t.Run(c.name, func(t *testing.T) { esWantErr(t, r, c.status, c.errName, c.mention...) })
				}
				if !rt.batch {
					// Invalid names in the path of the one-secret routes.
					for _, name := range []string{"has space", "a/b", strings.Repeat("K", 300), "a$b"} {
						r := p.n.Do(t, rt.method, v.key(name), p.tok, valid("dev", "/"))
						esWantErr(t, r, 422, "ValidationFailure", "secretKey")
					}
				}
				p.same(t, before)
			})
		}
		// The write routes still work after all that.
		p.ok(t, http.MethodPost, esV3.batch, p.scope(esV3, "dev", "/f", "secrets", esItems("AFTER", "ok")))
	})
}

// ---------------------------------------------------------------------------------------------
// 10. Roles on the secret, folder, import and tag routes.

func TestE2ESecretsRoles(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		p.put(t, "dev", "/", "K", "v")
		p.put(t, "staging", "/", "S", "s")
		folderID := p.folder(t, "dev", "/", "f")
		importID := p.importFrom(t, "dev", "/", "staging", "/")
		tg := p.tag(t, "t1")
		viewer := p.member(t, "viewer")
		noAccess := p.member(t, "no-access")
		_, _, _, outsider := e.n.NewIdentity(t, e.admin, "outsider", "member") // in the organization, not in the project

		reads := []string{
			esV4.list + p.query(esV4, "dev", "/", "recursive", "true", "includeImports", "true", "expandSecretReferences", "true"),
			esV3.list + p.query(esV3, "dev", "/", "include_imports", "true"),
			esV4.key("K") + p.query(esV4, "dev", "/"),
			esV3.key("K") + p.query(esV3, "dev", "/"),
			"/api/v1/folders" + p.query(esV3, "dev", "/"),
			"/api/v1/secret-imports" + p.query(esV3, "dev", "/"),
			"/api/v1/projects/" + p.id + "/tags",
			"/api/v1/projects/" + p.id + "/tags/" + tg.ID,
			"/api/v1/projects/" + p.id + "/tags/slug/t1",
		}
		writes := func(v esAPI) []esReq {
			return []esReq{
				{http.MethodPost, v.key("NEW"), p.scope(v, "dev", "/", "secretValue", "x")},
				{http.MethodPatch, v.key("K"), p.scope(v, "dev", "/", "secretValue", "x")},
				{http.MethodDelete, v.key("K"), p.scope(v, "dev", "/")},
				{http.MethodPost, v.batch, p.scope(v, "dev", "/", "secrets", esItems("NEW", "x"))},
				{http.MethodPatch, v.batch, p.scope(v, "dev", "/", "secrets", esItems("K", "x"))},
				{http.MethodPatch, v.batch, p.scope(v, "dev", "/", "mode", "upsert", "secrets", esItems("NEW", "x"))},
				{http.MethodDelete, v.batch, p.scope(v, "dev", "/", "secrets", esItems("K", ""))},
			}
		}
		allWrites := append(writes(esV3), writes(esV4)...)
		allWrites = append(allWrites,
			esReq{http.MethodPost, "/api/v1/folders", esObj("workspaceId", p.id, "environment", "dev", "path", "/", "name", "g")},
			esReq{http.MethodPatch, "/api/v1/folders/" + folderID, esObj("workspaceId", p.id, "environment", "dev", "path", "/", "name", "g")},
			esReq{http.MethodDelete, "/api/v1/folders/f", esObj("workspaceId", p.id, "environment", "dev", "directory", "/")},
			esReq{http.MethodPost, "/api/v1/secret-imports", esObj("workspaceId", p.id, "environment", "dev", "path", "/", "import", esObj("environment", "prod", "path", "/"))},
			esReq{http.MethodPatch, "/api/v1/secret-imports/" + importID, esObj("workspaceId", p.id, "environment", "dev", "path", "/", "import", esObj("position", 1))},
			esReq{http.MethodDelete, "/api/v1/secret-imports/" + importID, esObj("workspaceId", p.id, "environment", "dev", "path", "/")},
			esReq{http.MethodPost, "/api/v1/projects/" + p.id + "/tags", esObj("slug", "t2")},
			esReq{http.MethodPatch, "/api/v1/projects/" + p.id + "/tags/" + tg.ID, esObj("name", "renamed")},
			esReq{http.MethodDelete, "/api/v1/projects/" + p.id + "/tags/" + tg.ID, nil},
		)

		t.Run("viewer", func(t *testing.T) {
			for _, u := range reads {
				p.n.MustDo(t, http.MethodGet, u, viewer, nil)
			}
			before := p.snapshot(t)
			for _, w := range allWrites {
				r := p.n.Do(t, w.method, w.path, viewer, w.body)
				if r.Status != http.StatusForbidden {
					t.Errorf("viewer %s %s: %d %s", w.method, w.path, r.Status, esShort(r.Body))
					continue
				}
				esWantErr(t, r, 403, "PermissionDenied")
			}
			p.same(t, before)
		})

		t.Run("no access", func(t *testing.T) {
			before := p.snapshot(t)
			for name, tok := range map[string]string{"no-access": noAccess, "outsider": outsider} {
				for _, u := range reads {
					r := p.n.Do(t, http.MethodGet, u, tok, nil)
					if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
						t.Errorf("%s GET %s: %d, want 403 or 404", name, u, r.Status)
					}
					if strings.Contains(string(r.Body), `"v"`) || strings.Contains(string(r.Body), `"t1"`) { // quoted: a request id may hold t1
						t.Errorf("%s GET %s leaks %s", name, u, r.Body)
					}
				}
				for _, w := range allWrites {
					if r := p.n.Do(t, w.method, w.path, tok, w.body); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
						t.Errorf("%s %s %s: %d, want 403 or 404", name, w.method, w.path, r.Status)
					}
				}
			}
			p.same(t, before)
		})

		t.Run("unauthenticated", func(t *testing.T) {
			for _, tok := range []string{"", "not-a-token"} {
				for _, u := range reads[:4] {
					esWantErr(t, p.n.Do(t, http.MethodGet, u, tok, nil), 401, "UnauthorizedError")
				}
				w := allWrites[0]
				esWantErr(t, p.n.Do(t, w.method, w.path, tok, w.body), 401, "UnauthorizedError")
			}
		})

		t.Run("another project", func(t *testing.T) {
			q := e.project(t)
			q.put(t, "dev", "/", "QK", "q-secret")
			qFolder := q.folder(t, "dev", "/", "qf")
			qImport := q.importFrom(t, "dev", "/", "staging", "/")
			qTag := q.tag(t, "qtag")
			beforeP, beforeQ := p.snapshot(t), q.snapshot(t)

			// p's identity naming q's project directly: refused without showing anything.
			for _, u := range []string{
				esV4.list + q.query(esV4, "dev", "/"), esV3.key("QK") + q.query(esV3, "dev", "/"),
				"/api/v1/folders" + q.query(esV3, "dev", "/"), "/api/v1/projects/" + q.id + "/tags",
			} {
				r := p.do(t, http.MethodGet, u, nil)
				if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "q-secret") {
					t.Errorf("GET %s with another project's token: %d %s", u, r.Status, esShort(r.Body))
				}
			}
			for _, w := range []esReq{
				{http.MethodPost, esV4.key("X"), q.scope(esV4, "dev", "/", "secretValue", "x")},
				{http.MethodPatch, esV3.key("QK"), q.scope(esV3, "dev", "/", "secretValue", "x")},
				{http.MethodDelete, esV4.batch, q.scope(esV4, "dev", "/", "secrets", esItems("QK", ""))},
			} {
				if r := p.do(t, w.method, w.path, w.body); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
					t.Errorf("%s %s with another project's token: %d %s", w.method, w.path, r.Status, esShort(r.Body))
				}
			}
			// q's objects named inside p's own project: 404, as if they did not exist.
			for _, tt := range []struct {
				r       esReq
				mention string
			}{
				{esReq{http.MethodPost, esV4.key("X"), p.scope(esV4, "dev", "/", "secretValue", "x", "tagIds", []string{qTag.ID})}, qTag.ID},
				{esReq{http.MethodPatch, esV4.key("K"), p.scope(esV4, "dev", "/", "tagIds", []string{qTag.ID})}, qTag.ID},
				{esReq{http.MethodPatch, "/api/v1/folders/" + qFolder, esObj("workspaceId", p.id, "environment", "dev", "path", "/", "name", "stolen")}, qFolder},
				{esReq{http.MethodDelete, "/api/v1/folders/" + qFolder, esObj("workspaceId", p.id, "environment", "dev", "path", "/")}, qFolder},
				{esReq{http.MethodPatch, "/api/v1/secret-imports/" + qImport, esObj("workspaceId", p.id, "environment", "dev", "path", "/", "import", esObj("position", 1))}, qImport},
				{esReq{http.MethodDelete, "/api/v1/secret-imports/" + qImport, esObj("workspaceId", p.id, "environment", "dev", "path", "/")}, qImport},
				{esReq{http.MethodGet, "/api/v1/projects/" + p.id + "/tags/" + qTag.ID, nil}, qTag.ID},
				{esReq{http.MethodPatch, "/api/v1/projects/" + p.id + "/tags/" + qTag.ID, esObj("name", "stolen")}, qTag.ID},
				{esReq{http.MethodDelete, "/api/v1/projects/" + p.id + "/tags/" + qTag.ID, nil}, qTag.ID},
				{esReq{http.MethodGet, "/api/v1/projects/" + p.id + "/tags/slug/qtag", nil}, "qtag"},
			} {
				esWantErr(t, p.do(t, tt.r.method, tt.r.path, tt.r.body), 404, "NotFound", tt.mention)
			}
			p.same(t, beforeP)
			q.same(t, beforeQ)
		})

		t.Run("another organization", func(t *testing.T) {
			// A project of another organization does not exist for p's identity, and p's
			// project does not exist for the other organization's admin: 404 both ways.
			other := e.otherOrgToken(t)
			var made struct {
				Project struct{ ID string } `json:"project"`
			}
			e.n.MustDo(t, http.MethodPost, "/api/v2/workspace", other, esObj("projectName", "theirs")).JSON(t, &made)
			theirs := &esProject{e: e, n: e.n, id: made.Project.ID, tok: other}
			theirs.put(t, "dev", "/", "THEIRS", "their-secret")
			theirTag := theirs.tag(t, "their-tag")
			beforeP := p.snapshot(t)
			for _, c := range []struct {
				tok    string
				target *esProject
			}{{p.tok, theirs}, {other, p}} {
				x := c.target
				for _, r := range []esReq{
					{http.MethodGet, esV4.list + x.query(esV4, "dev", "/"), nil},
					{http.MethodGet, esV3.key("THEIRS") + x.query(esV3, "dev", "/"), nil},
					{http.MethodGet, "/api/v1/folders" + x.query(esV3, "dev", "/"), nil},
					{http.MethodGet, "/api/v1/secret-imports" + x.query(esV3, "dev", "/"), nil},
					{http.MethodGet, "/api/v1/projects/" + x.id + "/tags", nil},
					{http.MethodGet, "/api/v1/projects/" + x.id + "/tags/" + theirTag.ID, nil},
					{http.MethodPost, esV4.key("X"), x.scope(esV4, "dev", "/", "secretValue", "x")},
					{http.MethodPatch, esV3.batch, x.scope(esV3, "dev", "/", "secrets", esItems("THEIRS", "x"))},
					{http.MethodDelete, esV4.key("K"), x.scope(esV4, "dev", "/")},
					{http.MethodPost, "/api/v1/folders", esObj("workspaceId", x.id, "environment", "dev", "path", "/", "name", "g")},
					{http.MethodPost, "/api/v1/projects/" + x.id + "/tags", esObj("slug", "t9")},
				} {
					resp := e.n.Do(t, r.method, r.path, c.tok, r.body)
					esWantErr(t, resp, 404, "NotFound", x.id)
					if strings.Contains(string(resp.Body), "secret\"") {
						t.Errorf("%s %s leaks %s", r.method, r.path, resp.Body)
					}
				}
			}
			p.same(t, beforeP)
			if got := theirs.list(t, "dev", "/").values(t); !maps.Equal(got, map[string]string{"THEIRS": "their-secret"}) {
				t.Errorf("their project now has %v", got)
			}
		})
	})
}
