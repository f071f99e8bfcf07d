package compat_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// nodeList is what the Node SDK's listSecrets returns: the server's answer as it is.
type nodeList struct {
	Secrets []secret `json:"secrets"`
	Imports []struct {
		SecretPath  string   `json:"secretPath"`
		Environment string   `json:"environment"`
		FolderID    string   `json:"folderId"`
		Secrets     []secret `json:"secrets"`
	} `json:"imports"`
}

// TestNodeSDK drives @infisical/sdk (5.0.2, pure TypeScript over fetch): universal-auth login,
// listSecrets (which expands references unless told not to, and returns the server's secrets
// and imports as they are), listSecretsWithImports (which merges like the Go SDK: own secrets,
// then imports in order, the first one holding a key winning), getSecret,
// createSecret/updateSecret (with a rename)/deleteSecret, and folders.
func TestNodeSDK(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		script, err := nodeSDKDriver()
		requireClient(t, err, envTrue("CI"))
		f := start(t, dialect)
		sdk := startDriver(t, "node-sdk", exec.Command("node", script))
		sdk.must(t, "new", map[string]any{"siteUrl": f.URL}, nil)
		var login struct{ AccessToken string }
		if err := json.Unmarshal(f.login(t, sdk), &login); err != nil || login.AccessToken == "" {
			t.Fatalf("universalAuth.login left no access token (%v)", err)
		}
		dev := map[string]any{"projectId": f.proj.ID, "environment": "dev"}
		expandedRoot := map[string]string{
			"API_KEY": "abc123", "DB_HOST": "db.internal", "DB_URL": "postgres://db.internal:5432/app",
			"MULTILINE": multiline, "TRICKY": tricky, "OVERRIDDEN": "from dev", "CROSS": "from prod",
			"CHAIN": "postgres://db.internal:5432/app?sslmode=disable",
		}

		f.run(t, "listSecrets", func(t *testing.T) {
			var l nodeList
			sdk.must(t, "listSecrets", dev, &l)
			if d := diffMaps(values(l.Secrets), expandedRoot); d != "" {
				t.Errorf("default (references expanded):%s", d)
			}
			if len(l.Imports) != 0 {
				t.Errorf("imports without include_imports: %+v", l.Imports)
			}
			for _, s := range l.Secrets {
				if s.ID == "" || s.Workspace != f.proj.ID || s.Environment != "dev" || s.Type != "shared" || s.Version != 1 || s.SecretPath != "/" {
					t.Errorf("secret %+v", s)
				}
			}

			sdk.must(t, "listSecrets", with(dev, "expandSecretReferences", false), &l)
			if d := diffMaps(values(l.Secrets), f.held(t, "dev", "/")); d != "" {
				t.Errorf("unexpanded, differs from what the API holds:%s", d)
			}

			sdk.must(t, "listSecrets", with(dev, "includeImports", true), &l)
			if d := diffMaps(values(l.Secrets), expandedRoot); d != "" {
				t.Errorf("with imports, own secrets:%s", d)
			}
			type imp struct{ env, path string }
			var got []imp
			for _, im := range l.Imports {
				got = append(got, imp{im.Environment, im.SecretPath})
			}
			if want := []imp{{"prod", "/shared"}, {"staging", "/"}}; !slices.Equal(got, want) {
				t.Fatalf("imports %v, want %v in that order", got, want)
			}
			if d := diffMaps(values(l.Imports[0].Secrets), map[string]string{"PROD_ONLY": "from prod", "OVERRIDDEN": "from prod", "IMPORT_CLASH": "prod, the first import"}); d != "" {
				t.Errorf("secrets of the import of prod:/shared:%s", d)
			}
			if d := diffMaps(values(l.Imports[1].Secrets), map[string]string{"STAGING_ONLY": "from staging", "OVERRIDDEN": "from staging", "IMPORT_CLASH": "staging, the second import"}); d != "" {
				t.Errorf("secrets of the import of staging:/:%s", d)
			}

			sdk.must(t, "listSecrets", with(dev, "recursive", true), &l)
			want := map[string]string{"APP_PORT": "/app", "APP_DB": "/app"}
			for k := range expandedRoot {
				want[k] = "/"
			}
			paths := map[string]string{}
			for _, s := range l.Secrets {
				paths[s.SecretKey] = s.SecretPath
			}
			if d := diffMaps(paths, want); d != "" {
				t.Errorf("recursive: secretPath by key:%s", d)
			}
			if got := values(l.Secrets)["APP_DB"]; got != "db.internal:8080" {
				t.Errorf("recursive: APP_DB = %q", got)
			}
		})

		f.run(t, "listSecretsWithImports", func(t *testing.T) {
			var ss []secret
			sdk.must(t, "listSecretsWithImports", dev, &ss)
			want := map[string]string{"PROD_ONLY": "from prod", "IMPORT_CLASH": "prod, the first import", "STAGING_ONLY": "from staging"}
			for k, v := range expandedRoot {
				want[k] = v
			}
			if d := diffMaps(values(ss), want); d != "" {
				t.Errorf("merged:%s", d)
			}
		})

		f.run(t, "getSecret", func(t *testing.T) {
			var s secret
			sdk.must(t, "getSecret", with(dev, "secretName", "DB_URL"), &s)
			if s.SecretKey != "DB_URL" || s.SecretValue != "postgres://db.internal:5432/app" || s.SecretPath != "/" || s.Workspace != f.proj.ID {
				t.Errorf("DB_URL: %+v", s)
			}
			sdk.must(t, "getSecret", with(dev, "secretName", "DB_URL", "expandSecretReferences", false), &s)
			if s.SecretValue != "postgres://${DB_HOST}:5432/app" {
				t.Errorf("DB_URL unexpanded: %q", s.SecretValue)
			}
			sdk.must(t, "getSecret", with(dev, "secretName", "APP_DB", "secretPath", "/app"), &s)
			if s.SecretValue != "db.internal:8080" || s.SecretPath != "/app" {
				t.Errorf("/app APP_DB: %+v", s)
			}
			sdk.mustFail(t, "getSecret", with(dev, "secretName", "NOPE"), 404)
		})

		f.run(t, "create, update, delete", func(t *testing.T) {
			var res struct{ Secret secret }
			sdk.must(t, "createSecret", with(dev, "secretName", "NODE_KEY", "secretValue", "two\nlines", "secretComment", "made by the Node SDK"), &res)
			if s := res.Secret; s.SecretKey != "NODE_KEY" || s.SecretValue != "two\nlines" || s.SecretComment != "made by the Node SDK" || s.Version != 1 || s.Type != "shared" {
				t.Errorf("create answered %+v", s)
			}
			if got := f.held(t, "dev", "/")["NODE_KEY"]; got != "two\nlines" {
				t.Errorf("after create the API holds NODE_KEY=%q", got)
			}
			sdk.mustFail(t, "createSecret", with(dev, "secretName", "NODE_KEY", "secretValue", "again"), 400)

			sdk.must(t, "updateSecret", with(dev, "secretName", "NODE_KEY", "secretValue", "${API_KEY}"), &res)
			if s := res.Secret; s.SecretKey != "NODE_KEY" || s.SecretValue != "${API_KEY}" || s.Version != 2 {
				t.Errorf("update answered %+v", s)
			}
			sdk.must(t, "updateSecret", with(dev, "secretName", "NODE_KEY", "newSecretName", "NODE_KEY_RENAMED"), &res)
			held := f.held(t, "dev", "/")
			if _, ok := held["NODE_KEY"]; ok || held["NODE_KEY_RENAMED"] != "${API_KEY}" {
				t.Errorf("after the rename the API holds NODE_KEY=%q NODE_KEY_RENAMED=%q", held["NODE_KEY"], held["NODE_KEY_RENAMED"])
			}
			var s secret
			sdk.must(t, "getSecret", with(dev, "secretName", "NODE_KEY_RENAMED"), &s)
			if s.SecretValue != "abc123" {
				t.Errorf("NODE_KEY_RENAMED expanded = %q", s.SecretValue)
			}
			sdk.mustFail(t, "updateSecret", with(dev, "secretName", "NODE_KEY", "secretValue", "x"), 404)

			sdk.must(t, "deleteSecret", with(dev, "secretName", "NODE_KEY_RENAMED"), &res)
			if res.Secret.SecretKey != "NODE_KEY_RENAMED" {
				t.Errorf("delete answered %+v", res.Secret)
			}
			if _, ok := f.held(t, "dev", "/")["NODE_KEY_RENAMED"]; ok {
				t.Errorf("NODE_KEY_RENAMED still held after delete")
			}
			sdk.mustFail(t, "deleteSecret", with(dev, "secretName", "NODE_KEY_RENAMED"), 404)
		})

		// Coffer answers a listing of a missing folder with a 404 naming it (Infisical: an empty
		// list; see README, "API"); the SDK must surface it.
		f.run(t, "listSecrets of a missing folder is a 404 naming it", func(t *testing.T) {
			e := sdk.mustFail(t, "listSecrets", with(dev, "secretPath", "/no/such/folder", "includeImports", true), 404)
			if !strings.Contains(e.Message, "/no/such/folder") {
				t.Errorf("the SDK's error does not name the folder: %q", e.Message)
			}
		})

		f.run(t, "universalAuth.renew", func(t *testing.T) {
			var res struct{ AccessToken string }
			sdk.must(t, "renew", nil, &res)
			if res.AccessToken == "" {
				t.Fatal("no access token")
			}
			var s secret
			sdk.must(t, "getSecret", with(dev, "secretName", "API_KEY"), &s)
		})

		f.run(t, "folders", func(t *testing.T) {
			var fo folder
			sdk.must(t, "createFolder", with(dev, "name", "nodef", "path", "/"), &fo)
			if fo.Name != "nodef" || fo.ID == "" {
				t.Errorf("create answered %+v", fo)
			}
			var fs []folder
			sdk.must(t, "listFolders", with(dev, "path", "/"), &fs)
			if got := folderNames(fs); !slices.Equal(got, []string{"app", "nodef"}) {
				t.Errorf("folders of /: %v", got)
			}
			if got := f.folderNames(t, "dev", "/"); !slices.Equal(got, []string{"app", "nodef"}) {
				t.Errorf("the API holds folders %v", got)
			}
		})
		t.Logf("requests the Node SDK sent, by User-Agent: %v", f.rec.userAgents())
	})
}
