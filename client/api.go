package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Status is the answer of GET /api/status.
type Status struct {
	Date            string `json:"date"`
	Message         string `json:"message"`
	EmailConfigured bool   `json:"emailConfigured"`
	RedisConfigured bool   `json:"redisConfigured"`
}

// Status asks the server whether it is up.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.Do(ctx, http.MethodGet, "/api/status", nil, nil, &s)
}

// BootstrapResult is what POST /api/v1/admin/bootstrap creates.
type BootstrapResult struct {
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

// Bootstrap sets up a fresh instance: the first admin user, an organization and an admin
// identity whose token is in the result. It works once per instance.
func (c *Client) Bootstrap(ctx context.Context, email, password, organization string) (*BootstrapResult, error) {
	var r BootstrapResult
	body := map[string]string{"email": email, "password": password, "organization": organization}
	return &r, c.Do(ctx, http.MethodPost, "/api/v1/admin/bootstrap", nil, body, &r)
}

// Token is an access token issued by a login.
type Token struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int    `json:"expiresIn"`
	AccessTokenMaxTTL int    `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

// UniversalAuthLogin exchanges a machine identity's client id and secret for a token.
func (c *Client) UniversalAuthLogin(ctx context.Context, clientID, clientSecret string) (*Token, error) {
	var t Token
	body := map[string]string{"clientId": clientID, "clientSecret": clientSecret}
	return &t, c.Do(ctx, http.MethodPost, "/api/v1/auth/universal-auth/login", nil, body, &t)
}

// Secret is a secret as the API returns it.
type Secret struct {
	ID                    string `json:"id"`
	Workspace             string `json:"workspace"`
	Environment           string `json:"environment"`
	Version               int    `json:"version"`
	Type                  string `json:"type"`
	SecretKey             string `json:"secretKey"`
	SecretValue           string `json:"secretValue"`
	SecretComment         string `json:"secretComment"`
	SecretPath            string `json:"secretPath"`
	SkipMultilineEncoding bool   `json:"skipMultilineEncoding"`
	Tags                  []struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	} `json:"tags"`
}

// Import is the block of secrets one secret import brings.
type Import struct {
	SecretPath  string   `json:"secretPath"`
	Environment string   `json:"environment"`
	FolderID    string   `json:"folderId"`
	Secrets     []Secret `json:"secrets"`
}

// Secrets is the answer of a secret listing.
type Secrets struct {
	Secrets []Secret `json:"secrets"`
	Imports []Import `json:"imports"`
}

// ListSecretsInput selects the secrets of a folder.
type ListSecretsInput struct {
	ProjectID         string
	Environment       string
	SecretPath        string
	Recursive         bool
	Expand            bool
	IncludeImports    bool
	PersonalOverrides bool
	TagSlugs          []string // only secrets with one of these tags (all when empty)
}

// ListSecrets lists the secrets of a folder through GET /api/v4/secrets.
func (c *Client) ListSecrets(ctx context.Context, in ListSecretsInput) (*Secrets, error) {
	q := url.Values{
		"projectId": {in.ProjectID}, "environment": {in.Environment}, "secretPath": {in.SecretPath},
		"recursive": {strconv.FormatBool(in.Recursive)}, "expandSecretReferences": {strconv.FormatBool(in.Expand)},
		"includeImports": {strconv.FormatBool(in.IncludeImports)}, "includePersonalOverrides": {strconv.FormatBool(in.PersonalOverrides)},
	}
	if len(in.TagSlugs) > 0 {
		q.Set("tagSlugs", strings.Join(in.TagSlugs, ","))
	}
	var s Secrets
	return &s, c.Do(ctx, http.MethodGet, "/api/v4/secrets", q, nil, &s)
}
