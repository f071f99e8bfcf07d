package authz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cofferhq/coffer"
)

// Custom roles hold rules in the shape of Infisical's (CASL) project permissions:
//
//	{"subject": "secrets", "action": ["read", "edit"], "inverted": false,
//	 "conditions": {"environment": "dev", "secretPath": {"$glob": "/app/**"}}}
//
// A request is allowed when at least one allowing rule matches it and no denying (inverted)
// rule does: deny wins whatever the order of the rules (CASL lets a later rule override an
// earlier one; here the order never matters). Conditions apply to secrets, folders and
// imports only. An allowing rule with a condition never matches a check that names no
// environment or path; a denying rule with one does, so that a condition never widens access.

// subjectAliases maps the subjects a rule may name, Coffer's and Infisical's, to Coffer's.
var subjectAliases = map[string]Subject{
	"secrets": Secrets, "folders": Folders, "secret-folders": Folders, "imports": Imports,
	"secret-imports": Imports, "tags": Tags, "identities": Identities, "identity": Identities,
	"members": Members, "member": Members, "roles": Roles, "role": Roles, "settings": Settings,
	"audit-logs": AuditLogs,
}

// conditional lists the subjects whose rules may carry conditions.
var conditional = map[Subject]bool{Secrets: true, Folders: true, Imports: true}

// secretActions maps Infisical's finer secret actions to Coffer's. describeSecret (names
// without values) grants nothing here: Coffer never shows a secret's name without its value.
var secretActions = map[string]Action{"readValue": Read, "describeAndReadValue": Read, "describeSecret": ""}

// reservedRoleSlugs cannot name a custom role.
var reservedRoleSlugs = []string{coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember, coffer.RoleViewer, coffer.RoleNoAccess, "custom"}

// ValidateRoleSlug checks the slug of a custom role: a slug that no built-in role has.
func ValidateRoleSlug(field, slug string) error {
	if err := coffer.ValidateSlug(field, slug); err != nil {
		return err
	}
	if slices.Contains(reservedRoleSlugs, slug) {
		return coffer.Errorf(coffer.EVALIDATION, "%s: %q is the name of a built-in role", field, slug)
	}
	return nil
}

// ParsePermissions reads the permissions of a custom role from JSON, in Coffer's form or
// Infisical's (an action may be a string or a list; a condition a string, meaning $eq, or an
// object of the operators $eq, $ne, $glob and $in). It returns them normalized and validated,
// or EVALIDATION naming the first wrong field.
func ParsePermissions(raw json.RawMessage) ([]coffer.Permission, error) {
	var in []struct {
		Subject    string                     `json:"subject"`
		Action     json.RawMessage            `json:"action"`
		Inverted   bool                       `json:"inverted"`
		Conditions map[string]json.RawMessage `json:"conditions"`
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "permissions: required")
	}
	var quoted string
	if json.Unmarshal(raw, &quoted) == nil { // a JSON text in a string, as some clients send
		raw = json.RawMessage(quoted)
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, coffer.Errorf(coffer.EVALIDATION, "permissions: must be a list of {subject, action, conditions, inverted}")
	}
	if len(in) > coffer.MaxRolePermissions {
		return nil, coffer.Errorf(coffer.EVALIDATION, "permissions: at most %d rules", coffer.MaxRolePermissions)
	}
	out := make([]coffer.Permission, 0, len(in))
	for i, p := range in {
		field := fmt.Sprintf("permissions[%d]", i)
		var actions []string
		if err := json.Unmarshal(p.Action, &actions); err != nil {
			var one string
			if err := json.Unmarshal(p.Action, &one); err != nil {
				return nil, coffer.Errorf(coffer.EVALIDATION, "%s.action: must be an action or a list of actions", field)
			}
			actions = []string{one}
		}
		perm := coffer.Permission{Subject: p.Subject, Actions: actions, Inverted: p.Inverted}
		for k, v := range p.Conditions {
			c, err := parseCondition(field+".conditions."+k, v)
			if err != nil {
				return nil, err
			}
			switch k {
			case "environment":
				perm.Conditions.Environment = c
			case "secretPath":
				perm.Conditions.SecretPath = c
			default:
				return nil, coffer.Errorf(coffer.EVALIDATION, "%s.conditions: %q is not supported (environment and secretPath are)", field, k)
			}
		}
		if err := normalize(field, &perm); err != nil {
			return nil, err
		}
		out = append(out, perm)
	}
	return out, nil
}

// parseCondition reads "value" as {"$eq": value}, or an object of operators.
func parseCondition(field string, raw json.RawMessage) (coffer.Condition, error) {
	var c coffer.Condition
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		c.Eq = s
		return c, nil
	}
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return c, coffer.Errorf(coffer.EVALIDATION, "%s: must be a string or an object of $eq, $ne, $glob, $in", field)
	}
	for op, v := range ops {
		var err error
		switch op {
		case "$eq":
			err = json.Unmarshal(v, &c.Eq)
		case "$ne", "$neq":
			err = json.Unmarshal(v, &c.Neq)
		case "$glob":
			err = json.Unmarshal(v, &c.Glob)
		case "$in":
			err = json.Unmarshal(v, &c.In)
		default:
			return c, coffer.Errorf(coffer.EVALIDATION, "%s: operator %q is not supported ($eq, $ne, $glob, $in are)", field, op)
		}
		if err != nil {
			return c, coffer.Errorf(coffer.EVALIDATION, "%s.%s: wrong type", field, op)
		}
	}
	return c, nil
}

// normalize validates a permission and puts it in canonical form: Coffer's subject name,
// Coffer's actions deduplicated in a fixed order, paths without a trailing slash.
func normalize(field string, p *coffer.Permission) error {
	sub, ok := subjectAliases[p.Subject]
	if !ok {
		return coffer.Errorf(coffer.EVALIDATION, "%s.subject: %q is not supported; one of secrets, folders, imports, tags, identities, members, roles, settings, audit-logs", field, p.Subject)
	}
	p.Subject = string(sub)
	var got []Action
	for _, a := range p.Actions {
		act := Action(a)
		if m, ok := secretActions[a]; ok && sub == Secrets {
			act = m
		} else if !slices.Contains(allActions, act) {
			return coffer.Errorf(coffer.EVALIDATION, "%s.action: %q is not supported; one of read, create, edit, delete", field, a)
		}
		if act != "" && !slices.Contains(got, act) {
			got = append(got, act)
		}
	}
	if len(got) == 0 {
		return coffer.Errorf(coffer.EVALIDATION, "%s.action: at least one of read, create, edit, delete", field)
	}
	p.Actions = p.Actions[:0]
	for _, a := range allActions {
		if slices.Contains(got, a) {
			p.Actions = append(p.Actions, string(a))
		}
	}
	if sub == AuditLogs && (len(p.Actions) != 1 || p.Actions[0] != string(Read)) {
		return coffer.Errorf(coffer.EVALIDATION, "%s.action: audit-logs can only be read", field)
	}
	if p.Conditions.IsZero() {
		return nil
	}
	if !conditional[sub] {
		return coffer.Errorf(coffer.EVALIDATION, "%s.conditions: only rules on secrets, folders and imports take conditions", field)
	}
	if err := checkCondition(field+".conditions.environment", &p.Conditions.Environment, false); err != nil {
		return err
	}
	return checkCondition(field+".conditions.secretPath", &p.Conditions.SecretPath, true)
}

// checkCondition validates the values of a condition: environment slugs, or absolute paths
// (made canonical) for a secret path; globs must compile.
func checkCondition(field string, c *coffer.Condition, isPath bool) error {
	if len(c.In) > 100 {
		return coffer.Errorf(coffer.EVALIDATION, "%s.$in: at most 100 values", field)
	}
	check := func(op string, v *string, glob bool) error {
		if len(*v) > 512 {
			return coffer.Errorf(coffer.EVALIDATION, "%s.%s: at most 512 characters", field, op)
		}
		if !isPath {
			if glob {
				if _, err := compileGlob(*v); err != nil || strings.Trim(*v, "abcdefghijklmnopqrstuvwxyz0123456789-_*?") != "" {
					return coffer.Errorf(coffer.EVALIDATION, "%s.%s: %q is not an environment slug pattern", field, op, *v)
				}
				return nil
			}
			return coffer.ValidateSlug(field+"."+op, *v)
		}
		if !strings.HasPrefix(*v, "/") {
			return coffer.Errorf(coffer.EVALIDATION, "%s.%s: %q must be an absolute path starting with /", field, op, *v)
		}
		if len(*v) > 1 {
			*v = strings.TrimSuffix(*v, "/")
		}
		if glob {
			if _, err := compileGlob(*v); err != nil {
				return coffer.Errorf(coffer.EVALIDATION, "%s.%s: %q is not a valid glob", field, op, *v)
			}
		}
		return nil
	}
	for _, x := range []struct {
		op   string
		v    *string
		glob bool
	}{{"$eq", &c.Eq, false}, {"$ne", &c.Neq, false}, {"$glob", &c.Glob, true}} {
		if *x.v == "" {
			continue
		}
		if err := check(x.op, x.v, x.glob); err != nil {
			return err
		}
	}
	for i := range c.In {
		if err := check(fmt.Sprintf("$in[%d]", i), &c.In[i], false); err != nil {
			return err
		}
	}
	return nil
}

// compileGlob turns a glob into an anchored regular expression: "**" matches any characters
// including "/", "*" any characters but "/", "?" one character but "/". A trailing "/**"
// also matches the folder itself ("/app/**" matches "/app"), as in Infisical.
func compileGlob(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); {
		switch {
		case strings.HasPrefix(g[i:], "/**") && i+3 == len(g):
			b.WriteString("(/.*)?")
			i += 3
		case strings.HasPrefix(g[i:], "/**/"):
			b.WriteString("(/.*)?/")
			i += 4
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i += 2
		case g[i] == '*':
			b.WriteString("[^/]*")
			i++
		case g[i] == '?':
			b.WriteString("[^/]")
			i++
		default:
			b.WriteString(regexp.QuoteMeta(g[i : i+1]))
			i++
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// matcher is a compiled Condition; nil matches everything.
type matcher struct {
	eq, ne string
	glob   *regexp.Regexp
	in     []string
}

func compileCondition(c coffer.Condition) (*matcher, error) {
	if c.IsZero() {
		return nil, nil
	}
	m := &matcher{eq: c.Eq, ne: c.Neq, in: c.In}
	if c.Glob != "" {
		re, err := compileGlob(c.Glob)
		if err != nil {
			return nil, err
		}
		m.glob = re
	}
	return m, nil
}

// match reports whether v meets every operator of the condition.
func (m *matcher) match(v string) bool {
	return (m.eq == "" || v == m.eq) && (m.ne == "" || v != m.ne) &&
		(m.glob == nil || m.glob.MatchString(v)) && (len(m.in) == 0 || slices.Contains(m.in, v))
}

// applies reports whether a condition lets a rule apply to v: an unknown v ("") matches only
// for a denying rule.
func (m *matcher) applies(v string, deny bool) bool {
	if m == nil {
		return true
	}
	if v == "" {
		return deny
	}
	return m.match(v)
}

// rule is a compiled Permission.
type rule struct {
	subject   Subject
	actions   []Action
	deny      bool
	env, path *matcher
}

// Policy is the compiled rules of a custom role.
type Policy struct {
	rules []rule
}

// Compile compiles the (normalized) permissions of a custom role.
func Compile(perms []coffer.Permission) (*Policy, error) {
	p := &Policy{rules: make([]rule, 0, len(perms))}
	for i, perm := range perms {
		r := rule{subject: Subject(perm.Subject), deny: perm.Inverted}
		for _, a := range perm.Actions {
			r.actions = append(r.actions, Action(a))
		}
		var err error
		if r.env, err = compileCondition(perm.Conditions.Environment); err != nil {
			return nil, fmt.Errorf("permission %d: environment: %w", i, err)
		}
		if r.path, err = compileCondition(perm.Conditions.SecretPath); err != nil {
			return nil, fmt.Errorf("permission %d: secretPath: %w", i, err)
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// can reports whether the policy allows action on subject at env and path.
func (p *Policy) can(action Action, subject Subject, env, path string) bool {
	allowed := false
	for _, r := range p.rules {
		if r.subject != subject || !slices.Contains(r.actions, action) {
			continue
		}
		if !r.env.applies(env, r.deny) || !r.path.applies(path, r.deny) {
			continue
		}
		if r.deny {
			return false
		}
		allowed = true
	}
	return allowed
}

// unconditional reports whether the policy allows action on subject everywhere: an allowing
// rule without conditions and no denying rule at all for them.
func (p *Policy) unconditional(action Action, subject Subject) bool {
	allowed := false
	for _, r := range p.rules {
		if r.subject != subject || !slices.Contains(r.actions, action) {
			continue
		}
		if r.deny {
			return false
		}
		if r.env == nil && r.path == nil {
			allowed = true
		}
	}
	return allowed
}

// rights lists every (subject, action) a policy allows somewhere.
func (p *Policy) rights(yield func(Subject, Action) bool) {
	for _, r := range p.rules {
		if r.deny {
			continue
		}
		for _, a := range r.actions {
			if !yield(r.subject, a) {
				return
			}
		}
	}
}
