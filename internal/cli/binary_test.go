package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/servertest"
)

// The tests of client commands run the real coffer binary, built once per test binary.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func cofferBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "coffer")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/cofferhq/coffer/cmd/coffer").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build coffer: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// user is a person at a terminal (or a CI job) with their own config and cache directories
// and working directory, talking to one node.
type user struct {
	t    testing.TB
	node *servertest.Node
	Dir  string            // working directory
	Env  map[string]string // environment beyond PATH and HOME
}

func newUser(t testing.TB, n *servertest.Node) *user {
	t.Helper()
	home := t.TempDir()
	return &user{t: t, node: n, Dir: t.TempDir(), Env: map[string]string{
		"HOME":              home,
		"COFFER_CONFIG_DIR": filepath.Join(home, "config"),
		"COFFER_CACHE_DIR":  filepath.Join(home, "cache"),
		"COFFER_API_URL":    n.URL,
	}}
}

// result is what a run of the binary did.
type result struct {
	Stdout, Stderr string
	Code           int
}

// run runs coffer with args; stdin may be empty. It never fails the test by itself.
func (u *user) run(stdin string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cofferBinary(u.t), args...)
	cmd.Dir = u.Dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range u.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("run coffer %v: %v", args, err)
	}
	return result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// must runs coffer and fails the test unless it exits 0; it returns stdout.
func (u *user) must(stdin string, args ...string) string {
	u.t.Helper()
	r := u.run(stdin, args...)
	if r.Code != 0 {
		u.t.Fatalf("coffer %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}
