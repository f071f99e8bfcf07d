package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Scope names a folder of a project.
type Scope struct {
	ProjectID   string `json:"projectId"`
	Environment string `json:"environment"`
	SecretPath  string `json:"secretPath"`
}

func (s Scope) query() url.Values {
	return url.Values{"projectId": {s.ProjectID}, "environment": {s.Environment}, "secretPath": {s.SecretPath}}
}

// ListSecretsConditional is ListSecrets that sends If-None-Match: etag (when not empty) and
// returns the answer's ETag. An unchanged listing is ErrNotModified.
func (c *Client) ListSecretsConditional(ctx context.Context, in ListSecretsInput, etag string) (*Secrets, string, error) {
	q := Scope{in.ProjectID, in.Environment, in.SecretPath}.query()
	q.Set("recursive", strconv.FormatBool(in.Recursive))
	q.Set("expandSecretReferences", strconv.FormatBool(in.Expand))
	q.Set("includeImports", strconv.FormatBool(in.IncludeImports))
	q.Set("includePersonalOverrides", strconv.FormatBool(in.PersonalOverrides))
	if len(in.TagSlugs) > 0 {
		q.Set("tagSlugs", strings.Join(in.TagSlugs, ","))
	}
	var h http.Header
	if etag != "" {
		h = http.Header{"If-None-Match": {etag}}
	}
	var s Secrets
	rh, err := c.do(ctx, http.MethodGet, "/api/v4/secrets", q, nil, &s, h)
	return &s, rh.Get("ETag"), err
}

// GetSecret reads one secret (its value at version when version > 0).
func (c *Client) GetSecret(ctx context.Context, sc Scope, key, typ string, version int, expand, includeImports bool) (*Secret, error) {
	q := sc.query()
	q.Set("type", typ)
	q.Set("expandSecretReferences", strconv.FormatBool(expand))
	q.Set("includeImports", strconv.FormatBool(includeImports))
	if version > 0 {
		q.Set("version", strconv.Itoa(version))
	}
	var r struct {
		Secret Secret `json:"secret"`
	}
	return &r.Secret, c.Do(ctx, http.MethodGet, "/api/v4/secrets/"+url.PathEscape(key), q, nil, &r)
}

// SecretInput is one secret to write in a batch.
type SecretInput struct {
	SecretKey     string  `json:"secretKey"`
	SecretValue   *string `json:"secretValue,omitempty"`
	SecretComment *string `json:"secretComment,omitempty"`
	Type          string  `json:"type,omitempty"`
	NewSecretName string  `json:"newSecretName,omitempty"`
}

type batchBody struct {
	Scope
	Mode    string        `json:"mode,omitempty"`
	Secrets []SecretInput `json:"secrets"`
}

type secretsAnswer struct {
	Secrets []Secret `json:"secrets"`
}

// CreateSecrets creates secrets in one folder, all or none.
func (c *Client) CreateSecrets(ctx context.Context, sc Scope, in []SecretInput) ([]Secret, error) {
	var r secretsAnswer
	return r.Secrets, c.Do(ctx, http.MethodPost, "/api/v4/secrets/batch", nil, batchBody{Scope: sc, Secrets: in}, &r)
}

// UpdateSecrets updates secrets of one folder, all or none; mode is failOnNotFound, upsert or
// ignore.
func (c *Client) UpdateSecrets(ctx context.Context, sc Scope, mode string, in []SecretInput) ([]Secret, error) {
	var r secretsAnswer
	return r.Secrets, c.Do(ctx, http.MethodPatch, "/api/v4/secrets/batch", nil, batchBody{Scope: sc, Mode: mode, Secrets: in}, &r)
}

// DeleteSecrets deletes secrets of one folder, all or none.
func (c *Client) DeleteSecrets(ctx context.Context, sc Scope, in []SecretInput) ([]Secret, error) {
	var r secretsAnswer
	return r.Secrets, c.Do(ctx, http.MethodDelete, "/api/v4/secrets/batch", nil, batchBody{Scope: sc, Secrets: in}, &r)
}

// SecretVersion is one kept version of a secret.
type SecretVersion struct {
	Version       int    `json:"version"`
	SecretKey     string `json:"secretKey"`
	SecretValue   string `json:"secretValue"`
	SecretComment string `json:"secretComment"`
	ActorType     string `json:"actorType"`
	ActorID       string `json:"actorId"`
	CreatedAt     string `json:"createdAt"`
}

// SecretVersions lists the versions of a secret, newest first.
func (c *Client) SecretVersions(ctx context.Context, sc Scope, key, typ string) ([]SecretVersion, error) {
	q := sc.query()
	q.Set("type", typ)
	var r struct {
		Versions []SecretVersion `json:"secretVersions"`
	}
	return r.Versions, c.Do(ctx, http.MethodGet, "/api/v4/secrets/"+url.PathEscape(key)+"/versions", q, nil, &r)
}

// RollbackSecret writes a new version of a secret with the value of an older one.
func (c *Client) RollbackSecret(ctx context.Context, sc Scope, key, typ string, version int) (*Secret, error) {
	body := struct {
		Scope
		Type    string `json:"type,omitempty"`
		Version int    `json:"version"`
	}{sc, typ, version}
	var r struct {
		Secret Secret `json:"secret"`
	}
	return &r.Secret, c.Do(ctx, http.MethodPost, "/api/v4/secrets/"+url.PathEscape(key)+"/rollback", nil, body, &r)
}

// Folder is a folder of an environment.
type Folder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// ListFolders lists the folders directly inside a folder.
func (c *Client) ListFolders(ctx context.Context, sc Scope) ([]Folder, error) {
	q := url.Values{"workspaceId": {sc.ProjectID}, "environment": {sc.Environment}, "path": {sc.SecretPath}}
	var r struct {
		Folders []Folder `json:"folders"`
	}
	return r.Folders, c.Do(ctx, http.MethodGet, "/api/v1/folders", q, nil, &r)
}

// CreateFolder creates a folder (and missing parents) inside a folder; an existing one is
// returned as it is.
func (c *Client) CreateFolder(ctx context.Context, sc Scope, name string) (*Folder, error) {
	body := map[string]string{"workspaceId": sc.ProjectID, "environment": sc.Environment, "path": sc.SecretPath, "name": name}
	var r struct {
		Folder Folder `json:"folder"`
	}
	return &r.Folder, c.Do(ctx, http.MethodPost, "/api/v1/folders", nil, body, &r)
}

// DeleteFolder deletes a folder (by name or id) inside a folder, with everything in it.
func (c *Client) DeleteFolder(ctx context.Context, sc Scope, nameOrID string) (*Folder, error) {
	body := map[string]string{"workspaceId": sc.ProjectID, "environment": sc.Environment, "path": sc.SecretPath}
	var r struct {
		Folder Folder `json:"folder"`
	}
	return &r.Folder, c.Do(ctx, http.MethodDelete, "/api/v1/folders/"+url.PathEscape(nameOrID), nil, body, &r)
}
