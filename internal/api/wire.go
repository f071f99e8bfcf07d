package api

import (
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/secrets"
)

// The JSON shapes of Infisical's API. Field names and nesting are the wire contract; every
// slice is non-nil so that clients see [] rather than null.

// isoTime formats times as JavaScript's Date.toJSON does: milliseconds and Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type wireTag struct {
	ID        string `json:"id"`
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Color     string `json:"color"`
	ProjectID string `json:"projectId,omitempty"`
	CreatedAt string `json:"createdAt,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

func toTag(t *coffer.Tag, full bool) wireTag {
	w := wireTag{ID: t.ID, Slug: t.Slug, Name: t.Name, Color: t.Color}
	if full {
		w.ProjectID, w.CreatedAt, w.UpdatedAt = t.ProjectID, isoTime(t.CreatedAt), isoTime(t.UpdatedAt)
	}
	return w
}

type wireMetadata struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	IsEncrypted bool   `json:"isEncrypted"`
}

type wireSecret struct {
	ID                       string         `json:"id"`
	UnderscoreID             string         `json:"_id"`
	Workspace                string         `json:"workspace"`
	Environment              string         `json:"environment"`
	Version                  int            `json:"version"`
	Type                     string         `json:"type"`
	SecretKey                string         `json:"secretKey"`
	SecretValue              string         `json:"secretValue"`
	SecretComment            string         `json:"secretComment"`
	SecretReminderNote       *string        `json:"secretReminderNote"`
	SecretReminderRepeatDays *int           `json:"secretReminderRepeatDays"`
	SkipMultilineEncoding    bool           `json:"skipMultilineEncoding"`
	CreatedAt                string         `json:"createdAt"`
	UpdatedAt                string         `json:"updatedAt"`
	SecretPath               string         `json:"secretPath"`
	SecretValueHidden        bool           `json:"secretValueHidden"`
	SecretMetadata           []wireMetadata `json:"secretMetadata"`
	Tags                     []wireTag      `json:"tags"`
}

func toSecret(s *coffer.Secret) wireSecret {
	w := wireSecret{
		ID: s.ID, UnderscoreID: s.ID, Workspace: s.ProjectID, Environment: s.Environment, Version: s.Version,
		Type: string(s.Type), SecretKey: s.Key, SecretValue: s.Value.Reveal(), SecretComment: s.Comment.Reveal(),
		SkipMultilineEncoding: s.SkipMultilineEncoding, CreatedAt: isoTime(s.CreatedAt), UpdatedAt: isoTime(s.UpdatedAt),
		SecretPath: s.Path, SecretMetadata: make([]wireMetadata, len(s.Metadata)), Tags: make([]wireTag, len(s.Tags)),
	}
	if s.ReminderNote != "" {
		w.SecretReminderNote = &s.ReminderNote
	}
	if s.ReminderRepeatDays != 0 {
		w.SecretReminderRepeatDays = &s.ReminderRepeatDays
	}
	for i, m := range s.Metadata {
		w.SecretMetadata[i] = wireMetadata{Key: m.Key, Value: m.Value}
	}
	for i := range s.Tags {
		w.Tags[i] = toTag(&s.Tags[i], false)
	}
	return w
}

func toSecrets(in []*coffer.Secret) []wireSecret {
	out := make([]wireSecret, len(in))
	for i, s := range in {
		out[i] = toSecret(s)
	}
	return out
}

type wireImportBlock struct {
	SecretPath  string       `json:"secretPath"`
	Environment string       `json:"environment"`
	FolderID    string       `json:"folderId"`
	Secrets     []wireSecret `json:"secrets"`
}

type wireListing struct {
	Secrets []wireSecret      `json:"secrets"`
	Imports []wireImportBlock `json:"imports"`
}

func toListing(l *secrets.Listing) wireListing {
	w := wireListing{Secrets: toSecrets(l.Secrets), Imports: make([]wireImportBlock, len(l.Imports))}
	for i, b := range l.Imports {
		w.Imports[i] = wireImportBlock{SecretPath: b.Path, Environment: b.Environment, FolderID: b.FolderID, Secrets: toSecrets(b.Secrets)}
	}
	return w
}

type wireFolder struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Version   int     `json:"version"`
	EnvID     string  `json:"envId"`
	ParentID  *string `json:"parentId"`
	Path      string  `json:"path"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
}

func toFolder(f *coffer.Folder) wireFolder {
	w := wireFolder{ID: f.ID, Name: f.Name, Version: f.Version, EnvID: f.EnvironmentID, Path: f.Path,
		CreatedAt: isoTime(f.CreatedAt), UpdatedAt: isoTime(f.UpdatedAt)}
	if f.ParentID != "" {
		w.ParentID = &f.ParentID
	}
	return w
}

type wireEnvShort struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	ID   string `json:"id"`
}

type wireImport struct {
	ID            string       `json:"id"`
	Version       int          `json:"version"`
	ImportPath    string       `json:"importPath"`
	ImportEnv     wireEnvShort `json:"importEnv"`
	Position      int          `json:"position"`
	FolderID      string       `json:"folderId"`
	IsReplication bool         `json:"isReplication"`
	CreatedAt     string       `json:"createdAt"`
	UpdatedAt     string       `json:"updatedAt"`
}

func toImport(i *coffer.SecretImport) wireImport {
	return wireImport{ID: i.ID, Version: 1, ImportPath: i.ImportPath, Position: i.Position, FolderID: i.FolderID,
		ImportEnv: wireEnvShort{Name: i.ImportEnv.Name, Slug: i.ImportEnv.Slug, ID: i.ImportEnv.ID},
		CreatedAt: isoTime(i.CreatedAt), UpdatedAt: isoTime(i.UpdatedAt)}
}

type wireProject struct {
	ID                 string         `json:"id"`
	UnderscoreID       string         `json:"_id"`
	Name               string         `json:"name"`
	Slug               string         `json:"slug"`
	OrgID              string         `json:"orgId"`
	Description        *string        `json:"description"`
	Type               string         `json:"type"`
	AutoCapitalization bool           `json:"autoCapitalization"`
	Version            int            `json:"version"`
	CreatedAt          string         `json:"createdAt"`
	UpdatedAt          string         `json:"updatedAt"`
	Environments       []wireEnvShort `json:"environments"`
}

func toProject(p *coffer.Project) wireProject {
	w := wireProject{ID: p.ID, UnderscoreID: p.ID, Name: p.Name, Slug: p.Slug, OrgID: p.OrgID, Type: "secret-manager", Version: 3,
		CreatedAt: isoTime(p.CreatedAt), UpdatedAt: isoTime(p.UpdatedAt), Environments: make([]wireEnvShort, len(p.Environments))}
	for i, e := range p.Environments {
		w.Environments[i] = wireEnvShort{Name: e.Name, Slug: e.Slug, ID: e.ID}
	}
	return w
}

type wireEnvironment struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Slug      string `json:"slug"`
	Position  int    `json:"position"`
	ProjectID string `json:"projectId"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toEnvironment(e *coffer.Environment) wireEnvironment {
	return wireEnvironment{ID: e.ID, Name: e.Name, Slug: e.Slug, Position: e.Position, ProjectID: e.ProjectID,
		CreatedAt: isoTime(e.CreatedAt), UpdatedAt: isoTime(e.UpdatedAt)}
}

type wireIdentity struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	OrgID       string   `json:"orgId"`
	Role        string   `json:"role,omitempty"`
	AuthMethods []string `json:"authMethods"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`
}

func toIdentity(i *coffer.Identity) wireIdentity {
	m := i.AuthMethods
	if m == nil {
		m = []string{}
	}
	return wireIdentity{ID: i.ID, Name: i.Name, OrgID: i.OrgID, Role: i.OrgRole, AuthMethods: m, CreatedAt: isoTime(i.CreatedAt), UpdatedAt: isoTime(i.UpdatedAt)}
}

type wireUniversalAuth struct {
	ID                      string             `json:"id"`
	ClientID                string             `json:"clientId"`
	IdentityID              string             `json:"identityId"`
	AccessTokenTTL          int                `json:"accessTokenTTL"`
	AccessTokenMaxTTL       int                `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit int                `json:"accessTokenNumUsesLimit"`
	ClientSecretTrustedIPs  []coffer.TrustedIP `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs   []coffer.TrustedIP `json:"accessTokenTrustedIps"`
	TrustedVPCEndpointIDs   []string           `json:"trustedVpcEndpointIds"` // Coffer's own; [] means any
	CreatedAt               string             `json:"createdAt"`
	UpdatedAt               string             `json:"updatedAt"`
}

func toUniversalAuth(u *coffer.UniversalAuth) wireUniversalAuth {
	return wireUniversalAuth{ID: u.ID, ClientID: u.ClientID, IdentityID: u.IdentityID, AccessTokenTTL: u.AccessTokenTTL,
		AccessTokenMaxTTL: u.AccessTokenMaxTTL, AccessTokenNumUsesLimit: u.AccessTokenNumUsesLimit,
		ClientSecretTrustedIPs: u.ClientSecretTrustedIPs, AccessTokenTrustedIPs: u.AccessTokenTrustedIPs,
		TrustedVPCEndpointIDs: append([]string{}, u.TrustedVPCEndpointIDs...),
		CreatedAt:             isoTime(u.CreatedAt), UpdatedAt: isoTime(u.UpdatedAt)}
}

type wireClientSecret struct {
	ID                       string `json:"id"`
	Description              string `json:"description"`
	ClientSecretPrefix       string `json:"clientSecretPrefix"`
	ClientSecretNumUses      int    `json:"clientSecretNumUses"`
	ClientSecretNumUsesLimit int    `json:"clientSecretNumUsesLimit"`
	ClientSecretTTL          int    `json:"clientSecretTTL"`
	IdentityID               string `json:"identityId"`
	IsClientSecretRevoked    bool   `json:"isClientSecretRevoked"`
	CreatedAt                string `json:"createdAt"`
	UpdatedAt                string `json:"updatedAt"`
}

func toClientSecret(c *coffer.ClientSecret) wireClientSecret {
	return wireClientSecret{ID: c.ID, Description: c.Description, ClientSecretPrefix: c.Prefix, ClientSecretNumUses: c.NumUses,
		ClientSecretNumUsesLimit: c.NumUsesLimit, ClientSecretTTL: c.TTL, IdentityID: c.IdentityID, IsClientSecretRevoked: c.Revoked,
		CreatedAt: isoTime(c.CreatedAt), UpdatedAt: isoTime(c.UpdatedAt)}
}

type wireMembership struct {
	ID         string     `json:"id"`
	ProjectID  string     `json:"projectId"`
	IdentityID string     `json:"identityId"`
	Roles      []wireRole `json:"roles"`
	CreatedAt  string     `json:"createdAt"`
	UpdatedAt  string     `json:"updatedAt"`
}

type wireRole struct {
	ID          string `json:"id"`
	Role        string `json:"role"`
	IsTemporary bool   `json:"isTemporary"`
	// CustomRoleSlug names the custom role when Role is "custom", as Infisical answers.
	CustomRoleSlug string `json:"customRoleSlug,omitempty"`
}

func toMembership(m *coffer.Membership) wireMembership {
	role := wireRole{ID: m.ID, Role: m.Role}
	if !authz.ValidProjectRole(m.Role) {
		role.Role, role.CustomRoleSlug = "custom", m.Role
	}
	return wireMembership{ID: m.ID, ProjectID: m.ScopeID, IdentityID: m.ActorID, Roles: []wireRole{role},
		CreatedAt: isoTime(m.CreatedAt), UpdatedAt: isoTime(m.UpdatedAt)}
}
