package secrets

import "testing"

func TestParseRef(t *testing.T) {
	for _, tc := range []struct{ body, env, path, key string }{
		{"KEY", "dev", "/app", "KEY"},             // same environment and folder as the holder
		{"prod.KEY", "prod", "/", "KEY"},          // root of another environment
		{"prod.a.b.KEY", "prod", "/a/b", "KEY"},   // a folder of another environment
		{"staging.a.KEY", "staging", "/a", "KEY"}, //
	} {
		env, path, key := parseRef(tc.body, "dev", "/app")
		if env != tc.env || path != tc.path || key != tc.key {
			t.Errorf("parseRef(%q) = %s %s %s, want %s %s %s", tc.body, env, path, key, tc.env, tc.path, tc.key)
		}
	}
	for body, want := range map[string]bool{"KEY": true, "a.b-c_d.E9": true, "": false, "has space": false, "a/b": false, "x}": false, "$": false} {
		if got := isRefBody(body); got != want {
			t.Errorf("isRefBody(%q) = %v, want %v", body, got, want)
		}
	}
}
