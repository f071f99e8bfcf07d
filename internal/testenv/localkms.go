package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The AWS KMS emulator LocalKMS runs, pinned. It is built from the Go module proxy, never
// required by go.mod.
const (
	localKMSModule  = "github.com/nsmithuk/local-kms"
	localKMSVersion = "v0.0.0-20231025161602-e4d9425700fe"
)

// KMS is a running local-kms, an AWS KMS emulator.
type KMS struct {
	URL       string // endpoint, for AWS_ENDPOINT_URL_KMS
	Region    string // the region its keys live in
	AccountID string // the account its key ARNs name
}

var localKMSBinary = sync.OnceValues(buildLocalKMS)

// LocalKMS starts a local-kms for the test on a free 127.0.0.1 port with an empty temporary
// data directory, and stops it in t.Cleanup. The binary is built once, at a pinned version, into
// coffer-test/ in the user's cache directory, so later runs start at once. When it cannot be
// built (no go command, no module proxy): t.Skip with a loud message, or t.Fatal if CI=true. A
// binary that does not start always fails the test.
func LocalKMS(t testing.TB) *KMS {
	t.Helper()
	bin, err := localKMSBinary()
	if err != nil {
		fail(t, "", err)
	}
	dir := t.TempDir()
	k := &KMS{Region: "eu-west-1", AccountID: "111122223333"}
	var lastErr error
	for range 3 { // a free port may be taken before local-kms binds it
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		p, err := startLocalKMS(bin, dir, port, k)
		if err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(p.stop)
		k.URL = "http://127.0.0.1:" + strconv.Itoa(port)
		return k
	}
	t.Fatalf("testenv: local-kms: %v", lastErr)
	return nil
}

func startLocalKMS(bin, dir string, port int, k *KMS) (*proc, error) {
	data := filepath.Join(dir, "data-"+strconv.Itoa(port))
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "local-kms-"+strconv.Itoa(port)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_DATA_PATH="+data,
		"KMS_REGION="+k.Region, "KMS_ACCOUNT_ID="+k.AccountID, "KMS_SEED_PATH="+filepath.Join(dir, "no-seed.yaml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProc(cmd, syscall.SIGTERM, data)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		if p.exited() || time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("local-kms did not come up on port %d: %v\n%s", port, err, tail(logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildLocalKMS returns the path of the local-kms binary, building it first if it is not in
// the cache. (go install M@V would be shorter, but it asks the proxy for the module's version
// list, which the proxy may refuse; downloading the exact version and building it does not.)
func buildLocalKMS() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "coffer-test", "local-kms-"+localKMSVersion)
	bin := filepath.Join(dir, "local-kms")
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return bin, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", &missingError{"the go command, to build local-kms (an AWS KMS emulator), is not on PATH"}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var out, errb bytes.Buffer
	dl := exec.Command(goCmd, "mod", "download", "-json", localKMSModule+"@"+localKMSVersion)
	dl.Dir, dl.Env, dl.Stdout, dl.Stderr = dir, env, &out, &errb
	if err := dl.Run(); err != nil {
		return "", &missingError{fmt.Sprintf("cannot download %s@%s (an AWS KMS emulator) from the module proxy: %v: %s", localKMSModule, localKMSVersion, err, errb.String())}
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out.Bytes(), &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s", localKMSModule, localKMSVersion, err, mod.Error)
	}
	tmp := filepath.Join(dir, fmt.Sprintf("local-kms.%d.tmp", os.Getpid()))
	build := exec.Command(goCmd, "build", "-trimpath", "-o", tmp, ".")
	build.Dir, build.Env = mod.Dir, env
	if b, err := build.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build local-kms: %v\n%s", err, b)
	}
	if err := os.Rename(tmp, bin); err != nil { // atomic: another test binary may build it too
		return "", errors.Join(err, os.Remove(tmp))
	}
	return bin, nil
}
