package api

import (
	"net/http"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/secrets"
)

// folderBody is the body of folder writes; the parent folder is path, or directory.
type folderBody struct {
	scopeBody
	Name      string `json:"name"`
	Path      string `json:"path"`
	Directory string `json:"directory"`
}

func (b folderBody) scope(r *http.Request) secrets.Scope {
	b.SecretPath = first(b.Path, b.Directory, b.SecretPath)
	return b.orQuery(r)
}

func (a *API) listFolders(w http.ResponseWriter, r *http.Request) error {
	fs, err := a.Secrets.ListFolders(r.Context(), scopeFromQuery(httpserver.NewQuery(r)))
	if err != nil {
		return err
	}
	out := make([]wireFolder, len(fs))
	for i, f := range fs {
		out[i] = toFolder(f)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"folders": out})
	return nil
}

func (a *API) createFolder(w http.ResponseWriter, r *http.Request) error {
	var b folderBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	f, err := a.Secrets.CreateFolder(r.Context(), b.scope(r), b.Name)
	return writeFolder(w, r, f, err)
}

func (a *API) updateFolder(w http.ResponseWriter, r *http.Request) error {
	var b folderBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	f, err := a.Secrets.RenameFolder(r.Context(), b.scope(r), r.PathValue("id"), b.Name)
	return writeFolder(w, r, f, err)
}

func (a *API) deleteFolder(w http.ResponseWriter, r *http.Request) error {
	var b folderBody
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	f, err := a.Secrets.DeleteFolder(r.Context(), b.scope(r), r.PathValue("id"))
	return writeFolder(w, r, f, err)
}

func writeFolder(w http.ResponseWriter, r *http.Request, f *coffer.Folder, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"folder": toFolder(f)})
	return nil
}

type importBody struct {
	scopeBody
	Path   string `json:"path"`
	Import struct {
		Environment *string `json:"environment"`
		Path        *string `json:"path"`
		Position    *int    `json:"position"`
	} `json:"import"`
}

func (b importBody) scope(r *http.Request) secrets.Scope {
	b.SecretPath = first(b.Path, b.SecretPath)
	return b.orQuery(r)
}

func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	imps, err := a.Secrets.ListImports(r.Context(), scopeFromQuery(httpserver.NewQuery(r)))
	if err != nil {
		return err
	}
	out := make([]wireImport, len(imps))
	for i, imp := range imps {
		out[i] = toImport(imp)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"message": "Successfully fetched secret imports", "secretImports": out})
	return nil
}

func writeImport(w http.ResponseWriter, r *http.Request, msg string, imp *coffer.SecretImport, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"message": msg, "secretImport": toImport(imp)})
	return nil
}

func (a *API) createImport(w http.ResponseWriter, r *http.Request) error {
	var b importBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	src := secrets.ImportSource{}
	if b.Import.Environment != nil {
		src.Environment = *b.Import.Environment
	}
	if b.Import.Path != nil {
		src.Path = *b.Import.Path
	}
	imp, err := a.Secrets.CreateImport(r.Context(), b.scope(r), src)
	return writeImport(w, r, "Successfully created secret import", imp, err)
}

func (a *API) updateImport(w http.ResponseWriter, r *http.Request) error {
	var b importBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	imp, err := a.Secrets.UpdateImport(r.Context(), b.scope(r), r.PathValue("id"),
		secrets.ImportUpdate{Environment: b.Import.Environment, Path: b.Import.Path, Position: b.Import.Position})
	return writeImport(w, r, "Successfully updated secret import", imp, err)
}

func (a *API) deleteImport(w http.ResponseWriter, r *http.Request) error {
	var b importBody
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	imp, err := a.Secrets.DeleteImport(r.Context(), b.scope(r), r.PathValue("id"))
	return writeImport(w, r, "Successfully deleted secret import", imp, err)
}

// projectSubresource serves GET /api/v1/projects/slug/{slug},
// GET /api/v1/projects/{projectId}/tags and GET /api/v1/projects/{projectId}/roles, which one
// ServeMux pattern cannot tell apart.
func (a *API) projectSubresource(w http.ResponseWriter, r *http.Request) error {
	switch {
	case r.PathValue("projectId") == "slug":
		return a.getProjectBySlug(w, r, r.PathValue("sub"))
	case r.PathValue("sub") == "tags":
		return a.listTags(w, r)
	case r.PathValue("sub") == "roles":
		return a.listRoles(w, r)
	}
	return coffer.Errorf(coffer.ENOTFOUND, "Route GET %s not found", r.URL.Path)
}

func (a *API) listTags(w http.ResponseWriter, r *http.Request) error {
	tags, err := a.Secrets.ListTags(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	out := make([]wireTag, len(tags))
	for i, t := range tags {
		out[i] = toTag(t, true)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"tags": out})
	return nil
}

func writeTag(w http.ResponseWriter, r *http.Request, t *coffer.Tag, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"tag": toTag(t, true)})
	return nil
}

func (a *API) getTag(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Secrets.GetTag(r.Context(), r.PathValue("projectId"), r.PathValue("tagId"), false)
	return writeTag(w, r, t, err)
}

func (a *API) getTagBySlug(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Secrets.GetTag(r.Context(), r.PathValue("projectId"), r.PathValue("slug"), true)
	return writeTag(w, r, t, err)
}

type tagBody struct {
	Slug  *string `json:"slug"`
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

func (a *API) createTag(w http.ResponseWriter, r *http.Request) error {
	var b tagBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	t, err := a.Secrets.CreateTag(r.Context(), r.PathValue("projectId"), secrets.TagInput{Slug: b.Slug, Name: b.Name, Color: b.Color})
	return writeTag(w, r, t, err)
}

func (a *API) updateTag(w http.ResponseWriter, r *http.Request) error {
	var b tagBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	t, err := a.Secrets.UpdateTag(r.Context(), r.PathValue("projectId"), r.PathValue("tagId"), secrets.TagInput{Slug: b.Slug, Name: b.Name, Color: b.Color})
	return writeTag(w, r, t, err)
}

func (a *API) deleteTag(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Secrets.DeleteTag(r.Context(), r.PathValue("projectId"), r.PathValue("tagId"))
	return writeTag(w, r, t, err)
}
