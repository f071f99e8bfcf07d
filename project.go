package coffer

import "time"

// Organization owns projects, identities and members.
type Organization struct {
	ID        string
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Project is a workspace of secrets with its own data key and environments.
type Project struct {
	ID           string
	OrgID        string
	Name         string
	Slug         string
	Environments []Environment
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Environment returns the project's environment with the given slug.
func (p *Project) Environment(slug string) (Environment, bool) {
	for _, e := range p.Environments {
		if e.Slug == slug {
			return e, true
		}
	}
	return Environment{}, false
}

// DefaultEnvironments returns the environments created with every new project, as a fresh
// slice the caller may fill in.
func DefaultEnvironments() []Environment {
	return []Environment{
		{Name: "Development", Slug: "dev", Position: 1},
		{Name: "Staging", Slug: "staging", Position: 2},
		{Name: "Production", Slug: "prod", Position: 3},
	}
}

// Environment is a stage of a project (dev, staging, prod, ...). Each has a root folder "/".
type Environment struct {
	ID        string
	ProjectID string
	Name      string
	Slug      string
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Folder is a node of an environment's secret tree. The root folder has Path "/" and no parent.
type Folder struct {
	ID            string
	EnvironmentID string
	ParentID      string
	Name          string
	Path          string
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Tag labels secrets of a project.
type Tag struct {
	ID        string
	ProjectID string
	Slug      string
	Name      string
	Color     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretImport makes the secrets of another environment/path visible in a folder. Imports of a
// folder are ordered by Position; later imports win over earlier ones, and the folder's own
// secrets win over all of them.
type SecretImport struct {
	ID            string
	FolderID      string
	EnvironmentID string
	ImportEnv     Environment
	ImportPath    string
	Position      int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
