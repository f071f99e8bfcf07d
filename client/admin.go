package client

import (
	"context"
	"net/http"
	"net/url"
)

// PasswordLogin exchanges a user's e-mail and password for a token.
func (c *Client) PasswordLogin(ctx context.Context, email, password string) (*Token, error) {
	var t Token
	return &t, c.Do(ctx, http.MethodPost, "/api/v1/auth/password/login", nil, map[string]string{"email": email, "password": password}, &t)
}

// Me describes who a token stands for.
type Me struct {
	Kind       string `json:"kind"` // user or identity
	ID         string `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	OrgID      string `json:"orgId"`
	AuthMethod string `json:"authMethod"`
	ExpiresIn  int    `json:"expiresIn"` // seconds; 0 = never
}

// Whoami asks the server who the client's token stands for.
func (c *Client) Whoami(ctx context.Context) (*Me, error) {
	var r struct {
		Me Me `json:"me"`
	}
	return &r.Me, c.Do(ctx, http.MethodGet, "/api/v1/auth/me", nil, nil, &r)
}

// RevokeToken revokes a token (the client's own when token is empty).
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	if token == "" {
		token = c.token
	}
	return c.Do(ctx, http.MethodPost, "/api/v1/auth/token/revoke", nil, map[string]string{"accessToken": token}, nil)
}

// Environment is an environment of a project.
type Environment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Project is a project with its environments.
type Project struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Slug         string        `json:"slug"`
	OrgID        string        `json:"orgId"`
	Environments []Environment `json:"environments"`
}

// ListProjects lists the projects the token can see.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	var r struct {
		Projects []Project `json:"projects"`
	}
	return r.Projects, c.Do(ctx, http.MethodGet, "/api/v1/projects", nil, nil, &r)
}

// GetProject reads a project.
func (c *Client) GetProject(ctx context.Context, id string) (*Project, error) {
	var r struct {
		Project Project `json:"project"`
	}
	return &r.Project, c.Do(ctx, http.MethodGet, "/api/v1/projects/"+url.PathEscape(id), nil, nil, &r)
}

// CreateProject creates a project (slug optional) with the default environments.
func (c *Client) CreateProject(ctx context.Context, name, slug string) (*Project, error) {
	var r struct {
		Project Project `json:"project"`
	}
	return &r.Project, c.Do(ctx, http.MethodPost, "/api/v2/workspace", nil, map[string]string{"projectName": name, "slug": slug}, &r)
}

// Identity is a machine identity.
type Identity struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	OrgID       string   `json:"orgId"`
	AuthMethods []string `json:"authMethods"`
}

// CreateIdentity creates a machine identity in an organization with an organization role.
func (c *Client) CreateIdentity(ctx context.Context, orgID, name, role string) (*Identity, error) {
	var r struct {
		Identity Identity `json:"identity"`
	}
	body := map[string]string{"organizationId": orgID, "name": name, "role": role}
	return &r.Identity, c.Do(ctx, http.MethodPost, "/api/v1/identities", nil, body, &r)
}

// UniversalAuth is an identity's universal-auth configuration.
type UniversalAuth struct {
	ID                string `json:"id"`
	ClientID          string `json:"clientId"`
	AccessTokenTTL    int    `json:"accessTokenTTL"`
	AccessTokenMaxTTL int    `json:"accessTokenMaxTTL"`
}

// AttachUniversalAuth gives an identity universal auth with default settings.
func (c *Client) AttachUniversalAuth(ctx context.Context, identityID string) (*UniversalAuth, error) {
	var r struct {
		UA UniversalAuth `json:"identityUniversalAuth"`
	}
	return &r.UA, c.Do(ctx, http.MethodPost, "/api/v1/auth/universal-auth/identities/"+url.PathEscape(identityID), nil, map[string]any{}, &r)
}

// GetUniversalAuth reads an identity's universal-auth configuration.
func (c *Client) GetUniversalAuth(ctx context.Context, identityID string) (*UniversalAuth, error) {
	var r struct {
		UA UniversalAuth `json:"identityUniversalAuth"`
	}
	return &r.UA, c.Do(ctx, http.MethodGet, "/api/v1/auth/universal-auth/identities/"+url.PathEscape(identityID), nil, nil, &r)
}

// ClientSecret is a created client secret: Secret is shown only once.
type ClientSecret struct {
	Secret string
	ID     string `json:"id"`
	Prefix string `json:"clientSecretPrefix"`
}

// CreateClientSecret makes a client secret for an identity with universal auth.
func (c *Client) CreateClientSecret(ctx context.Context, identityID, description string, numUsesLimit, ttl int) (*ClientSecret, error) {
	var r struct {
		ClientSecret string       `json:"clientSecret"`
		Data         ClientSecret `json:"clientSecretData"`
	}
	body := map[string]any{"description": description, "numUsesLimit": numUsesLimit, "ttl": ttl}
	err := c.Do(ctx, http.MethodPost, "/api/v1/auth/universal-auth/identities/"+url.PathEscape(identityID)+"/client-secrets", nil, body, &r)
	r.Data.Secret = r.ClientSecret
	return &r.Data, err
}

// SetIdentityMembership gives an identity a role in a project.
func (c *Client) SetIdentityMembership(ctx context.Context, projectID, identityID, role string) error {
	return c.Do(ctx, http.MethodPost, "/api/v2/workspace/"+url.PathEscape(projectID)+"/identity-memberships/"+url.PathEscape(identityID), nil,
		map[string]string{"role": role}, nil)
}
