package server_test

// End-to-end tests of the secret tree around the secrets: imports, folders and tags, on SQLite
// and PostgreSQL. Helpers live in e2e_secrets_test.go.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// esImport is a secret import as the API answers it.
type esImport struct {
	ID         string `json:"id"`
	ImportPath string `json:"importPath"`
	ImportEnv  *struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
		ID   string `json:"id"`
	} `json:"importEnv"`
	Position int    `json:"position"`
	FolderID string `json:"folderId"`
}

// esBlocks summarizes the imports of a listing as "env:path|K1=v1,K2=v2", in order.
func esBlocks(l esListing) []string {
	out := []string{}
	for _, b := range l.Imports {
		var keys []string
		for _, s := range b.Secrets {
			keys = append(keys, s.Key+"="+s.Value)
		}
		out = append(out, b.Environment+":"+b.SecretPath+"|"+strings.Join(keys, ","))
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// 5. Secret imports.

func TestE2ETreeImports(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		p.put(t, "dev", "/", "OWN", "own")
		p.put(t, "dev", "/", "SHARED", "from-dev")
		p.put(t, "staging", "/", "S1", "s1")
		p.put(t, "staging", "/", "SHARED", "from-staging")
		p.folder(t, "staging", "/", "lib")
		p.put(t, "staging", "/lib", "L1", "l1")
		p.put(t, "prod", "/", "P1", "p1")
		p.put(t, "prod", "/", "SHARED", "from-prod")
		p.importFrom(t, "staging", "/lib", "prod", "/") // a nested import, flattened after lib's own

		// Create: {message, secretImport} with importEnv {name, slug, id} and 1-based positions.
		create := func(srcEnv, srcPath string) esImport {
			var out struct {
				Message      *string   `json:"message"`
				SecretImport *esImport `json:"secretImport"`
			}
			p.ok(t, http.MethodPost, "/api/v1/secret-imports", esObj("workspaceId", p.id, "environment", "dev", "path", "/",
				"import", esObj("environment", srcEnv, "path", srcPath))).JSON(t, &out)
			if out.Message == nil || *out.Message == "" || out.SecretImport == nil || out.SecretImport.ImportEnv == nil {
				t.Fatalf("create import answered %+v", out)
			}
			return *out.SecretImport
		}
		first, second := create("staging", "/"), create("staging", "/lib/")
		if first.Position != 1 || second.Position != 2 || first.ImportPath != "/" || second.ImportPath != "/lib" {
			t.Errorf("positions/paths %+v %+v", first, second)
		}
		if env := first.ImportEnv; env.Slug != "staging" || env.Name != "Staging" || env.ID == "" || first.ID == "" {
			t.Errorf("importEnv %+v", env)
		}
		list := func() []esImport {
			var out struct {
				Message       *string     `json:"message"`
				SecretImports *[]esImport `json:"secretImports"`
			}
			p.ok(t, http.MethodGet, "/api/v1/secret-imports"+p.query(esV3, "dev", "/"), nil).JSON(t, &out)
			if out.Message == nil || out.SecretImports == nil {
				t.Fatalf("list imports answered %+v", out)
			}
			return *out.SecretImports
		}
		order := func() string {
			var s []string
			for _, imp := range list() {
				s = append(s, imp.ImportEnv.Slug+":"+imp.ImportPath+"@"+string(rune('0'+imp.Position)))
			}
			return strings.Join(s, " ")
		}
		if got := order(); got != "staging:/@1 staging:/lib@2" {
			t.Errorf("imports %q", got)
		}

		wantBlocks := []string{
			"staging:/|S1=s1,SHARED=from-staging",
			"staging:/lib|L1=l1,P1=p1,SHARED=from-prod",
		}
		for _, v := range []esAPI{esV3, esV4} {
			for _, name := range []string{"include_imports", "includeImports"} {
				l := p.listAs(t, p.tok, v, "dev", "/", name, "true")
				if got := esBlocks(l); !slices.Equal(got, wantBlocks) {
					t.Errorf("%s %s: imports %q, want %q", v.name, name, got, wantBlocks)
				}
				esWantValues(t, l.values(t), map[string]string{"OWN": "own", "SHARED": "from-dev"})
				if got := esBlocks(p.listAs(t, p.tok, v, "dev", "/", name, "false")); len(got) != 0 {
					t.Errorf("%s %s=false: imports %q", v.name, name, got)
				}
			}
		}
		// Each block's secrets carry their own environment and path.
		for _, b := range p.list(t, "dev", "/", "includeImports", "true").Imports {
			for _, s := range b.Secrets {
				if s.Env == "dev" || s.ID == "" {
					t.Errorf("imported secret %+v", s)
				}
			}
		}

		// One secret falls back to the imports, the last import that has the key winning.
		get := func(key string, kv ...string) string {
			t.Helper()
			return p.mustGet(t, esV4, "dev", "/", key, kv...).Value
		}
		for key, want := range map[string]string{"S1": "s1", "L1": "l1", "P1": "p1", "SHARED": "from-dev"} {
			if got := get(key, "includeImports", "true"); got != want {
				t.Errorf("get %s with imports = %q, want %q", key, got, want)
			}
			if got := p.mustGet(t, esV3, "dev", "/", key, "include_imports", "true").Value; got != want {
				t.Errorf("v3 get %s with imports = %q, want %q", key, got, want)
			}
		}
		esWantErr(t, p.get(t, esV4, "dev", "/", "S1"), 404, "NotFound", "S1")
		esWantErr(t, p.get(t, esV4, "dev", "/", "S1", "includeImports", "false"), 404, "NotFound", "S1")
		p.ok(t, http.MethodDelete, esV4.key("SHARED"), p.scope(esV4, "dev", "/"))
		if got := get("SHARED", "includeImports", "true"); got != "from-prod" {
			t.Errorf("SHARED = %q, want the later import's from-prod", got)
		}

		// Move the second import first: positions and blocks follow.
		var moved struct {
			SecretImport esImport `json:"secretImport"`
		}
		p.ok(t, http.MethodPatch, "/api/v1/secret-imports/"+second.ID, esObj("workspaceId", p.id, "environment", "dev", "path", "/",
			"import", esObj("position", 1))).JSON(t, &moved)
		if moved.SecretImport.Position != 1 || moved.SecretImport.ID != second.ID {
			t.Errorf("moved %+v", moved.SecretImport)
		}
		if got := order(); got != "staging:/lib@1 staging:/@2" {
			t.Errorf("after the move: %q", got)
		}
		if got := esBlocks(p.list(t, "dev", "/", "includeImports", "true")); !slices.Equal(got, []string{wantBlocks[1], wantBlocks[0]}) {
			t.Errorf("blocks after the move %q", got)
		}
		if got := get("SHARED", "includeImports", "true"); got != "from-staging" {
			t.Errorf("SHARED = %q after the move, want from-staging", got)
		}

		// Refused changes leave everything as it was.
		imports := "/api/v1/secret-imports"
		importReq := func(env, path, srcEnv, srcPath string) esReq {
			return esReq{http.MethodPost, imports, esObj("workspaceId", p.id, "environment", env, "path", path, "import", esObj("environment", srcEnv, "path", srcPath))}
		}
		p.refused(t, p.tok, importReq("staging", "/", "dev", "/"), 400, "BadRequest", "yclic")   // staging / -> dev / -> staging /
		p.refused(t, p.tok, importReq("prod", "/", "dev", "/"), 400, "BadRequest", "yclic")      // prod / -> dev / -> staging /lib -> prod /
		p.refused(t, p.tok, importReq("dev", "/", "dev", "/"), 400, "BadRequest", "yclic")       // itself
		p.refused(t, p.tok, importReq("dev", "/", "staging", "/lib"), 400, "BadRequest", "/lib") // twice
		p.refused(t, p.tok, importReq("dev", "/", "nope", "/"), 404, "NotFound", "nope")
		p.refused(t, p.tok, importReq("dev", "/", "staging", "/nope"), 404, "NotFound", "/nope")
		p.refused(t, p.tok, importReq("dev", "/nope", "staging", "/"), 404, "NotFound", "/nope")
		p.refused(t, p.tok, importReq("dev", "/", "", "/"), 422, "ValidationFailure", "environment")
		p.refused(t, p.tok, importReq("dev", "/", "staging", "/bad path"), 422, "ValidationFailure", "path")
		patch := func(id string, imp map[string]any) esReq {
			return esReq{http.MethodPatch, imports + "/" + id, esObj("workspaceId", p.id, "environment", "dev", "path", "/", "import", imp)}
		}
		p.refused(t, p.tok, patch(second.ID, esObj("position", 3)), 422, "ValidationFailure", "position")
		p.refused(t, p.tok, patch(second.ID, esObj("position", 0)), 422, "ValidationFailure", "position")
		p.refused(t, p.tok, patch(second.ID, esObj("position", "1")), 422, "ValidationFailure", "position")
		p.refused(t, p.tok, patch(second.ID, esObj("environment", "dev", "path", "/")), 400, "BadRequest", "yclic")
		p.refused(t, p.tok, patch("no-such-import", esObj("position", 1)), 404, "NotFound", "no-such-import")

		// Delete: later imports move up.
		var deleted struct {
			Message      string   `json:"message"`
			SecretImport esImport `json:"secretImport"`
		}
		p.ok(t, http.MethodDelete, imports+"/"+second.ID, esObj("workspaceId", p.id, "environment", "dev", "path", "/")).JSON(t, &deleted)
		if deleted.SecretImport.ID != second.ID || deleted.Message == "" {
			t.Errorf("deleted %+v", deleted)
		}
		if got := order(); got != "staging:/@1" {
			t.Errorf("after the delete: %q", got)
		}
		p.refused(t, p.tok, esReq{http.MethodDelete, imports + "/" + second.ID, esObj("workspaceId", p.id, "environment", "dev", "path", "/")}, 404, "NotFound", second.ID)
		if got := esBlocks(p.list(t, "dev", "/", "includeImports", "true")); !slices.Equal(got, wantBlocks[:1]) {
			t.Errorf("blocks after the delete %q", got)
		}

		// An import whose folder is deleted brings nothing, and breaks nothing.
		p.folder(t, "prod", "/", "gone")
		p.put(t, "prod", "/gone", "G", "g")
		p.importFrom(t, "dev", "/", "prod", "/gone")
		if got := esBlocks(p.list(t, "dev", "/", "includeImports", "true")); !slices.Equal(got, []string{wantBlocks[0], "prod:/gone|G=g"}) {
			t.Errorf("blocks with /gone %q", got)
		}
		p.ok(t, http.MethodDelete, "/api/v1/folders/gone", esObj("workspaceId", p.id, "environment", "prod", "directory", "/"))
		if got := esBlocks(p.list(t, "dev", "/", "includeImports", "true", "expandSecretReferences", "true")); !slices.Equal(got, wantBlocks[:1]) {
			t.Errorf("blocks once /gone is deleted %q", got)
		}
		esWantErr(t, p.get(t, esV4, "dev", "/", "G", "includeImports", "true"), 404, "NotFound", "G")
	})
}

// ---------------------------------------------------------------------------------------------
// 7. Folders.

type esFolder struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Version   int     `json:"version"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	EnvID     string  `json:"envId"`
	ParentID  *string `json:"parentId"`
}

func TestE2ETreeFolders(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		P := p.id
		folders := func(query string) []esFolder {
			t.Helper()
			var out struct {
				Folders *[]esFolder `json:"folders"`
			}
			p.ok(t, http.MethodGet, "/api/v1/folders?"+query, nil).JSON(t, &out)
			if out.Folders == nil {
				t.Fatalf("no folders array for %s", query)
			}
			return *out.Folders
		}
		names := func(fs []esFolder) string {
			var s []string
			for _, f := range fs {
				s = append(s, f.Name)
			}
			return strings.Join(s, ",")
		}
		root := func() string { return names(folders("directory=%2F&environment=dev&workspaceId=" + P)) } // the CLI's request
		one := func(r *servertest.Response) esFolder {
			t.Helper()
			var out struct {
				Folder *esFolder `json:"folder"`
			}
			r.JSON(t, &out)
			if out.Folder == nil {
				t.Fatalf("no folder in %s", r.Body)
			}
			return *out.Folder
		}
		if got := root(); got != "" {
			t.Errorf("new project has folders %q", got)
		}

		// Create, as the CLI does; creating it again answers the same folder.
		cliCreate := `{"name":"newf","workspaceId":"` + P + `","environment":"dev","path":"/"}`
		f := one(p.ok(t, http.MethodPost, "/api/v1/folders", cliCreate))
		if f.Name != "newf" || f.ID == "" || f.Version < 1 || f.EnvID == "" || f.ParentID == nil || !esISOMillis.MatchString(f.CreatedAt) || !esISOMillis.MatchString(f.UpdatedAt) {
			t.Errorf("created %+v", f)
		}
		if again := one(p.ok(t, http.MethodPost, "/api/v1/folders", cliCreate)); again.ID != f.ID {
			t.Errorf("second create answered %+v, want folder %s", again, f.ID)
		}
		if got := root(); got != "newf" {
			t.Errorf("folders %q", got)
		}
		if got := names(folders("path=%2F&environment=dev&workspaceId=" + P)); got != "newf" { // the Go SDK's request
			t.Errorf("folders by path %q", got)
		}
		if got := names(folders("directory=%2F&environment=staging&workspaceId=" + P)); got != "" {
			t.Errorf("staging folders %q", got)
		}
		sub := one(p.ok(t, http.MethodPost, "/api/v1/folders", esObj("name", "sub", "workspaceId", P, "environment", "dev", "directory", "/newf")))
		if sub.ParentID == nil || *sub.ParentID != f.ID {
			t.Errorf("sub's parent %v, want %s", sub.ParentID, f.ID)
		}
		p.put(t, "dev", "/newf", "X", "x")
		p.put(t, "dev", "/newf/sub", "Y", "y")
		p.put(t, "dev", "/", "TOP", "top")

		// Create under a missing parent path creates the parents.
		c := one(p.ok(t, http.MethodPost, "/api/v1/folders", esObj("name", "c", "workspaceId", P, "environment", "dev", "path", "/x/y")))
		if c.Name != "c" {
			t.Errorf("created %+v", c)
		}
		if got := names(folders("directory=%2Fx&environment=dev&workspaceId=" + P)); got != "y" {
			t.Errorf("/x has %q", got)
		}
		if got := names(folders("directory=%2Fx%2Fy&environment=dev&workspaceId=" + P)); got != "c" {
			t.Errorf("/x/y has %q", got)
		}
		p.put(t, "dev", "/x/y/c", "DEEP", "d")

		// Rename by id, then back by name.
		r := one(p.ok(t, http.MethodPatch, "/api/v1/folders/"+f.ID, esObj("workspaceId", P, "environment", "dev", "name", "renamed", "path", "/")))
		if r.ID != f.ID || r.Name != "renamed" {
			t.Errorf("renamed %+v", r)
		}
		esWantValues(t, p.list(t, "dev", "/renamed").values(t), map[string]string{"X": "x"})
		esWantValues(t, p.list(t, "dev", "/renamed/sub").values(t), map[string]string{"Y": "y"})
		esWantErr(t, p.do(t, http.MethodGet, esV4.list+p.query(esV4, "dev", "/newf"), nil), 404, "NotFound", "/newf")
		if s := p.mustGet(t, esV4, "dev", "/renamed/sub", "Y"); s.Path != "/renamed/sub" {
			t.Errorf("Y's path after the rename: %q", s.Path)
		}
		r = one(p.ok(t, http.MethodPatch, "/api/v1/folders/renamed", esObj("workspaceId", P, "environment", "dev", "name", "newf", "path", "/")))
		if r.ID != f.ID || r.Name != "newf" {
			t.Errorf("renamed back %+v", r)
		}
		paths := map[string]string{}
		for _, s := range p.list(t, "dev", "/", "recursive", "true").Secrets {
			paths[s.Key] = s.Path
		}
		esWantValues(t, paths, map[string]string{"TOP": "/", "X": "/newf", "Y": "/newf/sub", "DEEP": "/x/y/c"})

		// Refused folder writes change nothing.
		folderReq := func(method, path string, body any) esReq { return esReq{method, path, body} }
		for _, name := range []string{"has space", "a/b", "", "dot.ted", "ünï", strings.Repeat("n", 65)} {
			p.refused(t, p.tok, folderReq(http.MethodPost, "/api/v1/folders", esObj("name", name, "workspaceId", P, "environment", "dev", "path", "/")), 422, "ValidationFailure", "name")
			p.refused(t, p.tok, folderReq(http.MethodPatch, "/api/v1/folders/"+f.ID, esObj("name", name, "workspaceId", P, "environment", "dev", "path", "/")), 422, "ValidationFailure", "name")
		}
		p.refused(t, p.tok, folderReq(http.MethodPost, "/api/v1/folders", esObj("name", 5, "workspaceId", P, "environment", "dev", "path", "/")), 422, "ValidationFailure", "name")
		p.refused(t, p.tok, folderReq(http.MethodPost, "/api/v1/folders", `{"name":"g",`), 400, "BadRequest", "JSON")
		p.refused(t, p.tok, folderReq(http.MethodPost, "/api/v1/folders", esObj("name", "g", "workspaceId", P, "environment", "nope", "path", "/")), 404, "NotFound", "nope")
		p.refused(t, p.tok, folderReq(http.MethodPost, "/api/v1/folders", esObj("name", "g", "workspaceId", P, "path", "/")), 422, "ValidationFailure", "environment")
		p.refused(t, p.tok, folderReq(http.MethodPatch, "/api/v1/folders/"+f.ID, esObj("name", "x", "workspaceId", P, "environment", "dev", "path", "/")), 400, "BadRequest", "exists")
		p.refused(t, p.tok, folderReq(http.MethodPatch, "/api/v1/folders/nope", esObj("name", "y", "workspaceId", P, "environment", "dev", "path", "/")), 404, "NotFound", "nope")
		p.refused(t, p.tok, folderReq(http.MethodPatch, "/api/v1/folders/"+sub.ID, esObj("name", "y", "workspaceId", P, "environment", "dev", "path", "/")), 404, "NotFound", sub.ID) // not in /
		p.refused(t, p.tok, folderReq(http.MethodDelete, "/api/v1/folders/nope", esObj("workspaceId", P, "environment", "dev", "directory", "/")), 404, "NotFound", "nope")
		p.refused(t, p.tok, folderReq(http.MethodDelete, "/api/v1/folders/sub", esObj("workspaceId", P, "environment", "dev", "directory", "/")), 404, "NotFound", "sub")
		esWantErr(t, p.do(t, http.MethodGet, "/api/v1/folders?directory=%2Fnope&environment=dev&workspaceId="+P, nil), 404, "NotFound", "/nope")
		esWantErr(t, p.do(t, http.MethodGet, "/api/v1/folders?directory=%2F&environment=nope&workspaceId="+P, nil), 404, "NotFound", "nope")

		// Delete as the CLI does: the folder, its sub-folders and every secret in them go.
		cliDelete := `{"folderName":"newf","workspaceId":"` + P + `","environment":"dev","directory":"/"}`
		if d := one(p.ok(t, http.MethodDelete, "/api/v1/folders/newf", cliDelete)); d.ID != f.ID {
			t.Errorf("deleted %+v", d)
		}
		if got := root(); got != "x" {
			t.Errorf("folders after the delete %q", got)
		}
		for _, path := range []string{"/newf", "/newf/sub"} {
			esWantErr(t, p.do(t, http.MethodGet, esV4.list+p.query(esV4, "dev", path), nil), 404, "NotFound", path)
		}
		paths = map[string]string{}
		for _, s := range p.list(t, "dev", "/", "recursive", "true").Secrets {
			paths[s.Key] = s.Path
		}
		esWantValues(t, paths, map[string]string{"TOP": "/", "DEEP": "/x/y/c"})
		// A folder of that name made again is empty.
		p.ok(t, http.MethodPost, "/api/v1/folders", cliCreate)
		if l := p.list(t, "dev", "/newf", "recursive", "true"); len(l.Secrets) != 0 {
			t.Errorf("recreated folder has %+v", l.Secrets)
		}
		// Delete by id, from inside a path.
		y := folders("directory=%2Fx&environment=dev&workspaceId=" + P)[0]
		p.ok(t, http.MethodDelete, "/api/v1/folders/"+y.ID, esObj("workspaceId", P, "environment", "dev", "path", "/x"))
		if got := names(folders("directory=%2Fx&environment=dev&workspaceId=" + P)); got != "" {
			t.Errorf("/x has %q after deleting y", got)
		}
		esWantErr(t, p.get(t, esV4, "dev", "/x/y/c", "DEEP"), 404, "NotFound")
	})
}

// ---------------------------------------------------------------------------------------------
// 8. Tags.

func TestE2ETreeTags(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := esStart(t, dialect)
		p := e.project(t)
		base := "/api/v1/projects/" + p.id + "/tags"
		one := func(r *servertest.Response) esTag {
			t.Helper()
			var out struct {
				Tag *esTag `json:"tag"`
			}
			r.JSON(t, &out)
			if out.Tag == nil {
				t.Fatalf("no tag in %s", r.Body)
			}
			return *out.Tag
		}
		db := one(p.ok(t, http.MethodPost, base, esObj("slug", "prod-db", "color", "#ff0000")))
		if db.ID == "" || db.Slug != "prod-db" || db.Name != "prod-db" || db.Color != "#ff0000" {
			t.Errorf("created %+v", db)
		}
		apiTag := one(p.ok(t, http.MethodPost, base, esObj("slug", "api", "name", "API keys", "color", "blue")))
		if apiTag.Name != "API keys" {
			t.Errorf("created %+v", apiTag)
		}
		for _, path := range []string{base + "/slug/prod-db", base + "/" + db.ID, base + "/slug/prod-db/"} {
			if got := one(p.ok(t, http.MethodGet, path, nil)); got != db {
				t.Errorf("GET %s = %+v, want %+v", path, got, db)
			}
		}
		var all struct {
			Tags []esTag `json:"tags"`
		}
		p.ok(t, http.MethodGet, base, nil).JSON(t, &all)
		if slugs := []string{all.Tags[0].Slug, all.Tags[1].Slug}; len(all.Tags) != 2 || !slices.Contains(slugs, "api") || !slices.Contains(slugs, "prod-db") {
			t.Errorf("tags %+v", all.Tags)
		}

		// Update; a new slug moves the slug route.
		upd := one(p.ok(t, http.MethodPatch, base+"/"+db.ID, esObj("name", "Production DB", "color", "#00ff00")))
		if upd.ID != db.ID || upd.Slug != "prod-db" || upd.Name != "Production DB" || upd.Color != "#00ff00" {
			t.Errorf("updated %+v", upd)
		}
		upd = one(p.ok(t, http.MethodPatch, base+"/"+db.ID, esObj("slug", "database")))
		if upd.Slug != "database" || upd.Name != "Production DB" {
			t.Errorf("updated slug %+v", upd)
		}
		p.ok(t, http.MethodGet, base+"/slug/database", nil)
		esWantErr(t, p.do(t, http.MethodGet, base+"/slug/prod-db", nil), 404, "NotFound", "prod-db")

		// Refused tag writes change nothing.
		p.refused(t, p.tok, esReq{http.MethodPost, base, esObj("slug", "api")}, 400, "BadRequest", "api")
		p.refused(t, p.tok, esReq{http.MethodPatch, base + "/" + db.ID, esObj("slug", "api")}, 400, "BadRequest", "api")
		for _, slug := range []any{"Bad Slug", "UPPER", "", "a/b", strings.Repeat("s", 65), 7} {
			p.refused(t, p.tok, esReq{http.MethodPost, base, esObj("slug", slug, "color", "red")}, 422, "ValidationFailure", "slug")
			if slug != "" {
				p.refused(t, p.tok, esReq{http.MethodPatch, base + "/" + db.ID, esObj("slug", slug)}, 422, "ValidationFailure", "slug")
			}
		}
		p.refused(t, p.tok, esReq{http.MethodPost, base, esObj("color", "red")}, 422, "ValidationFailure", "slug")
		p.refused(t, p.tok, esReq{http.MethodPost, base, `{"slug":`}, 400, "BadRequest", "JSON")
		p.refused(t, p.tok, esReq{http.MethodPatch, base + "/no-such-tag", esObj("name", "x")}, 404, "NotFound", "no-such-tag")
		p.refused(t, p.tok, esReq{http.MethodPost, "/api/v1/projects/00000000-0000-4000-8000-000000000000/tags", esObj("slug", "x")}, 404, "NotFound")
		esWantErr(t, p.do(t, http.MethodGet, base+"/no-such-tag", nil), 404, "NotFound", "no-such-tag")

		// Tags on secrets, shown in listings and used by tagSlugs.
		p.put(t, "dev", "/", "BOTH", "1", "tagIds", []string{db.ID, apiTag.ID})
		p.put(t, "dev", "/", "ONE", "2", "tagIds", []string{apiTag.ID, apiTag.ID}) // a repeated id counts once
		p.put(t, "dev", "/", "NONE", "3")
		p.refused(t, p.tok, esReq{http.MethodPost, esV4.key("BAD"), p.scope(esV4, "dev", "/", "secretValue", "x", "tagIds", []string{apiTag.ID, "no-such-tag"})}, 404, "NotFound", "no-such-tag")
		p.refused(t, p.tok, esReq{http.MethodPatch, esV3.key("NONE"), p.scope(esV3, "dev", "/", "tagIds", []string{"no-such-tag"})}, 404, "NotFound", "no-such-tag")
		p.refused(t, p.tok, esReq{http.MethodPost, esV3.batch, p.scope(esV3, "dev", "/", "secrets", []any{
			esObj("secretKey", "B1", "secretValue", "1"), esObj("secretKey", "B2", "secretValue", "2", "tagIds", []string{"no-such-tag"})})}, 404, "NotFound", "no-such-tag")
		tagsOf := func(v esAPI) map[string]string {
			m := map[string]string{}
			for _, s := range p.listAs(t, p.tok, v, "dev", "/").Secrets {
				m[s.Key] = strings.Join(esTagSlugs(s), ",")
				for _, tg := range s.Tags {
					if want := map[string]esTag{db.ID: upd, apiTag.ID: apiTag}[tg.ID]; tg != want {
						t.Errorf("%s tag %+v, want %+v", s.Key, tg, want)
					}
				}
			}
			return m
		}
		for _, v := range []esAPI{esV3, esV4} {
			esWantValues(t, tagsOf(v), map[string]string{"BOTH": "api,database", "ONE": "api", "NONE": ""})
		}
		var keys []string
		for _, s := range p.list(t, "dev", "/", "tagSlugs", "database").Secrets {
			keys = append(keys, s.Key)
		}
		if !slices.Equal(keys, []string{"BOTH"}) {
			t.Errorf("tagSlugs=database: %v", keys)
		}

		// Delete: the tag leaves every secret.
		if d := one(p.ok(t, http.MethodDelete, base+"/"+apiTag.ID, nil)); d.ID != apiTag.ID {
			t.Errorf("deleted %+v", d)
		}
		esWantErr(t, p.do(t, http.MethodGet, base+"/"+apiTag.ID, nil), 404, "NotFound", apiTag.ID)
		p.refused(t, p.tok, esReq{http.MethodDelete, base + "/" + apiTag.ID, nil}, 404, "NotFound", apiTag.ID)
		esWantValues(t, tagsOf(esV4), map[string]string{"BOTH": "database", "ONE": "", "NONE": ""})
		p.refused(t, p.tok, esReq{http.MethodPatch, esV4.key("NONE"), p.scope(esV4, "dev", "/", "tagIds", []string{apiTag.ID})}, 404, "NotFound", apiTag.ID)
	})
}
