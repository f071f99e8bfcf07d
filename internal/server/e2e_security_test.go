package server_test

// End-to-end security tests: no plaintext secret value, comment or credential is ever at rest
// in the database (checked on a dump of every table, with pg_dump on PostgreSQL and on the raw
// SQLite files), none reaches the logs, and error messages never echo a value. Every check
// also proves it can fail: the planted values are found where they belong (API reads) and
// canaries (secret names, which are stored in clear by design) are found in the dumps.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// axPlanted is what a security scenario wrote.
type axPlanted struct {
	stored   []string // secret values and comments written and still readable: in API reads, never at rest
	hidden   []string // values of deleted secrets and of refused writes: nowhere at all
	creds    []string // client secrets, access tokens, passwords (right and wrong): never at rest, never logged
	canaries []string // stored in clear by design (secret names, project name): must be in every dump
	reads    string   // every API read answer of the scenario
}

// axEncodings returns the forms a leaked string could take at rest.
func axEncodings(s string) []string {
	b := []byte(s)
	return []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}
}

// axTokenParts returns a token and, for a JWT, its signature (in case only that were kept).
func axTokenParts(tok string) []string {
	out := []string{tok}
	if parts := strings.Split(tok, "."); len(parts) == 3 && len(parts[2]) >= 20 {
		out = append(out, parts[2])
	}
	return out
}

// axScenario runs a full scenario on a node: secrets written every way (single and batch, v3
// and v4, create, update, upsert, rollback, in a folder, in another environment, with
// references), credentials made and used, and failures (wrong secrets and passwords, refused
// writes whose values carry planted strings).
func axScenario(t *testing.T, n *servertest.Node, admin *servertest.Admin) *axPlanted {
	t.Helper()
	pl := &axPlanted{}
	val := func(kind string) string {
		v := "sv" + kind + axRandHex(16)
		pl.stored = append(pl.stored, v)
		return v
	}
	hide := func(kind string) string {
		v := "hv" + kind + axRandHex(16)
		pl.hidden = append(pl.hidden, v)
		return v
	}
	projectName := "vault-" + axRandHex(6)
	p := n.NewProject(t, admin, projectName, coffer.RoleMember)
	pl.creds = append(pl.creds, admin.Password, p.ClientSecret)
	pl.creds = append(pl.creds, axTokenParts(admin.Token)...)
	pl.creds = append(pl.creds, axTokenParts(p.Token)...)
	canaryKey := "CANARY_" + strings.ToUpper(axRandHex(6))
	pl.canaries = append(pl.canaries, canaryKey, projectName)
	tok := p.Token
	v4 := func(extra map[string]any) map[string]any {
		m := map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	v3 := func(extra map[string]any) map[string]any {
		m := map[string]any{"workspaceId": p.ID, "environment": "dev", "secretPath": "/", "type": "shared"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	do := func(method, path string, body any) {
		t.Helper()
		n.MustDo(t, method, path, tok, body)
	}

	// Creates.
	do(http.MethodPost, "/api/v4/secrets/SINGLE4", v4(map[string]any{"secretValue": val("c4"), "secretComment": val("cc4")}))
	do(http.MethodPost, "/api/v3/secrets/raw/SINGLE3", v3(map[string]any{"secretValue": val("c3"), "secretComment": val("cc3")}))
	do(http.MethodPost, "/api/v4/secrets/batch", v4(map[string]any{"secrets": []map[string]any{
		{"secretKey": canaryKey, "secretValue": val("canary")},
		{"secretKey": "B4A", "secretValue": val("b4a") + "\nsecond line ünïcødé \"quoted\"", "secretComment": val("b4ac")},
		{"secretKey": "B4B", "secretValue": val("b4b")},
	}}))
	do(http.MethodPost, "/api/v3/secrets/batch/raw", v3(map[string]any{"secrets": []map[string]any{
		{"secretKey": "B3A", "secretValue": val("b3a"), "secretComment": val("b3ac")},
		{"secretKey": "B3B", "secretValue": hide("b3b-deleted"), "secretComment": hide("b3bc-deleted")},
	}}))
	// Updates, so that versions hold several values.
	do(http.MethodPatch, "/api/v4/secrets/SINGLE4", v4(map[string]any{"secretValue": val("u4"), "secretComment": val("uc4")}))
	do(http.MethodPatch, "/api/v3/secrets/raw/SINGLE3", v3(map[string]any{"secretValue": val("u3")}))
	do(http.MethodPatch, "/api/v4/secrets/batch", v4(map[string]any{"secrets": []map[string]any{
		{"secretKey": "B4A", "secretValue": val("bu4a")},
		{"secretKey": "B4B", "secretValue": val("bu4b"), "secretComment": val("bu4bc")},
	}}))
	do(http.MethodPatch, "/api/v3/secrets/batch/raw", v3(map[string]any{"mode": "upsert", "secrets": []map[string]any{
		{"secretKey": "B3A", "secretValue": val("bu3a")},
		{"secretKey": "UPSERTED", "secretValue": val("ups"), "secretComment": val("upsc")},
	}}))
	// Rollback: a new version with the first version's value and comment.
	do(http.MethodPost, "/api/v4/secrets/SINGLE4/rollback", v4(map[string]any{"version": 1}))
	// A folder, another environment, a reference.
	do(http.MethodPost, "/api/v1/folders", map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/", "name": "nested"})
	do(http.MethodPost, "/api/v4/secrets/IN_FOLDER", map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/nested",
		"secretValue": val("fold"), "secretComment": val("foldc")})
	do(http.MethodPost, "/api/v4/secrets/STAGED", map[string]any{"projectId": p.ID, "environment": "staging", "secretValue": val("stg")})
	do(http.MethodPost, "/api/v4/secrets/REF", v4(map[string]any{"secretValue": "${SINGLE3}-" + val("ref") + "-${dev.nested.IN_FOLDER}"}))
	// A delete: its values must be gone too.
	do(http.MethodDelete, "/api/v3/secrets/raw/B3B", v3(nil))

	// Credentials: a new client secret, logins, a renewal.
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	n.MustDo(t, http.MethodPost, axUAPath+p.IdentityID+"/client-secrets", admin.Token, map[string]any{"description": "scenario"}).JSON(t, &cs)
	pl.creds = append(pl.creds, cs.ClientSecret)
	login := axMustLogin(t, n, p.ClientID, cs.ClientSecret)
	pl.creds = append(pl.creds, axTokenParts(login.AccessToken)...)
	n.MustDo(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": login.AccessToken})
	userTok := axDecode[axToken](t, n.MustDo(t, http.MethodPost, "/api/v1/auth/password/login", "",
		map[string]any{"email": admin.Email, "password": admin.Password})).AccessToken
	pl.creds = append(pl.creds, axTokenParts(userTok)...)

	// Failures: wrong client secrets, wrong password, refused writes carrying planted values.
	wrong := axRandHex(32)
	pl.creds = append(pl.creds, wrong)
	axWantErr(t, axLogin(t, n, p.ClientID, wrong), http.StatusUnauthorized, "wrong client secret")
	wrong2 := "wrong-" + axRandHex(20)
	pl.creds = append(pl.creds, wrong2)
	axWantErr(t, axLogin(t, n, store.NewID(), wrong2), http.StatusUnauthorized, "unknown client id")
	wrongPassword := "wrong password " + axRandHex(12)
	pl.creds = append(pl.creds, wrongPassword)
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": wrongPassword}),
		http.StatusUnauthorized, "wrong password")
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v1/auth/token/renew", "", map[string]any{"accessToken": "not." + wrong2 + ".token"}),
		http.StatusUnauthorized, "renew garbage")
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v4/secrets/batch", tok, v4(map[string]any{"secrets": []map[string]any{
		{"secretKey": "CYCLE_A", "secretValue": hide("cyc-a") + "${CYCLE_B}"},
		{"secretKey": "CYCLE_B", "secretValue": hide("cyc-b") + "${CYCLE_A}"},
	}})), http.StatusBadRequest, "cycle")
	axWantErr(t, n.Do(t, http.MethodPatch, "/api/v4/secrets/SINGLE4", tok, v4(map[string]any{"secretValue": hide("missing-ref") + "${NOT_THERE}"})),
		http.StatusBadRequest, "missing reference")
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v4/secrets/bad%20key", tok, v4(map[string]any{"secretValue": hide("bad-key")})),
		http.StatusUnprocessableEntity, "bad key")
	axWantErr(t, n.Do(t, http.MethodPatch, "/api/v3/secrets/raw/NO_SUCH", tok, v3(map[string]any{"secretValue": hide("no-such")})),
		http.StatusNotFound, "update a missing secret")
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v4/secrets/SINGLE4", tok, v4(map[string]any{"secretValue": hide("exists")})),
		http.StatusBadRequest, "create an existing secret")
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v4/secrets/TRUNCATED", tok,
		`{"projectId":"`+p.ID+`","environment":"dev","secretValue":"`+hide("truncated")), http.StatusBadRequest, "malformed JSON")
	viewerID, _, _, viewerTok := n.NewIdentity(t, admin, "scenario-viewer", coffer.RoleNoAccess)
	axSetMembership(t, n, admin.Token, p.ID, viewerID, coffer.RoleViewer)
	pl.creds = append(pl.creds, axTokenParts(viewerTok)...)
	axWantErr(t, n.Do(t, http.MethodPost, "/api/v4/secrets/BY_VIEWER", viewerTok, v4(map[string]any{"secretValue": hide("viewer")})),
		http.StatusForbidden, "viewer write")

	// Reads: every value that is still stored must come back through the API.
	var reads strings.Builder
	read := func(path string) {
		t.Helper()
		reads.Write(n.MustDo(t, http.MethodGet, path, tok, nil).Body)
	}
	q4 := "projectId=" + p.ID + "&environment=dev"
	read("/api/v4/secrets?" + q4 + "&recursive=true&expandSecretReferences=true")
	read("/api/v3/secrets/raw?workspaceId=" + p.ID + "&environment=dev&secretPath=/nested")
	read("/api/v4/secrets?projectId=" + p.ID + "&environment=staging")
	for _, k := range []string{"SINGLE4", "SINGLE3", "B4A", "B4B", "B3A", "UPSERTED", "REF", canaryKey} {
		read("/api/v4/secrets/" + k + "/versions?" + q4)
	}
	read("/api/v4/secrets/IN_FOLDER/versions?" + q4 + "&secretPath=/nested")
	pl.reads = reads.String()
	for _, v := range pl.stored {
		if !strings.Contains(pl.reads, v) {
			t.Errorf("planted value %s is not in the API reads: the scenario did not store it", v)
		}
	}
	for _, v := range pl.hidden {
		if strings.Contains(pl.reads, v) {
			t.Errorf("value %s of a deleted secret or a refused write is readable", v)
		}
	}
	if !strings.Contains(pl.reads, canaryKey) {
		t.Errorf("the canary key is not in the API reads")
	}
	return pl
}

// axDumpTables returns every row of every table of the node's database as text (SQLite: blobs
// as their raw bytes; PostgreSQL: each row cast to text, bytea as \x hex).
func axDumpTables(t *testing.T, n *servertest.Node) string {
	t.Helper()
	db := axOpenDB(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var list string
	switch n.Dialect {
	case store.SQLite:
		list = "SELECT name FROM sqlite_master WHERE type = 'table'"
	case store.Postgres:
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
	}
	var tables []string
	rows, err := db.QueryContext(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(tables)
	for _, want := range []string{"secrets", "secret_versions", "identity_client_secrets", "access_tokens", "users"} {
		if !slices.Contains(tables, want) {
			t.Fatalf("table %s not found among %v", want, tables)
		}
	}
	var b strings.Builder
	for _, table := range tables {
		fmt.Fprintf(&b, "\n-- %s\n", table)
		query := `SELECT * FROM "` + table + `"`
		if n.Dialect == store.Postgres {
			query = `SELECT t::text FROM "` + table + `" AS t`
		}
		axDumpRows(t, ctx, db, query, &b)
	}
	return b.String()
}

func axDumpRows(t *testing.T, ctx context.Context, db *sql.DB, query string, b *strings.Builder) {
	t.Helper()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				b.Write(v)
			case nil:
				b.WriteString("NULL")
			default:
				fmt.Fprint(b, v)
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// axPgDump runs pg_dump --data-only --inserts on the node's database; ok is false when
// pg_dump cannot be found or run (the table dump still covers the database then).
func axPgDump(t *testing.T, n *servertest.Node) (dump string, ok bool) {
	t.Helper()
	var bins []string
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump"); len(m) > 0 {
		sort.Strings(m)
		bins = append(bins, m[len(m)-1])
	}
	if p, err := exec.LookPath("pg_dump"); err == nil {
		bins = append(bins, p)
	}
	if len(bins) == 0 {
		t.Logf("pg_dump not found (in /usr/lib/postgresql/*/bin or PATH): relying on the table dump")
		return "", false
	}
	for _, bin := range bins {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, bin, "--data-only", "--inserts", "--no-owner", "--dbname="+n.DSN).Output()
		cancel()
		if err == nil {
			return string(out), true
		}
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Logf("%s failed: %s", bin, msg)
	}
	return "", false
}

// axSQLiteFiles returns the raw bytes of the SQLite database file and its WAL.
func axSQLiteFiles(t *testing.T, n *servertest.Node) []byte {
	t.Helper()
	var out []byte
	for _, f := range []string{n.DSN, n.DSN + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) && f != n.DSN {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// axNoLeak reports every forbidden string (in any of its encodings) found in text.
func axNoLeak(t *testing.T, where, text string, forbidden ...[]string) {
	t.Helper()
	for _, list := range forbidden {
		for _, s := range list {
			for _, enc := range axEncodings(s) {
				if strings.Contains(text, enc) {
					i := strings.Index(text, enc)
					lo, hi := max(0, i-80), min(len(text), i+len(enc)+80)
					t.Errorf("%s contains %q (as %q): …%q…", where, s, enc, text[lo:hi])
					break
				}
			}
		}
	}
}

func axHasCanaries(t *testing.T, where, text string, canaries []string) {
	t.Helper()
	for _, c := range canaries {
		if !strings.Contains(text, c) {
			t.Errorf("%s does not contain the canary %q: the dump does not see the data", where, c)
		}
	}
}

func TestE2ESecurityNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		pl := axScenario(t, n, admin)

		dump := axDumpTables(t, n)
		axHasCanaries(t, "table dump", dump, pl.canaries)
		axNoLeak(t, "table dump", dump, pl.stored, pl.hidden, pl.creds)

		switch dialect {
		case store.Postgres:
			if pg, ok := axPgDump(t, n); ok {
				axHasCanaries(t, "pg_dump", pg, pl.canaries)
				axNoLeak(t, "pg_dump", pg, pl.stored, pl.hidden, pl.creds)
			}
		case store.SQLite:
			raw := string(axSQLiteFiles(t, n))
			axHasCanaries(t, "SQLite files", raw, pl.canaries)
			axNoLeak(t, "SQLite files", raw, pl.stored, pl.hidden, pl.creds)
		}
	})
}

func TestE2ESecurityNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		pl := axScenario(t, n, admin)
		logs := n.Logs()
		// The logs saw the scenario, failures included.
		for _, want := range []string{`"path":"/api/v4/secrets/batch"`, `"path":"/api/v1/auth/universal-auth/login"`,
			`"status":401`, `"status":400`, `"status":403`, `"status":422`} {
			if !strings.Contains(logs, want) {
				t.Errorf("the logs have no %s: the scan would not see the scenario", want)
			}
		}
		axNoLeak(t, "logs", logs, pl.stored, pl.hidden, pl.creds)
	})
}

func TestE2ESecurityErrorsDoNotEchoValues(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		p := n.NewProject(t, admin, "echo", coffer.RoleMember)
		viewerID, _, _, viewerTok := n.NewIdentity(t, admin, "echo-viewer", coffer.RoleNoAccess)
		axSetMembership(t, n, admin.Token, p.ID, viewerID, coffer.RoleViewer)
		body := func(extra map[string]any) map[string]any {
			m := map[string]any{"projectId": p.ID, "environment": "dev"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/EXISTING", p.Token, body(map[string]any{"secretValue": "plain"}))
		var markers []string
		mark := func() string {
			m := "MARK" + axRandHex(12)
			markers = append(markers, m)
			return m
		}
		for _, c := range []struct {
			name   string
			method string
			path   string
			token  string
			body   any
			status []int
			names  string // what the message must name, if anything
		}{
			{"missing reference", "POST", "/api/v4/secrets/E1", p.Token, body(map[string]any{"secretValue": mark() + " ${NOPE_KEY} " + mark()}), []int{400}, "NOPE_KEY"},
			{"missing reference in comment-bearing write", "POST", "/api/v3/secrets/raw/E2", p.Token,
				map[string]any{"workspaceId": p.ID, "environment": "dev", "secretValue": "${staging.deep.NOPE} " + mark(), "secretComment": mark()}, []int{400}, "NOPE"},
			{"missing environment in reference", "POST", "/api/v4/secrets/E3", p.Token, body(map[string]any{"secretValue": mark() + "${nowhere.KEY}"}), []int{400}, "nowhere"},
			{"cycle", "POST", "/api/v4/secrets/batch", p.Token, body(map[string]any{"secrets": []map[string]any{
				{"secretKey": "CA", "secretValue": mark() + "${CB}"}, {"secretKey": "CB", "secretValue": mark() + "${CA}"}}}), []int{400}, ""},
			{"self reference", "POST", "/api/v4/secrets/SELF", p.Token, body(map[string]any{"secretValue": mark() + "${SELF}"}), []int{400}, ""},
			{"update to a missing reference", "PATCH", "/api/v4/secrets/EXISTING", p.Token, body(map[string]any{"secretValue": mark() + "${GONE}"}), []int{400}, "GONE"},
			{"bad key", "POST", "/api/v4/secrets/bad%20key", p.Token, body(map[string]any{"secretValue": mark()}), []int{422}, ""},
			{"duplicate key in batch", "POST", "/api/v4/secrets/batch", p.Token, body(map[string]any{"secrets": []map[string]any{
				{"secretKey": "DUP", "secretValue": mark()}, {"secretKey": "DUP", "secretValue": mark()}}}), []int{422}, "DUP"},
			{"existing key", "POST", "/api/v4/secrets/EXISTING", p.Token, body(map[string]any{"secretValue": mark()}), []int{400}, "EXISTING"},
			{"missing key", "PATCH", "/api/v4/secrets/NOT_HERE", p.Token, body(map[string]any{"secretValue": mark()}), []int{404}, "NOT_HERE"},
			{"value too large", "POST", "/api/v4/secrets/BIG", p.Token, body(map[string]any{"secretValue": mark() + strings.Repeat("x", coffer.MaxSecretValueBytes)}), []int{413, 422}, ""},
			{"comment too large", "POST", "/api/v4/secrets/BIGC", p.Token, body(map[string]any{"secretValue": "v", "secretComment": mark() + strings.Repeat("c", coffer.MaxSecretCommentLen)}), []int{422}, ""},
			{"wrong type next to a value", "POST", "/api/v4/secrets/TYPED", p.Token, body(map[string]any{"secretValue": mark(), "secretComment": 12}), []int{422}, "secretComment"},
			{"value of the wrong type", "POST", "/api/v4/secrets/TYPED2", p.Token, body(map[string]any{"secretValue": []string{mark()}}), []int{422}, "secretValue"},
			{"malformed JSON", "POST", "/api/v4/secrets/BROKEN", p.Token, `{"projectId":"` + p.ID + `","environment":"dev","secretValue":"` + mark(), []int{400}, ""},
			{"trailing data", "POST", "/api/v4/secrets/TRAIL", p.Token, `{"projectId":"` + p.ID + `","environment":"dev","secretValue":"v"} "` + mark() + `"`, []int{400}, ""},
			{"unknown environment", "POST", "/api/v4/secrets/ENV", p.Token, map[string]any{"projectId": p.ID, "environment": "nope", "secretValue": mark()}, []int{404}, "nope"},
			{"viewer write", "POST", "/api/v4/secrets/VIEW", viewerTok, body(map[string]any{"secretValue": mark()}), []int{403}, ""},
			{"anonymous write", "POST", "/api/v4/secrets/ANON", "", body(map[string]any{"secretValue": mark()}), []int{401}, ""},
			{"bad rollback", "POST", "/api/v4/secrets/EXISTING/rollback", p.Token, body(map[string]any{"version": 99, "secretValue": mark()}), []int{400, 404}, ""},
		} {
			r := n.Do(t, c.method, c.path, c.token, c.body)
			status := c.status[0]
			for _, s := range c.status {
				if r.Status == s {
					status = s
				}
			}
			msg := axWantErr(t, r, status, c.name)
			if c.names != "" && msg != "" && !strings.Contains(msg, c.names) {
				t.Errorf("%s: message %q does not name %s", c.name, msg, c.names)
			}
			for _, m := range markers {
				if strings.Contains(string(r.Body), m) {
					t.Errorf("%s: the error body echoes a value: %s", c.name, r.Body)
				}
			}
		}
		// Nothing of it was stored or logged, and the secret that was there is unchanged.
		list := n.MustDo(t, http.MethodGet, "/api/v4/secrets?projectId="+p.ID+"&environment=dev", p.Token, nil)
		if got := axDecode[struct {
			Secrets []struct {
				Key   string `json:"secretKey"`
				Value string `json:"secretValue"`
			} `json:"secrets"`
		}](t, list).Secrets; len(got) != 1 || got[0].Key != "EXISTING" || got[0].Value != "plain" {
			t.Errorf("secrets after the refused writes: %s", list.Body)
		}
		axNoLeak(t, "logs", n.Logs(), markers)
	})
}
