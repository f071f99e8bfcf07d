package authz

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
)

func TestCompileGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		glob string
		yes  []string
		no   []string
	}{
		{"/app/**", []string{"/app", "/app/x", "/app/x/y"}, []string{"/", "/apple", "/ap", "/other/app"}},
		{"/app/*", []string{"/app/x", "/app/"}, []string{"/app", "/app/x/y", "/apps/x"}},
		{"/**", []string{"/", "/a", "/a/b/c"}, nil},
		{"/a/**/z", []string{"/a/z", "/a/b/z", "/a/b/c/z"}, []string{"/a/b", "/az", "/a/z/y"}},
		{"/svc-?", []string{"/svc-1"}, []string{"/svc-12", "/svc-/"}},
		{"/a.b", []string{"/a.b"}, []string{"/axb"}},
		{"dev*", []string{"dev", "dev-eu"}, []string{"prod", "xdev"}},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.glob)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tt.glob, err)
		}
		for _, s := range tt.yes {
			if !re.MatchString(s) {
				t.Errorf("%q does not match %q, want a match", tt.glob, s)
			}
		}
		for _, s := range tt.no {
			if re.MatchString(s) {
				t.Errorf("%q matches %q, want none", tt.glob, s)
			}
		}
	}
}

func mustPolicy(t *testing.T, js string) *Policy {
	t.Helper()
	perms, err := ParsePermissions(json.RawMessage(js))
	if err != nil {
		t.Fatalf("ParsePermissions(%s): %v", js, err)
	}
	p, err := Compile(perms)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func TestPolicyCan(t *testing.T) {
	t.Parallel()
	// Infisical's shapes: action as a string or a list, conditions as strings or operators.
	p := mustPolicy(t, `[
		{"subject": "secrets", "action": ["readValue", "describeSecret", "edit"], "conditions": {"environment": "dev", "secretPath": {"$glob": "/app/**"}}},
		{"subject": "secret-folders", "action": "read", "conditions": {"environment": {"$in": ["dev", "staging"]}}},
		{"subject": "secrets", "action": "read", "inverted": true, "conditions": {"secretPath": {"$eq": "/app/private/"}}},
		{"subject": "secrets", "action": "read", "conditions": {"environment": {"$glob": "stag*"}, "secretPath": "/"}},
		{"subject": "tags", "action": ["read"]}
	]`)
	tests := []struct {
		act       Action
		sub       Subject
		env, path string
		want      bool
	}{
		{Read, Secrets, "dev", "/app", true},
		{Read, Secrets, "dev", "/app/db/primary", true},
		{Edit, Secrets, "dev", "/app/x", true},
		{Create, Secrets, "dev", "/app/x", false},     // not granted
		{Read, Secrets, "prod", "/app", false},        // other environment
		{Read, Secrets, "dev", "/", false},            // outside the path
		{Read, Secrets, "dev", "/apple", false},       // a prefix is not a folder
		{Read, Secrets, "dev", "/app/private", false}, // denied, whatever the order
		{Edit, Secrets, "dev", "/app/private", true},  // the deny is on read only
		{Read, Secrets, "staging", "/", true},
		{Read, Secrets, "staging", "/x", false},
		{Read, Secrets, "", "", false}, // conditional allow: no match without env and path
		{Read, Folders, "dev", "/anything", true},
		{Read, Folders, "staging", "/", true},
		{Read, Folders, "prod", "/", false},
		{Read, Tags, "", "", true},
		{Edit, Tags, "", "", false},
		{Read, Settings, "", "", false},
		{Read, Imports, "dev", "/app", false},
	}
	for _, tt := range tests {
		if got := p.can(tt.act, tt.sub, tt.env, tt.path); got != tt.want {
			t.Errorf("can(%s, %s, %q, %q) = %v, want %v", tt.act, tt.sub, tt.env, tt.path, got, tt.want)
		}
	}
	// A conditional deny applies when the environment or path is unknown.
	d := mustPolicy(t, `[{"subject":"secrets","action":"read"},{"subject":"secrets","action":"read","inverted":true,"conditions":{"environment":"prod"}}]`)
	if d.can(Read, Secrets, "", "") || !d.can(Read, Secrets, "dev", "/") || d.can(Read, Secrets, "prod", "/") {
		t.Errorf("conditional deny: got %v %v %v, want false true false", d.can(Read, Secrets, "", ""), d.can(Read, Secrets, "dev", "/"), d.can(Read, Secrets, "prod", "/"))
	}
}

func TestParsePermissionsNormalizes(t *testing.T) {
	t.Parallel()
	perms, err := ParsePermissions(json.RawMessage(`"[{\"subject\":\"secret-imports\",\"action\":[\"delete\",\"read\",\"read\"],\"conditions\":{\"secretPath\":\"/a/\",\"environment\":{\"$ne\":\"prod\"}}}]"`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(perms)
	want := `[{"subject":"imports","action":["read","delete"],"conditions":{"environment":{"$ne":"prod"},"secretPath":{"$eq":"/a"}}}]`
	if string(got) != want {
		t.Errorf("normalized = %s\nwant         %s", got, want)
	}
}

func TestParsePermissionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{``, "permissions: required"},
		{`{}`, "permissions: must be a list"},
		{`[{"subject":"integrations","action":"read"}]`, `permissions[0].subject: "integrations" is not supported`},
		{`[{"subject":"secrets","action":"approve"}]`, `permissions[0].action: "approve" is not supported`},
		{`[{"subject":"secrets","action":[]}]`, `permissions[0].action: at least one`},
		{`[{"subject":"secrets","action":"describeSecret"}]`, `permissions[0].action: at least one`},
		{`[{"subject":"secrets","action":1}]`, `permissions[0].action: must be`},
		{`[{"subject":"tags","action":"read","conditions":{"environment":"dev"}}]`, `permissions[0].conditions: only rules on secrets`},
		{`[{"subject":"secrets","action":"read","conditions":{"secretName":"X"}}]`, `"secretName" is not supported`},
		{`[{"subject":"secrets","action":"read","conditions":{"secretPath":{"$regex":"."}}}]`, `operator "$regex" is not supported`},
		{`[{"subject":"secrets","action":"read","conditions":{"secretPath":"app"}}]`, `must be an absolute path`},
		{`[{"subject":"secrets","action":"read","conditions":{"environment":"Dev!"}}]`, `conditions.environment.$eq`},
		{`[{"subject":"secrets","action":"read","conditions":{"environment":{"$glob":"d/*"}}}]`, `not an environment slug pattern`},
		{`[{"subject":"audit-logs","action":"edit"}]`, `audit-logs can only be read`},
	}
	for _, tt := range tests {
		_, err := ParsePermissions(json.RawMessage(tt.in))
		if coffer.ErrorCode(err) != coffer.EVALIDATION || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePermissions(%s) = %v, want EVALIDATION containing %q", tt.in, err, tt.want)
		}
	}
}

func TestCanConfer(t *testing.T) {
	t.Parallel()
	admin := &Grant{Role: coffer.RoleAdmin, rules: roleRules[coffer.RoleAdmin]}
	member := &Grant{Role: coffer.RoleMember, rules: roleRules[coffer.RoleMember]}
	limited := mustPolicy(t, `[{"subject":"secrets","action":["read","edit"],"conditions":{"environment":"dev"}},{"subject":"members","action":"edit"}]`)
	broad := mustPolicy(t, `[{"subject":"secrets","action":["read","edit"]},{"subject":"members","action":["read","edit"]}]`)
	broadDeny := mustPolicy(t, `[{"subject":"secrets","action":["read","edit"]},{"subject":"secrets","action":"read","inverted":true,"conditions":{"environment":"prod"}},{"subject":"members","action":["read","edit"]}]`)
	holder := func(p *Policy) *Grant { return &Grant{Role: "custom", RoleID: "r", policy: p} }
	tests := []struct {
		name string
		g    *Grant
		role string
		p    *Policy
		want bool
	}{
		{"admin confers admin", admin, coffer.RoleAdmin, nil, true},
		{"admin confers a custom role", admin, "x", broad, true},
		{"member cannot confer admin", member, coffer.RoleAdmin, nil, false},
		{"member confers viewer", member, coffer.RoleViewer, nil, true},
		{"member confers no-access", member, coffer.RoleNoAccess, nil, true},
		{"member confers broad (secrets read/edit, members read) but not members edit", member, "x", broad, false},
		{"broad confers limited", holder(broad), "x", limited, true},
		{"limited cannot confer broad", holder(limited), "x", broad, false},
		{"limited cannot confer itself (its rights are conditional)", holder(limited), "x", limited, false},
		{"broad with a deny cannot confer broad", holder(broadDeny), "x", broad, false},
		{"broad cannot confer viewer (tags, settings…)", holder(broad), coffer.RoleViewer, nil, false},
	}
	for _, tt := range tests {
		if got := tt.g.CanConfer(tt.role, tt.p); got != tt.want {
			t.Errorf("%s: CanConfer = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestGrantKey(t *testing.T) {
	t.Parallel()
	a := &Grant{Role: "ops", RoleID: "id-1", policy: &Policy{}}
	b := &Grant{Role: "ops", RoleID: "id-2", policy: &Policy{}}
	v := &Grant{Role: coffer.RoleViewer, rules: roleRules[coffer.RoleViewer]}
	if a.Key() == b.Key() || a.Key() == v.Key() || v.Key() != coffer.RoleViewer {
		t.Errorf("keys %q %q %q: want distinct, the built-in one its name", a.Key(), b.Key(), v.Key())
	}
}
