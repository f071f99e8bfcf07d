package compat_test

// Obtaining the clients. Each is pinned, built or installed once per test binary, and kept in
// $XDG_CACHE_HOME/coffer-compat (usually ~/.cache/coffer-compat) under a name that changes
// with what was pinned, so repeated runs are fast; without a usable cache it goes to a temp
// directory. A client that cannot be obtained makes its test skip with a loud message, or fail
// under CI=true, except the CLI (see infisicalCLI).

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const (
	goSDKModule    = "github.com/infisical/go-sdk@v0.8.0" // pinned in testdata/gosdk/go.mod and go.sum
	nodeSDKPackage = "@infisical/sdk@5.0.2"               // pinned in testdata/nodesdk/package-lock.json
	cliPackage     = "@infisical/cli@0.43.121"            // the CLI release the contract's captures come from
	cliEnv         = "COFFER_COMPAT_INFISICAL_CLI"        // path to an infisical binary, to use instead
	cliRequireEnv  = "COFFER_COMPAT_REQUIRE_CLI"          // "true": no CLI is a failure, not a skip
)

// unobtainable says a client could not be had; it makes the test skip (fail under CI=true).
type unobtainable struct{ what, how string }

func (e *unobtainable) Error() string { return e.what + "; " + e.how }

// requireClient turns an error from obtaining a client into a loud skip, or a failure when
// strict; any other error (a client that was had but does not build) is a failure.
func requireClient(t *testing.T, err error, strict bool) {
	t.Helper()
	if err == nil {
		return
	}
	var u *unobtainable
	if !errors.As(err, &u) {
		t.Fatal(err)
	}
	if strict {
		t.Fatalf("%s cannot be obtained: %s", u.what, u.how)
	}
	t.Skipf("*** SKIPPED: %s cannot be obtained: %s ***", u.what, u.how)
}

// envTrue reports whether the environment variable is set to a true value.
func envTrue(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

// cacheDir returns the client cache, made if need be, or else a temp directory that
// removeTemp removes after the tests.
var cacheDir = sync.OnceValue(func() string {
	if base, err := os.UserCacheDir(); err == nil {
		dir := filepath.Join(base, "coffer-compat")
		if os.MkdirAll(dir, 0o755) == nil {
			return dir
		}
	}
	dir, _ := os.MkdirTemp("", "coffer-compat-")
	removeTemp = func() { os.RemoveAll(dir) }
	return dir
})

var removeTemp = func() {}

// digest hashes the named files and strings, for cache entry names.
func digest(files []string, extra ...string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	for _, s := range extra {
		fmt.Fprintf(h, "%s\n", s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func run(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

// goSDKDriver builds testdata/gosdk, which links the pinned Go SDK, and returns the binary.
var goSDKDriver = sync.OnceValues(func() (string, error) {
	src, err := filepath.Abs("testdata/gosdk")
	if err != nil {
		return "", err
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	key, err := digest([]string{src + "/main.go", src + "/go.mod", src + "/go.sum"}, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cacheDir(), "gosdk-driver-"+key)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	env := []string{"GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0"}
	if _, err := run(src, env, goBin, "mod", "download"); err != nil {
		return "", &unobtainable{"the Go SDK " + goSDKModule, fmt.Sprintf("it comes from the Go module proxy (or GOMODCACHE): %v", err)}
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	if _, err := run(src, env, goBin, "build", "-o", tmp, "."); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	prune(bin)
	return bin, nil
})

// prune removes the cache entries that keep replaced: those whose names differ from its
// only in the key after the last "-".
func prune(keep string) {
	prefix := keep[:strings.LastIndex(keep, "-")+1]
	old, _ := filepath.Glob(prefix + "*")
	for _, p := range old {
		if p != keep && !strings.Contains(filepath.Base(p), ".tmp") {
			os.RemoveAll(p)
		}
	}
}

// nodeSDKDriver installs the pinned Node SDK with npm ci beside a copy of
// testdata/nodesdk/driver.mjs and returns the script's path.
var nodeSDKDriver = sync.OnceValues(func() (string, error) {
	src, err := filepath.Abs("testdata/nodesdk")
	if err != nil {
		return "", err
	}
	files := []string{src + "/package.json", src + "/package-lock.json", src + "/driver.mjs"}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("npm")
	}
	if err != nil {
		return "", &unobtainable{"the Node SDK " + nodeSDKPackage, "it needs node (20 or later) and npm: apt-get install nodejs npm"}
	}
	out, err := exec.Command(node, "-p", "process.versions.node.split('.')[0]").Output()
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || major < 20 {
		return "", &unobtainable{"the Node SDK " + nodeSDKPackage, fmt.Sprintf("it needs node 20 or later, have %q", strings.TrimSpace(string(out)))}
	}
	key, err := digest(files)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cacheDir(), "nodesdk-"+key)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@infisical", "sdk", "package.json")); err == nil {
		return filepath.Join(dir, "driver.mjs"), nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, filepath.Base(f)), b, 0o644)
		}
		if err != nil {
			return "", err
		}
	}
	if _, err := run(tmp, nil, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
		return "", &unobtainable{"the Node SDK " + nodeSDKPackage, fmt.Sprintf("it comes from the npm registry: %v", err)}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(dir); statErr != nil { // not a lost race with another run
			return "", err
		}
	}
	prune(dir)
	return filepath.Join(dir, "driver.mjs"), nil
})

// infisicalCLI returns an Infisical CLI binary: $COFFER_COMPAT_INFISICAL_CLI, else the one a
// previous run installed, else a fresh npm install of @infisical/cli. That npm package holds
// no binary: its install script downloads one from GitHub releases, and the CLI's Go module
// (github.com/Infisical/infisical-merge, in the Infisical/cli repository) cannot come from the
// Go module proxy because its path is not its repository's and its go.mod has replace
// directives. So where GitHub cannot be reached (this workplace), the CLI is fundamentally
// unobtainable and the test skips loudly even under CI=true, unless COFFER_COMPAT_REQUIRE_CLI
// is true.
var infisicalCLI = sync.OnceValues(func() (string, error) {
	if p := os.Getenv(cliEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", cliEnv, err)
		}
		return p, nil
	}
	dir := filepath.Join(cacheDir(), "cli-"+strings.TrimPrefix(cliPackage, "@infisical/cli@"))
	bin := filepath.Join(dir, "node_modules", "@infisical", "cli", "bin", "infisical")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	how := fmt.Sprintf("no registry reachable here ships the binary (the CLI's Go module cannot come from the Go module proxy either); "+
		"set %s to an infisical binary (v%s, from github.com/Infisical/cli/releases) or run where npm's install script can reach GitHub",
		cliEnv, strings.TrimPrefix(cliPackage, "@infisical/cli@"))
	if _, err := exec.LookPath("npm"); err != nil {
		return "", &unobtainable{"the Infisical CLI", "no npm; " + how}
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"private": true}`), 0o644); err != nil {
		return "", err
	}
	if out, err := run(tmp, nil, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", cliPackage); err != nil {
		return "", &unobtainable{"the Infisical CLI", fmt.Sprintf("`npm install %s` failed: its install script downloads the binary from GitHub releases (%s); %s", cliPackage, npmCause(out), how)}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return bin, nil
})

// npmCause picks the line of npm's output that says why an install script failed.
func npmCause(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, marker := range []string{"ENOTFOUND", "Error downloading", "npm error"} {
		for _, l := range lines {
			if strings.Contains(l, marker) {
				return strings.TrimSpace(strings.TrimPrefix(l, "npm error"))
			}
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}
