package web

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/envfile"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/secrets"
)

// The secrets view: one grid per folder, keys as rows and environments as columns. Values are
// compared on the server (the page learns only "same", "differs" or "missing") and reach the
// page only when revealed or edited.

type crumb struct{ Name, Path string }

type gridCell struct {
	Env       string
	Key       string
	Present   bool
	Forbidden bool
	Version   int
	Imported  string // "env:/path" when the value comes from an import
	Value     string // only when revealed
	Comment   string // only when revealed
	Resolved  string // the value with its references resolved, when it has any (revealed only)
	Revealed  bool
}

type gridRow struct {
	Key     string
	Tags    []string // tag names the key carries in any environment
	Cells   []gridCell
	Differs bool // present in several environments with different values
	Missing bool // absent from some environment
}

type gridData struct {
	Project *coffer.Project
	Path    string
	Crumbs  []crumb
	Folders []crumb
	Envs    []coffer.Environment
	Rows    []gridRow
	Base    string // the project's URL
	// Denied lists environments the user may not read.
	Denied []string
	// Imports are the folder's imports in every environment.
	Imports []importView
}

type importView struct {
	ID, Env, EnvName, From string
}

// cleanPath returns the folder path of a query or form value ("/" when empty).
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return path.Clean("/" + p)
}

func crumbs(p string) []crumb {
	out := []crumb{{Name: "root", Path: "/"}}
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		if part == "" {
			continue
		}
		cur += "/" + part
		out = append(out, crumb{Name: part, Path: cur})
	}
	return out
}

// projectOf returns the project of the request's {slug}.
func (wb *Web) projectOf(r *http.Request) (*coffer.Project, error) {
	return wb.Projects.GetProjectBySlug(r.Context(), r.PathValue("slug"))
}

func projectURL(p *coffer.Project) string { return "/projects/" + url.PathEscape(p.Slug) }

// gridURL is the grid of a folder.
func gridURL(p *coffer.Project, folder string) string {
	if folder == "/" {
		return projectURL(p)
	}
	return projectURL(p) + "?path=" + url.QueryEscape(folder)
}

func (wb *Web) secretsGrid(w http.ResponseWriter, r *http.Request) error {
	return wb.renderGrid(w, r, http.StatusOK, "", "")
}

func (wb *Web) renderGrid(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	folder := cleanPath(r.FormValue("path"))
	d := gridData{Project: p, Path: folder, Crumbs: crumbs(folder), Envs: p.Environments, Base: projectURL(p)}
	type cellValue struct {
		sum      [32]byte
		version  int
		imported string
	}
	type envValues map[string]cellValue
	values := make([]envValues, len(p.Environments))
	keys := map[string]bool{}
	tags := map[string]map[string]bool{} // key → tag names
	folders := map[string]bool{}
	for i, env := range p.Environments {
		sc := secrets.Scope{ProjectID: p.ID, Environment: env.Slug, Path: folder}
		l, err := wb.Secrets.List(r.Context(), secrets.ListInput{Scope: sc, IncludeImports: true})
		switch coffer.ErrorCode(err) {
		case "":
		case coffer.ENOTFOUND: // the folder does not exist in this environment
			continue
		case coffer.EFORBIDDEN:
			d.Denied = append(d.Denied, env.Slug)
			continue
		default:
			return err
		}
		values[i] = envValues{}
		// What the folder's readers get: imports in order (later ones win), then its own.
		for _, b := range l.Imports {
			for _, s := range b.Secrets {
				values[i][s.Key] = cellValue{sha256.Sum256([]byte(s.Value.Reveal())), s.Version, b.Environment + ":" + b.Path}
				keys[s.Key] = true
			}
		}
		for _, s := range l.Secrets {
			if s.Type == coffer.SecretPersonal {
				continue
			}
			values[i][s.Key] = cellValue{sha256.Sum256([]byte(s.Value.Reveal())), s.Version, ""}
			keys[s.Key] = true
			for _, t := range s.Tags {
				if tags[s.Key] == nil {
					tags[s.Key] = map[string]bool{}
				}
				tags[s.Key][t.Name] = true
			}
		}
		imps, err := wb.Secrets.ListImports(r.Context(), sc)
		if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
			return err
		}
		for _, imp := range imps {
			d.Imports = append(d.Imports, importView{ID: imp.ID, Env: env.Slug, EnvName: env.Name, From: imp.ImportEnv.Slug + ":" + imp.ImportPath})
		}
		fs, err := wb.Secrets.ListFolders(r.Context(), sc)
		if err == nil {
			for _, f := range fs {
				folders[f.Name] = true
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(folders)) {
		d.Folders = append(d.Folders, crumb{Name: name, Path: path.Join(folder, name)})
	}
	for _, k := range slices.Sorted(mapKeys(keys)) {
		row := gridRow{Key: k, Tags: slices.Sorted(mapKeys(tags[k]))}
		var first *[32]byte
		for i, env := range p.Environments {
			c := gridCell{Env: env.Slug, Key: k, Forbidden: slices.Contains(d.Denied, env.Slug)}
			if v, ok := values[i][k]; ok {
				c.Present, c.Version, c.Imported = true, v.version, v.imported
				if first == nil {
					sum := v.sum
					first = &sum
				} else if *first != v.sum {
					row.Differs = true
				}
			} else if !c.Forbidden {
				row.Missing = true
			}
			row.Cells = append(row.Cells, c)
		}
		d.Rows = append(d.Rows, row)
	}
	wb.render(w, r, status, "grid", &view{Title: p.Name, Nav: "projects", Error: errMsg, Notice: notice, D: d})
	return nil
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// cellData is a grid cell rendered alone (htmx swaps) or on the reveal page.
type cellData struct {
	Base string
	Path string
	Cell gridCell
}

// secretRef is the secret a request names: env, path and key from the query or the form.
type secretRef struct {
	Env, Path, Key string
}

func refOf(r *http.Request) secretRef {
	return secretRef{Env: r.FormValue("env"), Path: cleanPath(r.FormValue("path")), Key: r.FormValue("key")}
}

func (ref secretRef) scope(p *coffer.Project) secrets.Scope {
	return secrets.Scope{ProjectID: p.ID, Environment: ref.Env, Path: ref.Path}
}

// reveal shows one value: as a cell partial for htmx, or as a page without JavaScript.
// hide=1 gives the masked cell back.
func (wb *Web) reveal(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	cell := gridCell{Env: ref.Env, Key: ref.Key, Present: true}
	if r.FormValue("hide") == "" {
		in := secrets.GetInput{Scope: ref.scope(p), Key: ref.Key, IncludeImports: true}
		s, err := wb.Secrets.Get(r.Context(), in)
		if err != nil {
			return err
		}
		cell.Value, cell.Comment, cell.Revealed, cell.Version = s.Value.Reveal(), s.Comment.Reveal(), true, s.Version
		if s.Path != ref.Path || s.Environment != ref.Env {
			cell.Imported = s.Environment + ":" + s.Path
		}
		if strings.Contains(cell.Value, "${") { // references: show what they resolve to
			in.Expand = true
			if x, err := wb.Secrets.Get(r.Context(), in); err == nil {
				cell.Resolved = x.Value.Reveal()
			} else if msg, ok := userMessage(err); ok {
				cell.Resolved = "(cannot resolve: " + msg + ")"
			} else {
				return err
			}
		}
	}
	d := cellData{Base: projectURL(p), Path: ref.Path, Cell: cell}
	if isHTMX(r) {
		wb.renderPartial(w, r, "reveal", "cell", d)
		return nil
	}
	wb.render(w, r, http.StatusOK, "reveal", &view{Title: ref.Key, Nav: "projects", D: d})
	return nil
}

type editData struct {
	Project *coffer.Project
	Base    string
	Ref     secretRef
	Value   string
	Comment string
	Version int
	Back    string
	// Tags are the project's tags; Tagged the ids the secret carries.
	Tags   []*coffer.Tag
	Tagged map[string]bool
}

// editPage is the form that changes (or creates, when missing) one secret of one environment.
func (wb *Web) editPage(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	d := editData{Project: p, Base: projectURL(p), Ref: ref, Back: gridURL(p, ref.Path), Tagged: map[string]bool{}}
	if d.Tags, err = wb.Secrets.ListTags(r.Context(), p.ID); err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return err
	}
	s, err := wb.Secrets.Get(r.Context(), secrets.GetInput{Scope: ref.scope(p), Key: ref.Key})
	switch coffer.ErrorCode(err) {
	case "":
		d.Value, d.Comment, d.Version = s.Value.Reveal(), s.Comment.Reveal(), s.Version
		for _, t := range s.Tags {
			d.Tagged[t.ID] = true
		}
	case coffer.ENOTFOUND:
	default:
		return err
	}
	if isHTMX(r) {
		wb.renderPartial(w, r, "edit", "editform", &view{D: d})
		return nil
	}
	wb.render(w, r, http.StatusOK, "edit", &view{Title: "Edit " + ref.Key, Nav: "projects", D: d})
	return nil
}

// saveSecret sets one secret's value (and comment) in one environment, creating it if missing.
func (wb *Web) saveSecret(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	value, comment := r.PostFormValue("value"), r.PostFormValue("comment")
	c := secrets.Change{Key: ref.Key, Value: &value, Comment: &comment}
	if r.PostFormValue("tags_shown") == "1" { // the form listed the tags: set exactly the checked ones
		ids := r.PostForm["tag"]
		if ids == nil {
			ids = []string{}
		}
		c.TagIDs = &ids
	}
	_, err = wb.Secrets.Update(r.Context(), ref.scope(p), secrets.Upsert, []secrets.Change{c})
	if err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, ref.Path))
}

// formError shows the grid again with err's message for a mistake the user can fix.
func (wb *Web) formError(w http.ResponseWriter, r *http.Request, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderGrid(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "")
}

// addSecret adds a key with a value in each environment whose field is filled.
func (wb *Web) addSecret(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	folder := cleanPath(r.PostFormValue("path"))
	key := strings.TrimSpace(r.PostFormValue("key"))
	n := 0
	for _, env := range p.Environments {
		v, ok := r.PostForm["value_"+env.Slug]
		if !ok || len(v) == 0 || v[0] == "" {
			continue
		}
		value := v[0]
		sc := secrets.Scope{ProjectID: p.ID, Environment: env.Slug, Path: folder}
		if _, err := wb.Secrets.Create(r.Context(), sc, []secrets.Change{{Key: key, Value: &value}}); err != nil {
			return wb.formError(w, r, err)
		}
		n++
	}
	if n == 0 {
		return wb.formError(w, r, coffer.Errorf(coffer.EVALIDATION, "value: fill in the value of at least one environment"))
	}
	return redirect(w, r, gridURL(p, folder))
}

func (wb *Web) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	if _, err := wb.Secrets.Delete(r.Context(), ref.scope(p), []secrets.Change{{Key: ref.Key}}); err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, ref.Path))
}

// pasteSecrets sets every key of a pasted .env in one environment (created or updated).
func (wb *Web) pasteSecrets(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	entries, err := envfile.Read(strings.NewReader(r.PostFormValue("dotenv")), envfile.Dotenv)
	if err != nil {
		return wb.formError(w, r, coffer.Errorf(coffer.EVALIDATION, "dotenv: %v", err))
	}
	if len(entries) == 0 {
		return wb.formError(w, r, coffer.Errorf(coffer.EVALIDATION, "dotenv: no KEY=value lines"))
	}
	changes := make([]secrets.Change, len(entries))
	for i := range entries {
		changes[i] = secrets.Change{Key: entries[i].Key, Value: &entries[i].Value}
	}
	if _, err := wb.Secrets.Update(r.Context(), ref.scope(p), secrets.Upsert, changes); err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, ref.Path))
}

func (wb *Web) createFolder(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := wb.Secrets.CreateFolder(r.Context(), ref.scope(p), name); err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, path.Join(ref.Path, name)))
}

// createImport makes the folder of one environment import another environment's folder.
func (wb *Web) createImport(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	src := secrets.ImportSource{Environment: r.PostFormValue("from_env"), Path: cleanPath(r.PostFormValue("from_path"))}
	if _, err := wb.Secrets.CreateImport(r.Context(), ref.scope(p), src); err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, ref.Path))
}

func (wb *Web) deleteImport(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	ref := refOf(r)
	if _, err := wb.Secrets.DeleteImport(r.Context(), ref.scope(p), r.PostFormValue("id")); err != nil {
		return wb.formError(w, r, err)
	}
	return redirect(w, r, gridURL(p, ref.Path))
}
