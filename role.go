package coffer

import "time"

// Audit actions of custom project roles.
const (
	ActionRoleCreate = "role.create"
	ActionRoleUpdate = "role.update"
	ActionRoleDelete = "role.delete"
)

// MaxRolePermissions bounds the rules of one custom role.
const MaxRolePermissions = 200

// ProjectRole is a custom role of a project: a named set of permission rules that memberships
// of the project can hold by its slug, as they hold a built-in role (admin, member, viewer,
// no-access). The slug never equals a built-in role's name.
type ProjectRole struct {
	ID          string
	ProjectID   string
	Slug        string
	Name        string
	Description string
	Permissions []Permission
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Permission is one rule of a custom role: it allows (or, Inverted, denies) Actions on a
// Subject, optionally only where Conditions hold. Subjects and actions are those of
// internal/authz; the conditions name the environment and the secret path.
type Permission struct {
	Subject    string     `json:"subject"`
	Actions    []string   `json:"action"`
	Inverted   bool       `json:"inverted,omitempty"`
	Conditions Conditions `json:"conditions,omitzero"`
}

// Conditions narrow a permission to environments and secret paths. An empty field matches
// everything.
type Conditions struct {
	Environment Condition `json:"environment,omitzero"`
	SecretPath  Condition `json:"secretPath,omitzero"`
}

// IsZero reports whether c holds no condition.
func (c Conditions) IsZero() bool { return c.Environment.IsZero() && c.SecretPath.IsZero() }

// Condition is a test on one value, in the operators of Infisical's permission conditions: all
// the operators given must hold.
type Condition struct {
	Eq   string   `json:"$eq,omitempty"`
	Neq  string   `json:"$ne,omitempty"`
	Glob string   `json:"$glob,omitempty"`
	In   []string `json:"$in,omitempty"`
}

// IsZero reports whether c tests nothing.
func (c Condition) IsZero() bool { return c.Eq == "" && c.Neq == "" && c.Glob == "" && len(c.In) == 0 }
