package envfile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDotenvExportInBash sources the dotenv-export output in bash and checks that every
// variable holds its value byte for byte, as `source` in a CI script would see it.
func TestDotenvExportInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	var entries []Entry
	var names []string
	for i, v := range hardValues() {
		name := fmt.Sprintf("K_%d", i)
		entries = append(entries, Entry{Key: name, Value: v})
		names = append(names, `"$`+name+`"`)
	}
	var buf bytes.Buffer
	if err := Write(&buf, DotenvExport, entries); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "secrets.sh")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `set -eu; source "$1"; printf '%s\0' ` + strings.Join(names, " ")
	cmd := exec.Command(bash, "--noprofile", "--norc", "-c", script, "bash", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(entries) {
		t.Fatalf("bash printed %d values, want %d", len(got), len(entries))
	}
	for i, e := range entries {
		if got[i] != e.Value {
			t.Errorf("%s: bash sees %q, want %q", e.Key, got[i], e.Value)
		}
	}
}
