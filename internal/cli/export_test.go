package cli

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/envfile"
	"github.com/cofferhq/coffer/internal/store"
)

// hardValues are values that break naive quoting in one format or another.
var hardValues = []string{
	"plain", "", "multi\nline\n", "line1\n\nline3", "crlf\r\nline", "it's", `"double"`, `a"b'c`, "'single quoted'",
	"a=b=c", "# not a comment", "value # with hash", "unicode ✓ 日本語 🔑", `back\slash \n literal`, `ends with backslash\`,
	"$HOME and $(whoami) and `id`", "  spaces around  ", "tab\there", "true", "123", "null", "~", "- dash", "key: value",
	`{"json": true}`, "<b>&amp;</b>", ",comma,", "'", `"`,
}

func TestExportRoundTripsEveryFormat(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	var kv []string
	for i, v := range hardValues {
		kv = append(kv, fmt.Sprintf("K%02d", i), v)
	}
	f.put(t, "/", kv...)
	// What the API holds, read without coffer.
	var listed struct {
		Secrets []struct{ SecretKey, SecretValue string }
	}
	f.n.MustDo(t, http.MethodGet, "/api/v4/secrets?projectId="+f.p.ID+"&environment=dev&secretPath=/", f.p.Token, nil).JSON(t, &listed)
	want := map[string]string{}
	for _, s := range listed.Secrets {
		want[s.SecretKey] = s.SecretValue
	}
	if len(want) != len(hardValues) || want["K02"] != "multi\nline\n" {
		t.Fatalf("the API holds %d secrets, K02=%q", len(want), want["K02"])
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	u := f.identityUser(t)
	for _, format := range []string{"dotenv", "dotenv-export", "json", "yaml", "csv"} {
		t.Run(format, func(t *testing.T) {
			out := u.must("", "export", "--format", format)
			got, err := envfile.Read(strings.NewReader(out), envfile.Format(format))
			if err != nil {
				t.Fatalf("read back: %v\n%s", err, out)
			}
			m := map[string]string{}
			var order []string
			for _, e := range got {
				m[e.Key] = e.Value
				order = append(order, e.Key)
			}
			if !reflect.DeepEqual(m, want) {
				for k, v := range want {
					if m[k] != v {
						t.Errorf("%s: got %q, want %q", k, m[k], v)
					}
				}
				t.Fatalf("export does not read back as the API's values:\n%s", out)
			}
			if format != "yaml" && !reflect.DeepEqual(order, keys) {
				t.Errorf("not sorted by name: %v", order)
			}
			if bash, err := exec.LookPath("bash"); err == nil && format == "dotenv-export" {
				// The CI idiom: eval "$(coffer export --format dotenv-export)".
				script := `eval "$(cat)"; for k in ` + strings.Join(keys, " ") + `; do printf '%s=%s\0' "$k" "${!k}"; done`
				c := exec.Command(bash, "-c", script)
				c.Stdin = strings.NewReader(out)
				b, err := c.Output()
				if got := parseEnv0(string(b)); err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("bash eval gives %q (%v), want %q", got, err, want)
				}
			}

			// --output-file writes the same bytes to a file only its owner can read.
			path := filepath.Join(t.TempDir(), "out."+format)
			r := u.run("", "export", "--format", format, "--output-file", path)
			if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "Successfully exported secrets to: "+path) {
				t.Fatalf("--output-file: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != out {
				t.Errorf("file differs from standard output (%v)", err)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v, want 0600", st.Mode().Perm())
			}
		})
	}

	// Infisical's exact bytes for ordinary values, and its JSON fields.
	f2 := newSecretsFixture(t, store.SQLite)
	f2.put(t, "/", "B", "two", "A", "one")
	u2 := f2.identityUser(t)
	if out := u2.must("", "export"); out != "A='one'\nB='two'\n" {
		t.Errorf("dotenv: %q", out)
	}
	if out := u2.must("", "export", "-f", "dotenv-export"); out != "export A='one'\nexport B='two'\n" {
		t.Errorf("dotenv-export: %q", out)
	}
	wantJSON := `[{"key":"A","workspace":"` + f2.p.ID + `","value":"one","type":"shared","_id":"","secretPath":"/","tags":[],"comment":"","Etag":"","skipMultilineEncoding":false},` +
		`{"key":"B","workspace":"` + f2.p.ID + `","value":"two","type":"shared","_id":"","secretPath":"/","tags":[],"comment":"","Etag":"","skipMultilineEncoding":false}]`
	if out := u2.must("", "export", "--format=json"); out != wantJSON {
		t.Errorf("json:\n got %s\nwant %s", out, wantJSON)
	}
	if out := u2.must("", "export", "--format=csv"); out != "Key,Value\nA,one\nB,two\n" {
		t.Errorf("csv: %q", out)
	}
	if out := u2.must("", "export", "--format=yaml"); out != "A: one\nB: two\n" {
		t.Errorf("yaml: %q", out)
	}
}

func TestExportOutputPaths(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	f.put(t, "/", "A", "one")
	u := f.identityUser(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", dir}, filepath.Join(dir, ".env")},
		{[]string{"--format", "json", "--output-file", dir + "/new/"}, filepath.Join(dir, "new", "secrets.json")},
		{[]string{"--format", "yaml", "--output", filepath.Join(dir, "noext")}, filepath.Join(dir, "noext.yaml")},
		{[]string{"--format", "csv", "-o", filepath.Join(dir, "deep", "er", "x.txt")}, filepath.Join(dir, "deep", "er", "x.txt")},
	} {
		r := u.run("", append([]string{"export"}, tc.args...)...)
		if r.Code != 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %s", tc.args, r.Code, r.Stderr, tc.want)
			continue
		}
		if st, err := os.Stat(tc.want); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
	// An existing file is replaced, and made private.
	p := filepath.Join(dir, "existing.env")
	os.WriteFile(p, []byte("OLD=1\nMORE=2\n"), 0o644)
	u.must("", "export", "-o", p)
	if b, _ := os.ReadFile(p); string(b) != "A='one'\n" {
		t.Errorf("existing file now holds %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("existing file mode %v", st.Mode().Perm())
	}
	r := u.run("", "export", "--format", "xml")
	if r.Code == 0 || !strings.Contains(r.Stderr, "invalid format type: xml") {
		t.Errorf("bad format: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
