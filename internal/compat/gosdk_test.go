package compat_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// secret is a secret as the SDKs return it: the Go SDK's models.Secret, and the Node SDK's
// pass-through of the wire shape, agree on these fields.
type secret struct {
	ID            string `json:"id"`
	Workspace     string `json:"workspace"`
	Environment   string `json:"environment"`
	Version       int    `json:"version"`
	Type          string `json:"type"`
	SecretKey     string `json:"secretKey"`
	SecretValue   string `json:"secretValue"`
	SecretComment string `json:"secretComment"`
	SecretPath    string `json:"secretPath"`
}

// goList is the Go SDK's ListSecretsResult.
type goList struct {
	Secrets []secret
	ETag    string
}

func (l goList) values() map[string]string { return values(l.Secrets) }

// values returns the secrets' values by key.
func values(ss []secret) map[string]string {
	m := map[string]string{}
	for _, s := range ss {
		m[s.SecretKey] = s.SecretValue
	}
	return m
}

type folder struct {
	ID, Name string
}

// TestGoSDK drives github.com/infisical/go-sdk (v0.8.0): universal-auth login, listing with
// imports, reference expansion and recursion, one-secret reads, writes, batch create,
// folders, ETags and token revocation. The SDK lists through GET /api/v3/secrets/raw and merges
// imports itself: the folder's own secrets first, then each import in the order the server
// lists them, a key that is already there being kept (so the first import wins), and sorts by
// key.
func TestGoSDK(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		bin, err := goSDKDriver()
		requireClient(t, err, envTrue("CI"))
		f := start(t, dialect)
		sdk := startDriver(t, "go-sdk", exec.Command(bin))
		sdk.must(t, "new", map[string]any{"siteUrl": f.URL}, nil)

		var cred struct {
			AccessToken       string `json:"accessToken"`
			ExpiresIn         int    `json:"expiresIn"`
			AccessTokenMaxTTL int    `json:"accessTokenMaxTTL"`
			TokenType         string `json:"tokenType"`
		}
		if err := json.Unmarshal(f.login(t, sdk), &cred); err != nil || cred.AccessToken == "" || cred.TokenType != "Bearer" || cred.ExpiresIn <= 0 || cred.AccessTokenMaxTTL <= 0 {
			t.Fatalf("login answered %+v (%v)", cred, err)
		}
		dev := map[string]any{"projectId": f.proj.ID, "environment": "dev"}

		f.run(t, "ListSecrets", func(t *testing.T) {
			var l goList
			sdk.must(t, "listSecrets", with(dev, "includeImports", true, "expandSecretReferences", true), &l)
			want := map[string]string{
				"API_KEY": "abc123", "DB_HOST": "db.internal", "DB_URL": "postgres://db.internal:5432/app",
				"MULTILINE": multiline, "TRICKY": tricky, "OVERRIDDEN": "from dev", "CROSS": "from prod",
				"CHAIN":     "postgres://db.internal:5432/app?sslmode=disable",
				"PROD_ONLY": "from prod", "IMPORT_CLASH": "prod, the first import", "STAGING_ONLY": "from staging",
			}
			if d := diffMaps(l.values(), want); d != "" {
				t.Errorf("with imports and references expanded:%s", d)
			}
			if !slices.IsSortedFunc(l.Secrets, func(a, b secret) int { return strings.Compare(a.SecretKey, b.SecretKey) }) {
				t.Errorf("not sorted by key: %v", keys(l.Secrets))
			}
			for _, s := range l.Secrets {
				wantEnv := map[string]string{"PROD_ONLY": "prod", "IMPORT_CLASH": "prod", "STAGING_ONLY": "staging"}[s.SecretKey]
				if wantEnv == "" {
					wantEnv = "dev"
				}
				if s.ID == "" || s.Version != 1 || s.Type != "shared" || s.Environment != wantEnv {
					t.Errorf("secret %+v: want an id, version 1, type shared, environment %s", s, wantEnv)
				}
				if wantEnv == "dev" && (s.Workspace != f.proj.ID || s.SecretPath != "/") {
					t.Errorf("secret %+v: want workspace %s, secretPath /", s, f.proj.ID)
				}
			}
			if l.ETag == "" {
				t.Errorf("no ETag header")
			}

			sdk.must(t, "listSecrets", dev, &l)
			if d := diffMaps(l.values(), f.held(t, "dev", "/")); d != "" {
				t.Errorf("raw, without imports, differs from what the API holds:%s", d)
			}
			if got := l.values()["DB_URL"]; got != "postgres://${DB_HOST}:5432/app" {
				t.Errorf("raw DB_URL = %q", got)
			}

			sdk.must(t, "listSecrets", with(dev, "secretPath", "/app", "expandSecretReferences", true), &l)
			if d := diffMaps(l.values(), map[string]string{"APP_PORT": "8080", "APP_DB": "db.internal:8080"}); d != "" {
				t.Errorf("folder /app:%s", d)
			}

			sdk.must(t, "listSecrets", with(dev, "recursive", true, "expandSecretReferences", true), &l)
			paths := map[string]string{}
			for _, s := range l.Secrets {
				paths[s.SecretKey] = s.SecretPath
			}
			wantPaths := map[string]string{"APP_PORT": "/app", "APP_DB": "/app"}
			for k := range f.held(t, "dev", "/") {
				wantPaths[k] = "/"
			}
			if d := diffMaps(paths, wantPaths); d != "" {
				t.Errorf("recursive: secretPath by key:%s", d)
			}
			if got := l.values()["APP_DB"]; got != "db.internal:8080" {
				t.Errorf("recursive: APP_DB = %q", got)
			}
		})

		f.run(t, "ETag", func(t *testing.T) {
			var l goList
			sdk.must(t, "listSecrets", dev, &l)
			sdk.mustFail(t, "listSecrets", with(dev, "ifNoneMatch", l.ETag), 304)
			f.api(t, "PATCH", "/api/v3/secrets/raw/API_KEY", with(nil, "workspaceId", f.proj.ID, "environment", "dev", "secretValue", "abc123, rotated"))
			var after goList
			sdk.must(t, "listSecrets", with(dev, "ifNoneMatch", l.ETag), &after)
			if after.ETag == "" || after.ETag == l.ETag {
				t.Errorf("after a write: ETag %q, before %q", after.ETag, l.ETag)
			}
		})

		f.run(t, "Retrieve", func(t *testing.T) {
			var s secret
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "DB_URL", "expandSecretReferences", true), &s)
			if s.SecretValue != "postgres://db.internal:5432/app" || s.SecretKey != "DB_URL" || s.Type != "shared" || s.Workspace != f.proj.ID || s.SecretPath != "/" {
				t.Errorf("DB_URL expanded: %+v", s)
			}
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "DB_URL"), &s)
			if s.SecretValue != "postgres://${DB_HOST}:5432/app" {
				t.Errorf("DB_URL raw: %q", s.SecretValue)
			}
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "MULTILINE"), &s)
			if s.SecretValue != multiline {
				t.Errorf("MULTILINE: %q", s.SecretValue)
			}
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "APP_DB", "secretPath", "/app", "expandSecretReferences", true), &s)
			if s.SecretValue != "db.internal:8080" || s.SecretPath != "/app" {
				t.Errorf("/app APP_DB: %+v", s)
			}
			// A key only an import has: Infisical looks through the imports from the last to the
			// first, so the second import's value wins here.
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "IMPORT_CLASH", "includeImports", true), &s)
			if s.SecretValue != "staging, the second import" || s.Environment != "staging" {
				t.Errorf("IMPORT_CLASH through imports: %+v", s)
			}
			sdk.mustFail(t, "retrieveSecret", with(dev, "secretKey", "IMPORT_CLASH"), 404)
			sdk.mustFail(t, "retrieveSecret", with(dev, "secretKey", "NOPE"), 404)
		})

		f.run(t, "write", func(t *testing.T) {
			var s secret
			sdk.must(t, "createSecret", with(dev, "secretKey", "NEW_KEY", "secretValue", "hello\nworld", "secretComment", "made by the Go SDK"), &s)
			if s.SecretKey != "NEW_KEY" || s.SecretValue != "hello\nworld" || s.Version != 1 || s.Type != "shared" || s.ID == "" {
				t.Errorf("create answered %+v", s)
			}
			if got := f.held(t, "dev", "/")["NEW_KEY"]; got != "hello\nworld" {
				t.Errorf("after create the API holds NEW_KEY=%q", got)
			}
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "NEW_KEY"), &s)
			if s.SecretComment != "made by the Go SDK" {
				t.Errorf("comment %q", s.SecretComment)
			}
			sdk.mustFail(t, "createSecret", with(dev, "secretKey", "NEW_KEY", "secretValue", "again"), 400)

			sdk.must(t, "updateSecret", with(dev, "secretKey", "NEW_KEY", "secretValue", "rotated"), &s)
			if s.SecretKey != "NEW_KEY" || s.SecretValue != "rotated" || s.Version != 2 {
				t.Errorf("update answered %+v", s)
			}
			if got := f.held(t, "dev", "/")["NEW_KEY"]; got != "rotated" {
				t.Errorf("after update the API holds NEW_KEY=%q", got)
			}
			sdk.mustFail(t, "updateSecret", with(dev, "secretKey", "MISSING", "secretValue", "x"), 404)
			sdk.must(t, "retrieveSecret", with(dev, "secretKey", "NEW_KEY", "version", 1), &s)
			if s.SecretValue != "hello\nworld" || s.Version != 1 {
				t.Errorf("version 1 of NEW_KEY: %+v", s)
			}

			sdk.must(t, "createSecret", with(dev, "secretKey", "IN_FOLDER", "secretPath", "/app", "secretValue", "${APP_PORT}"), &s)
			if got := f.held(t, "dev", "/app")["IN_FOLDER"]; got != "${APP_PORT}" {
				t.Errorf("after create in /app the API holds IN_FOLDER=%q", got)
			}
			// Infisical checks references when writing: a missing one is 400.
			sdk.mustFail(t, "createSecret", with(dev, "secretKey", "DANGLING", "secretValue", "${NOT_THERE}"), 400)

			sdk.must(t, "deleteSecret", with(dev, "secretKey", "NEW_KEY"), &s)
			if s.SecretKey != "NEW_KEY" {
				t.Errorf("delete answered %+v", s)
			}
			if _, ok := f.held(t, "dev", "/")["NEW_KEY"]; ok {
				t.Errorf("NEW_KEY still held after delete")
			}
			sdk.mustFail(t, "deleteSecret", with(dev, "secretKey", "NEW_KEY"), 404)
			sdk.must(t, "deleteSecret", with(dev, "secretKey", "IN_FOLDER", "secretPath", "/app"), &s)

			var batch []secret
			sdk.must(t, "batchCreateSecrets", with(dev, "secrets", []map[string]any{
				{"secretKey": "BATCH_A", "secretValue": "a"},
				{"secretKey": "BATCH_B", "secretValue": "b\nb", "secretComment": "second"},
			}), &batch)
			if len(batch) != 2 {
				t.Errorf("batch create answered %+v", batch)
			}
			held := f.held(t, "dev", "/")
			if held["BATCH_A"] != "a" || held["BATCH_B"] != "b\nb" {
				t.Errorf("after batch create the API holds BATCH_A=%q BATCH_B=%q", held["BATCH_A"], held["BATCH_B"])
			}
		})

		f.run(t, "folders", func(t *testing.T) {
			var fs []folder
			sdk.must(t, "listFolders", with(dev, "path", "/"), &fs)
			if got := folderNames(fs); !slices.Equal(got, []string{"app"}) {
				t.Errorf("folders of /: %v", got)
			}
			var fo folder
			sdk.must(t, "createFolder", with(dev, "path", "/", "name", "newf"), &fo)
			if fo.Name != "newf" || fo.ID == "" {
				t.Errorf("create answered %+v", fo)
			}
			if got := f.folderNames(t, "dev", "/"); !slices.Equal(got, []string{"app", "newf"}) {
				t.Errorf("after create the API holds folders %v", got)
			}
			sdk.must(t, "createFolder", with(dev, "path", "/newf", "name", "child"), nil)
			sdk.must(t, "listFolders", with(dev, "path", "/newf"), &fs)
			if got := folderNames(fs); !slices.Equal(got, []string{"child"}) {
				t.Errorf("folders of /newf: %v", got)
			}
			sdk.must(t, "updateFolder", with(dev, "path", "/", "folderId", fo.ID, "name", "renamed"), &fo)
			if fo.Name != "renamed" {
				t.Errorf("rename answered %+v", fo)
			}
			sdk.must(t, "deleteFolder", with(dev, "path", "/", "folderName", "renamed"), nil)
			sdk.must(t, "createFolder", with(dev, "path", "/", "name", "byid"), &fo)
			sdk.must(t, "deleteFolder", with(dev, "path", "/", "folderId", fo.ID), nil)
			// Creating a folder that exists answers it; deleting a folder deletes what it holds.
			var again folder
			sdk.must(t, "createFolder", with(dev, "path", "/", "name", "app"), &again)
			if again.Name != "app" {
				t.Errorf("create of the existing folder app answered %+v", again)
			}
			sdk.must(t, "createFolder", with(dev, "path", "/", "name", "full"), nil)
			sdk.must(t, "createSecret", with(dev, "secretPath", "/full", "secretKey", "INSIDE", "secretValue", "x"), nil)
			sdk.must(t, "deleteFolder", with(dev, "path", "/", "folderName", "full"), nil)
			if got := f.folderNames(t, "dev", "/"); !slices.Equal(got, []string{"app"}) {
				t.Errorf("after the deletes the API holds folders %v", got)
			}
		})

		// Where Coffer deliberately differs from Infisical (see README, "API"): a listing of a
		// folder that does not exist is a 404 naming it (Infisical: an empty list), and a
		// reference whose target is gone is a 400 naming it (Infisical leaves "${…}" in the
		// value). The SDK must surface both as errors with Coffer's message.
		f.run(t, "list of a missing folder is a 404 naming it", func(t *testing.T) {
			e := sdk.mustFail(t, "listSecrets", with(dev, "secretPath", "/no/such/folder", "includeImports", true, "expandSecretReferences", true), 404)
			if !strings.Contains(e.Message, "/no/such/folder") {
				t.Errorf("the SDK's error does not name the folder: %q", e.Message)
			}
		})
		f.run(t, "dangling reference when reading is a 400 naming it", func(t *testing.T) {
			scope := with(nil, "workspaceId", f.proj.ID, "environment", "staging", "secretPath", "/")
			f.api(t, "POST", "/api/v3/secrets/raw/TARGET", with(scope, "secretValue", "t"))
			f.api(t, "POST", "/api/v3/secrets/raw/POINTER", with(scope, "secretValue", "<${TARGET}>"))
			f.api(t, "DELETE", "/api/v3/secrets/raw/TARGET", scope)
			e := sdk.mustFail(t, "listSecrets", with(dev, "environment", "staging", "expandSecretReferences", true), 400)
			if !strings.Contains(e.Message, "${TARGET}") || !strings.Contains(e.Message, "POINTER") {
				t.Errorf("the SDK's error does not name the secret and its reference: %q", e.Message)
			}
			var l goList // without expansion the value is readable as stored
			sdk.must(t, "listSecrets", with(dev, "environment", "staging", "expandSecretReferences", false), &l)
			if got := l.values()["POINTER"]; got != "<${TARGET}>" {
				t.Errorf("POINTER = %q unexpanded", got)
			}
		})

		t.Logf("requests the Go SDK sent, by User-Agent: %v", f.rec.userAgents())
		f.run(t, "RevokeAccessToken", func(t *testing.T) {
			sdk.must(t, "revokeAccessToken", nil, nil)
			sdk.must(t, "new", map[string]any{"siteUrl": f.URL}, nil)
			res := f.node.Do(t, "GET", "/api/v3/secrets/raw?workspaceId="+f.proj.ID+"&environment=dev", cred.AccessToken, nil)
			if res.Status != 401 {
				t.Errorf("list with the revoked token: %d %s", res.Status, res.Body)
			}
		})
	})
}

func keys(ss []secret) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.SecretKey)
	}
	return out
}

func folderNames(fs []folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}
