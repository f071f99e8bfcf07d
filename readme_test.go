package coffer_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
)

// TestREADMEConfigurationIsCurrent keeps the README's configuration table equal to the one the
// config package generates (coffer config --markdown), and every COFFER_* variable the code
// reads documented in the README.
func TestREADMEConfigurationIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	config.MarkdownTable(&table)
	if !bytes.Contains(readme, table.Bytes()) {
		t.Errorf("README.md's configuration table is out of date: replace it with the output of `go run ./cmd/coffer config --markdown`")
	}
	re := regexp.MustCompile(`"(COFFER_[A-Z0-9_]*[A-Z0-9])"`) // a string literal: a name the code reads
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			name := m[1]
			if !bytes.Contains(readme, []byte("`"+name+"`")) {
				t.Errorf("%s reads %s, which README.md does not document", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
