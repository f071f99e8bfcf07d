package api

import (
	"net/http"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/secrets"
)

// scopeFromQuery reads the folder a request names in its query string.
func scopeFromQuery(q httpserver.Query) secrets.Scope {
	return secrets.Scope{
		ProjectID:   q.String("projectId", "workspaceId"),
		ProjectSlug: q.String("workspaceSlug", "projectSlug"),
		Environment: q.String("environment"),
		Path:        q.String("secretPath", "path", "directory"),
	}
}

// scopeBody is the folder a request names in its JSON body.
type scopeBody struct {
	ProjectID     string `json:"projectId"`
	WorkspaceID   string `json:"workspaceId"`
	WorkspaceSlug string `json:"workspaceSlug"`
	ProjectSlug   string `json:"projectSlug"`
	Environment   string `json:"environment"`
	SecretPath    string `json:"secretPath"`
}

func (b scopeBody) scope() secrets.Scope {
	return secrets.Scope{ProjectID: first(b.ProjectID, b.WorkspaceID), ProjectSlug: first(b.WorkspaceSlug, b.ProjectSlug),
		Environment: b.Environment, Path: b.SecretPath}
}

// orQuery fills what the body left empty from the query string (DELETE clients differ).
func (b scopeBody) orQuery(r *http.Request) secrets.Scope {
	sc, q := b.scope(), scopeFromQuery(httpserver.NewQuery(r))
	sc.ProjectID, sc.ProjectSlug = first(sc.ProjectID, q.ProjectID), first(sc.ProjectSlug, q.ProjectSlug)
	sc.Environment, sc.Path = first(sc.Environment, q.Environment), first(sc.Path, q.Path)
	return sc
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (a *API) listSecrets(v3 bool) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := httpserver.NewQuery(r)
		in := secrets.ListInput{Scope: scopeFromQuery(q)}
		var err error
		if in.Recursive, err = q.Bool(false, "recursive"); err != nil {
			return err
		}
		if in.Expand, err = q.Bool(false, "expandSecretReferences"); err != nil {
			return err
		}
		if in.IncludeImports, err = q.Bool(false, "includeImports", "include_imports"); err != nil {
			return err
		}
		overrides, err := q.Bool(false, "includePersonalOverrides")
		if err != nil {
			return err
		}
		switch {
		case overrides:
			in.Personal = secrets.PersonalOverride
		case v3:
			in.Personal = secrets.PersonalBoth
		}
		if tags := q.String("tagSlugs"); tags != "" {
			for _, t := range strings.Split(tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					in.TagSlugs = append(in.TagSlugs, t)
				}
			}
		}
		body, err := a.Secrets.ListRendered(r.Context(), in, "json", renderListing)
		if err != nil {
			return err
		}
		httpserver.WriteBody(w, r, http.StatusOK, &httpserver.Body{Data: body.Data, ETag: `"` + body.Sum + `"`})
		return nil
	}
}

// renderListing encodes a listing once, for the cache.
func renderListing(l *secrets.Listing) ([]byte, error) {
	return httpserver.MarshalJSON(toListing(l))
}

func (a *API) getSecret(w http.ResponseWriter, r *http.Request) error {
	q := httpserver.NewQuery(r)
	in := secrets.GetInput{Scope: scopeFromQuery(q), Key: r.PathValue("name"), Type: coffer.SecretType(q.String("type"))}
	var err error
	if in.Version, err = q.Int(0, "version"); err != nil {
		return err
	}
	if in.Expand, err = q.Bool(false, "expandSecretReferences"); err != nil {
		return err
	}
	if in.IncludeImports, err = q.Bool(false, "includeImports", "include_imports"); err != nil {
		return err
	}
	sec, err := a.Secrets.Get(r.Context(), in)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"secret": toSecret(sec)})
	return nil
}

// secretFields are the writable fields of a secret, in single and batch bodies.
type secretFields struct {
	SecretKey                string          `json:"secretKey"`
	SecretValue              *string         `json:"secretValue"`
	SecretComment            *string         `json:"secretComment"`
	SkipMultilineEncoding    *bool           `json:"skipMultilineEncoding"`
	TagIDs                   *[]string       `json:"tagIds"`
	SecretMetadata           *[]wireMetadata `json:"secretMetadata"`
	SecretReminderNote       *string         `json:"secretReminderNote"`
	SecretReminderRepeatDays *int            `json:"secretReminderRepeatDays"`
	NewSecretName            string          `json:"newSecretName"`
	Type                     string          `json:"type"`
}

func (f *secretFields) change(key string) secrets.Change {
	c := secrets.Change{Key: key, NewKey: f.NewSecretName, Type: coffer.SecretType(f.Type), Value: f.SecretValue, Comment: f.SecretComment,
		SkipMultiline: f.SkipMultilineEncoding, TagIDs: f.TagIDs, ReminderNote: f.SecretReminderNote, ReminderRepeatDays: f.SecretReminderRepeatDays}
	if f.SecretMetadata != nil {
		m := make([]coffer.SecretMetadata, len(*f.SecretMetadata))
		for i, e := range *f.SecretMetadata {
			m[i] = coffer.SecretMetadata{Key: e.Key, Value: e.Value}
		}
		c.Metadata = &m
	}
	return c
}

type singleSecretBody struct {
	scopeBody
	secretFields
}

type batchBody struct {
	scopeBody
	Mode    string         `json:"mode"`
	Secrets []secretFields `json:"secrets"`
}

func (b *batchBody) changes() []secrets.Change {
	out := make([]secrets.Change, len(b.Secrets))
	for i := range b.Secrets {
		out[i] = b.Secrets[i].change(b.Secrets[i].SecretKey)
	}
	return out
}

func writeSecret(w http.ResponseWriter, r *http.Request, out []*coffer.Secret, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"secret": toSecret(out[0])})
	return nil
}

func writeSecrets(w http.ResponseWriter, r *http.Request, out []*coffer.Secret, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"secrets": toSecrets(out)})
	return nil
}

func (a *API) createSecret(w http.ResponseWriter, r *http.Request) error {
	var b singleSecretBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	out, err := a.Secrets.Create(r.Context(), b.scope(), []secrets.Change{b.change(r.PathValue("name"))})
	return writeSecret(w, r, out, err)
}

func (a *API) updateSecret(w http.ResponseWriter, r *http.Request) error {
	var b singleSecretBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	out, err := a.Secrets.Update(r.Context(), b.scope(), secrets.FailOnNotFound, []secrets.Change{b.change(r.PathValue("name"))})
	if coffer.ErrorCode(err) == coffer.ENOTFOUND && strings.HasPrefix(coffer.ErrorMessage(err), "Secret does not exist") {
		err = coffer.Errorf(coffer.ENOTFOUND, "Secret with name %s not found", r.PathValue("name"))
	}
	return writeSecret(w, r, out, err)
}

func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	var b singleSecretBody
	if err := httpserver.DecodeOptionalJSON(r, &b); err != nil {
		return err
	}
	if b.Type == "" {
		b.Type = httpserver.NewQuery(r).String("type")
	}
	out, err := a.Secrets.Delete(r.Context(), b.orQuery(r), []secrets.Change{{Key: r.PathValue("name"), Type: coffer.SecretType(b.Type)}})
	return writeSecret(w, r, out, err)
}

func (a *API) createSecrets(w http.ResponseWriter, r *http.Request) error {
	var b batchBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	out, err := a.Secrets.Create(r.Context(), b.scope(), b.changes())
	return writeSecrets(w, r, out, err)
}

func (a *API) updateSecrets(w http.ResponseWriter, r *http.Request) error {
	var b batchBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	mode, err := secrets.ParseUpdateMode(b.Mode)
	if err != nil {
		return err
	}
	out, err := a.Secrets.Update(r.Context(), b.scope(), mode, b.changes())
	return writeSecrets(w, r, out, err)
}

func (a *API) deleteSecrets(w http.ResponseWriter, r *http.Request) error {
	var b batchBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	changes := make([]secrets.Change, len(b.Secrets))
	for i, s := range b.Secrets {
		changes[i] = secrets.Change{Key: s.SecretKey, Type: coffer.SecretType(s.Type)}
	}
	out, err := a.Secrets.Delete(r.Context(), b.scope(), changes)
	return writeSecrets(w, r, out, err)
}

type wireVersion struct {
	ID                    string `json:"id"`
	SecretID              string `json:"secretId"`
	Version               int    `json:"version"`
	SecretKey             string `json:"secretKey"`
	SecretValue           string `json:"secretValue"`
	SecretComment         string `json:"secretComment"`
	SkipMultilineEncoding bool   `json:"skipMultilineEncoding"`
	ActorType             string `json:"actorType"`
	ActorID               string `json:"actorId"`
	CreatedAt             string `json:"createdAt"`
}

func (a *API) secretVersions(w http.ResponseWriter, r *http.Request) error {
	q := httpserver.NewQuery(r)
	in := secrets.VersionsInput{Scope: scopeFromQuery(q), Key: r.PathValue("name"), Type: coffer.SecretType(q.String("type"))}
	var err error
	if in.Offset, err = q.Int(0, "offset"); err != nil {
		return err
	}
	if in.Limit, err = q.Int(100, "limit"); err != nil {
		return err
	}
	vs, err := a.Secrets.Versions(r.Context(), in)
	if err != nil {
		return err
	}
	out := make([]wireVersion, len(vs))
	for i, v := range vs {
		out[i] = wireVersion{ID: v.ID, SecretID: v.SecretID, Version: v.Version, SecretKey: v.Key, SecretValue: v.Value.Reveal(),
			SecretComment: v.Comment.Reveal(), SkipMultilineEncoding: v.SkipMultilineEncoding, ActorType: string(v.ActorKind),
			ActorID: v.ActorID, CreatedAt: isoTime(v.CreatedAt)}
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"secretVersions": out})
	return nil
}

func (a *API) rollbackSecret(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		scopeBody
		Type    string `json:"type"`
		Version int    `json:"version"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	sec, err := a.Secrets.Rollback(r.Context(), b.scope(), r.PathValue("name"), coffer.SecretType(b.Type), b.Version)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"secret": toSecret(sec)})
	return nil
}
