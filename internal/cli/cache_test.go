package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/store"
)

func testCache(t *testing.T) *secretCache {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"COFFER_CACHE_DIR": filepath.Join(dir, "cache"), "COFFER_CONFIG_DIR": filepath.Join(dir, "config")}
	c, err := openCache(Env{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	scopeA = cacheScope{Server: "https://coffer.example.com", ProjectID: "p1", Environment: "dev", Path: "/", Expand: true, IncludeImports: true, Overrides: true}
	dataA  = &cachedSecrets{FetchedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), ETag: `"abc"`,
		Secrets: []cacheEntry{{Key: "DB_PASSWORD", Value: "hunter2-planted"}, {Key: "EMPTY", Value: ""}}}
)

func TestCacheRoundTripAndPermissions(t *testing.T) {
	c := testCache(t)
	if _, err := c.read(scopeA); !errors.Is(err, errCacheMiss) {
		t.Fatalf("empty cache: %v, want a miss", err)
	}
	if err := c.write(scopeA, dataA); err != nil {
		t.Fatal(err)
	}
	got, err := c.read(scopeA)
	if err != nil {
		t.Fatal(err)
	}
	if !got.FetchedAt.Equal(dataA.FetchedAt) || got.ETag != dataA.ETag || len(got.Secrets) != 2 || got.Secrets[0] != dataA.Secrets[0] || got.Secrets[1] != dataA.Secrets[1] {
		t.Fatalf("read back %+v", got)
	}
	for path, want := range map[string]os.FileMode{c.dir: 0o700, c.path(scopeA): 0o600, c.keyPath: 0o600, filepath.Dir(c.keyPath): 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %v", path, err, want)
		}
	}
	b, _ := os.ReadFile(c.path(scopeA))
	for _, plain := range []string{"hunter2-planted", "DB_PASSWORD", "p1", "coffer.example.com"} {
		if bytes.Contains(b, []byte(plain)) {
			t.Errorf("cache file holds %q in the clear", plain)
		}
	}
	// Another listing (here: another path) is another file.
	other := scopeA
	other.Path = "/api"
	if _, err := c.read(other); !errors.Is(err, errCacheMiss) {
		t.Errorf("another path: %v, want a miss", err)
	}
}

func TestCacheRejectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, c *secretCache)
	}{
		{"flipped byte", func(t *testing.T, c *secretCache) {
			b, _ := os.ReadFile(c.path(scopeA))
			b[len(b)-5] ^= 1
			os.WriteFile(c.path(scopeA), b, 0o600)
		}},
		{"truncated", func(t *testing.T, c *secretCache) {
			os.WriteFile(c.path(scopeA), []byte(cacheMagic+"short"), 0o600)
		}},
		{"not a cache file", func(t *testing.T, c *secretCache) {
			os.WriteFile(c.path(scopeA), []byte(`{"secrets":[]}`), 0o600)
		}},
		{"file of another listing (wrong AAD)", func(t *testing.T, c *secretCache) {
			other := scopeA
			other.Environment = "prod"
			if err := c.write(other, &cachedSecrets{Secrets: []cacheEntry{{Key: "K", Value: "prod"}}}); err != nil {
				t.Fatal(err)
			}
			os.Rename(c.path(other), c.path(scopeA))
		}},
		{"another key", func(t *testing.T, c *secretCache) {
			os.Remove(c.keyPath)
			if _, err := c.key(true); err != nil {
				t.Fatal(err)
			}
		}},
		{"key gone", func(t *testing.T, c *secretCache) { os.Remove(c.keyPath) }},
		{"key damaged", func(t *testing.T, c *secretCache) { os.WriteFile(c.keyPath, []byte("nope\n"), 0o600) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCache(t)
			if err := c.write(scopeA, dataA); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, c)
			got, err := c.read(scopeA)
			if err == nil || errors.Is(err, errCacheMiss) {
				t.Fatalf("tampered cache read: %+v, %v", got, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a value: %v", err)
			}
		})
	}
}

func TestCacheKeyCreatedOnce(t *testing.T) {
	c := testCache(t)
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := c.key(true)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatal("concurrent first uses made different keys")
		}
	}
}

// switchProxy stands between the CLI and a node and can answer errors or go away.
type switchProxy struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int // when not 0, every request gets this status
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		status := p.status
		p.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"statusCode":` + strconv.Itoa(status) + `,"reqId":"req-proxy","message":"injected by the test proxy","error":"Proxy"}`))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *switchProxy) answer(status int) {
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
}

func TestRunAndExportUseTheCacheOffline(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	const value = "cached value\nwith a planted-marker-3141 and 'quotes'"
	f.put(t, "/", "CACHED_MARKER_NAME", value, "OTHER", "o")
	proxy := newSwitchProxy(t, f.n.URL)
	u := f.identityUser(t)
	u.Env["COFFER_API_URL"] = proxy.srv.URL
	printK := []string{"run", "--", "sh", "-c", `printf '%s' "$CACHED_MARKER_NAME"`}

	if out := u.must("", printK...); out != value {
		t.Fatalf("online run printed %q", out)
	}
	// A run with --no-cache writes nothing.
	nc := f.identityUser(t)
	nc.Env["COFFER_API_URL"] = proxy.srv.URL
	nc.must("", append([]string{printK[0], "--no-cache"}, printK[1:]...)...)
	if entries, _ := os.ReadDir(nc.Env["COFFER_CACHE_DIR"]); len(entries) != 0 {
		t.Errorf("--no-cache wrote %d cache files", len(entries))
	}

	// The cache holds no plaintext: not the value, not its name, not the project.
	files := 0
	filepath.WalkDir(u.Env["COFFER_CACHE_DIR"], func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(path)
		for _, plain := range []string{"planted-marker-3141", "CACHED_MARKER_NAME", f.p.ID} {
			if bytes.Contains(b, []byte(plain)) {
				t.Errorf("%s holds %q in the clear", path, plain)
			}
		}
		if st, _ := d.Info(); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", path, st.Mode().Perm())
		}
		return nil
	})
	if files != 1 {
		t.Fatalf("%d cache files after one listing, want 1", files)
	}
	if st, err := os.Stat(filepath.Join(u.Env["COFFER_CONFIG_DIR"], "cache.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache.key: %v %v", st, err)
	}

	// A 4xx answer is the server's word: no fallback.
	proxy.answer(http.StatusForbidden)
	if r := u.run("", printK...); r.Code == 0 || strings.Contains(r.Stderr, "cached") || !strings.Contains(r.Stderr, "injected by the test proxy") {
		t.Errorf("403: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// A 5xx answer and a server that is gone fall back to the cache, saying so.
	proxy.answer(http.StatusServiceUnavailable)
	r := u.run("", printK...)
	if r.Code != 0 || r.Stdout != value || !strings.Contains(r.Stderr, "Could not reach "+proxy.srv.URL) || !strings.Contains(r.Stderr, "using secrets cached at") {
		t.Errorf("503: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	proxy.srv.Close()
	r = u.run("", printK...)
	if r.Code != 0 || r.Stdout != value || !strings.Contains(r.Stderr, "using secrets cached at") {
		t.Errorf("server gone: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if out := u.must("", "export", "--format", "json"); !strings.Contains(out, `"key":"CACHED_MARKER_NAME"`) {
		t.Errorf("export from the cache: %s", out)
	}

	// Without the cache, or for a listing never fetched, it fails and says why.
	for _, tc := range []struct {
		name string
		u    *user
		args []string
		want string
	}{
		{"--no-cache", u, []string{"run", "--no-cache", "--", "true"}, "could not reach"},
		{"fresh user", nc, []string{"run", "--", "true"}, "no secrets of project"},
		{"another path", u, []string{"run", "--path", "/elsewhere", "--", "true"}, "no secrets of project"},
	} {
		if r := tc.u.run("", tc.args...); r.Code == 0 || !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "connection refused") {
			t.Errorf("%s: exit %d, stderr %q; want a failure saying %q", tc.name, r.Code, r.Stderr, tc.want)
		}
	}

	// A damaged cache counts as none, with a note.
	entries, _ := os.ReadDir(u.Env["COFFER_CACHE_DIR"])
	p := filepath.Join(u.Env["COFFER_CACHE_DIR"], entries[0].Name())
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0xff
	os.WriteFile(p, b, 0o600)
	if r := u.run("", printK...); r.Code == 0 || !strings.Contains(r.Stderr, "ignoring the damaged offline cache") {
		t.Errorf("damaged cache: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
