// Package authz decides what an actor may do in a project. Services call it before every read
// and write; handlers never decide access themselves. It grants nothing by default: an actor
// without a membership in the project, or in another organization, gets nothing.
package authz

import (
	"context"
	"fmt"
	"slices"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/store"
)

// Action is what is done to a subject.
type Action string

// Actions.
const (
	Read   Action = "read"
	Create Action = "create"
	Edit   Action = "edit"
	Delete Action = "delete"
)

// Subject is a kind of thing in a project.
type Subject string

// Subjects.
const (
	Secrets    Subject = "secrets"
	Folders    Subject = "folders"
	Imports    Subject = "imports"
	Tags       Subject = "tags"
	Identities Subject = "identities"
	Members    Subject = "members"
	Roles      Subject = "roles" // custom project roles
	Settings   Subject = "settings"
	AuditLogs  Subject = "audit-logs" // read only; project admins
)

// allActions is every action.
var allActions = []Action{Read, Create, Edit, Delete}

// roleRules lists what each built-in project role may do.
var roleRules = map[string]map[Subject][]Action{
	coffer.RoleAdmin: {
		Secrets: allActions, Folders: allActions, Imports: allActions, Tags: allActions,
		Identities: allActions, Members: allActions, Roles: allActions, Settings: allActions, AuditLogs: {Read},
	},
	coffer.RoleMember: {
		Secrets: allActions, Folders: allActions, Imports: allActions, Tags: allActions,
		Identities: {Read}, Members: {Read}, Roles: {Read}, Settings: {Read},
	},
	coffer.RoleViewer: {
		Secrets: {Read}, Folders: {Read}, Imports: {Read}, Tags: {Read},
		Identities: {Read}, Members: {Read}, Roles: {Read}, Settings: {Read},
	},
	coffer.RoleNoAccess: {},
}

// ValidProjectRole reports whether role is a built-in project role.
func ValidProjectRole(role string) bool {
	_, ok := roleRules[role]
	return ok
}

// Grant is what one actor may do in one project, resolved once per request.
type Grant struct {
	Actor   *coffer.Actor
	Project *coffer.Project
	// Role is the name of a built-in role or the slug of a custom role.
	Role string
	// RoleID is the custom role's id; "" for a built-in role.
	RoleID string
	rules  map[Subject][]Action // a built-in role's
	policy *Policy              // a custom role's
}

// Can reports whether the grant allows action on subject in an environment (slug) and secret
// path. Built-in roles apply to every environment and path; custom roles may narrow them (see
// rules.go). env and path are "" for subjects of the whole project.
func (g *Grant) Can(action Action, subject Subject, env, path string) bool {
	if g.policy != nil {
		return g.policy.can(action, subject, env, path)
	}
	for _, a := range g.rules[subject] {
		if a == action {
			return true
		}
	}
	return false
}

// Key names the rules of the grant uniquely, for caches of what a grant may see: a built-in
// role's name, or "custom:" and a custom role's id (a change of the role's rules moves the
// project's revision, which such caches are filed under).
func (g *Grant) Key() string {
	if g.RoleID != "" {
		return "custom:" + g.RoleID
	}
	return g.Role
}

// unconditional reports whether the grant allows action on subject everywhere, with no
// condition and no denying rule.
func (g *Grant) unconditional(action Action, subject Subject) bool {
	if g.policy != nil {
		return g.policy.unconditional(action, subject)
	}
	return slices.Contains(g.rules[subject], action)
}

// CanConfer reports whether the grant may give a role (a built-in name, or a custom role's
// compiled policy) to someone, or write those rules into a role: only when it holds every
// right the role allows, everywhere, itself. So no one raises anyone, themselves included,
// above their own rights; a project admin may confer anything.
func (g *Grant) CanConfer(role string, p *Policy) bool {
	ok := true
	if p != nil {
		p.rights(func(s Subject, a Action) bool {
			ok = g.unconditional(a, s)
			return ok
		})
		return ok
	}
	for s, acts := range roleRules[role] {
		for _, a := range acts {
			if !g.unconditional(a, s) {
				return false
			}
		}
	}
	return true
}

// RequireConfer returns EFORBIDDEN unless CanConfer.
func (g *Grant) RequireConfer(role string, p *Policy) error {
	if g.CanConfer(role, p) {
		return nil
	}
	return coffer.Errorf(coffer.EFORBIDDEN, "you cannot give role %s: it allows more than you may do yourself", role)
}

// Require returns EFORBIDDEN unless the grant allows action on subject at env and path.
func (g *Grant) Require(action Action, subject Subject, env, path string) error {
	if g.Can(action, subject, env, path) {
		return nil
	}
	if env != "" {
		return coffer.Errorf(coffer.EFORBIDDEN, "you are not allowed to %s %s in environment %s at path %s", action, subject, env, path)
	}
	return coffer.Errorf(coffer.EFORBIDDEN, "you are not allowed to %s %s in this project", action, subject)
}

// Authorizer resolves grants from memberships.
type Authorizer struct {
	DB *store.DB
	// Cache, when set, keeps each actor's role in a project until the project's or its
	// organization's revision moves (see internal/cache).
	Cache *cache.Cache
}

// cachedRole is what Project caches per actor and project: the outcome of resolving the grant.
type cachedRole struct {
	project *coffer.Project
	role    string
	roleID  string
	policy  *Policy
	err     error
}

// Project loads a project and the grant of the request's actor in it. A project of another
// organization, or one the actor has no role in at all, is reported as not found so that its
// existence does not leak.
func (a *Authorizer) Project(ctx context.Context, projectID string) (*Grant, error) {
	actor := coffer.ActorFromContext(ctx)
	if actor == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	if !a.Cache.Enabled() {
		return a.projectGrant(ctx, actor, projectID)
	}
	pe, err := a.Cache.Project(ctx, projectID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "project %s not found", projectID)
	} else if err != nil {
		return nil, err
	}
	key := "role\x00" + string(actor.Kind) + "\x00" + actor.ID + "\x00" + actor.OrgID
	if v, ok := pe.Get(key); ok {
		c := v.(*cachedRole)
		if c.err != nil {
			return nil, c.err
		}
		return &Grant{Actor: actor, Project: c.project, Role: c.role, RoleID: c.roleID, rules: roleRules[c.role], policy: c.policy}, nil
	}
	// Read from the primary: what is cached must be no older than the revisions it is filed
	// under, which were read from the primary.
	g, err := a.projectGrant(store.Primary(ctx), actor, projectID)
	if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN && coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return nil, err // not an outcome: nothing to cache
	}
	c := &cachedRole{err: err}
	if g != nil {
		c.project, c.role, c.roleID, c.policy = g.Project, g.Role, g.RoleID, g.policy
	}
	a.Cache.Put(pe, key, c, 256+int64(len(key)))
	return g, err
}

// projectGrant is Project without the cache.
func (a *Authorizer) projectGrant(ctx context.Context, actor *coffer.Actor, projectID string) (*Grant, error) {
	p, err := a.DB.FindProject(ctx, projectID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "project %s not found", projectID)
	} else if err != nil {
		return nil, err
	}
	return a.grant(ctx, actor, p)
}

// ProjectBySlug is Project for a project of the actor's organization named by slug.
func (a *Authorizer) ProjectBySlug(ctx context.Context, slug string) (*Grant, error) {
	actor := coffer.ActorFromContext(ctx)
	if actor == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	p, err := a.DB.FindProjectBySlug(ctx, actor.OrgID, slug)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "project with slug %s not found", slug)
	} else if err != nil {
		return nil, err
	}
	return a.grant(ctx, actor, p)
}

func (a *Authorizer) grant(ctx context.Context, actor *coffer.Actor, p *coffer.Project) (*Grant, error) {
	if p.OrgID != actor.OrgID {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "project %s not found", p.ID)
	}
	role, err := a.projectRole(ctx, actor, p)
	if err != nil {
		return nil, err
	}
	if role == "" || role == coffer.RoleNoAccess {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of project %s", p.ID)
	}
	if ValidProjectRole(role) {
		return &Grant{Actor: actor, Project: p, Role: role, rules: roleRules[role]}, nil
	}
	cr, err := a.DB.FindProjectRoleBySlug(ctx, p.ID, role)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		// A membership naming a role that is gone grants nothing (roles in use are not
		// deleted, but a slug could be stale in a race).
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of project %s", p.ID)
	} else if err != nil {
		return nil, err
	}
	pol, err := Compile(cr.Permissions)
	if err != nil {
		return nil, fmt.Errorf("role %s of project %s: %w", cr.ID, p.ID, err)
	}
	return &Grant{Actor: actor, Project: p, Role: cr.Slug, RoleID: cr.ID, policy: pol}, nil
}

// projectRole is the actor's role in the project: organization owners and admins are admins
// of every project of their organization; anyone else, whatever their organization role
// (identities are usually "no-access" there), has the role of their project membership.
func (a *Authorizer) projectRole(ctx context.Context, actor *coffer.Actor, p *coffer.Project) (string, error) {
	orgRole, err := a.OrgRole(ctx, actor)
	if err != nil {
		return "", err
	}
	switch orgRole {
	case coffer.RoleOwner, coffer.RoleAdmin:
		return coffer.RoleAdmin, nil
	case "":
		return "", nil // not in the organization at all
	}
	m, err := a.DB.FindMembership(ctx, store.ScopeProject, p.ID, actor.Kind, actor.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return m.Role, nil
}

// OrgRole returns the actor's role in its organization, or "" when it has none.
func (a *Authorizer) OrgRole(ctx context.Context, actor *coffer.Actor) (string, error) {
	m, err := a.DB.FindMembership(ctx, store.ScopeOrg, actor.OrgID, actor.Kind, actor.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return m.Role, nil
}

// RequireOrgAdmin returns EFORBIDDEN unless the actor is an owner or admin of orgID.
func (a *Authorizer) RequireOrgAdmin(ctx context.Context, orgID string) (*coffer.Actor, error) {
	actor := coffer.ActorFromContext(ctx)
	if actor == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	if orgID != "" && orgID != actor.OrgID {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of organization %s", orgID)
	}
	role, err := a.OrgRole(ctx, actor)
	if err != nil {
		return nil, err
	}
	if role != coffer.RoleOwner && role != coffer.RoleAdmin {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "only organization admins may do this")
	}
	return actor, nil
}
