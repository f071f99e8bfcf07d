package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// env returns a lookupEnv over m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// mustFlags returns a flag set with BindFlags applied and args parsed.
func mustFlags(tb testing.TB, args ...string) *pflag.FlagSet {
	tb.Helper()
	fs := pflag.NewFlagSet("coffer", pflag.ContinueOnError)
	BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		tb.Fatalf("parse %q: %v", args, err)
	}
	return fs
}

// mustLoad loads from args and m and fails tb on error.
func mustLoad(tb testing.TB, m map[string]string, args ...string) *Config {
	tb.Helper()
	c, err := Load(mustFlags(tb, args...), env(m))
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

// writeFile writes content to a new file in a temporary directory and returns its path.
func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "value")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		get  func(*Config) any
		want any
	}{
		{"string default", nil, nil, func(c *Config) any { return c.Listen }, "127.0.0.1:8080"},
		{"string env", map[string]string{"COFFER_LISTEN": ":9000"}, nil, func(c *Config) any { return c.Listen }, ":9000"},
		{"string flag", map[string]string{"COFFER_LISTEN": ":9000"}, []string{"--listen=:9001"}, func(c *Config) any { return c.Listen }, ":9001"},
		{"string empty env is unset", map[string]string{"COFFER_LISTEN": ""}, nil, func(c *Config) any { return c.Listen }, "127.0.0.1:8080"},
		{"bool default", nil, nil, func(c *Config) any { return c.Dev }, false},
		{"bool env", map[string]string{"COFFER_DEV": "true"}, nil, func(c *Config) any { return c.Dev }, true},
		{"bool flag", map[string]string{"COFFER_DEV": "true"}, []string{"--dev=false"}, func(c *Config) any { return c.Dev }, false},
		{"bool bare flag", nil, []string{"--dev"}, func(c *Config) any { return c.Dev }, true},
		{"int default", nil, nil, func(c *Config) any { return c.MaxBodyBytes }, int64(4194304)},
		{"int env", map[string]string{"COFFER_MAX_BODY_BYTES": "2048"}, nil, func(c *Config) any { return c.MaxBodyBytes }, int64(2048)},
		{"int flag", map[string]string{"COFFER_MAX_BODY_BYTES": "2048"}, []string{"--max-body-bytes", "4096"}, func(c *Config) any { return c.MaxBodyBytes }, int64(4096)},
		{"duration default", nil, nil, func(c *Config) any { return c.ShutdownTimeout }, 10 * time.Second},
		{"duration env", map[string]string{"COFFER_SHUTDOWN_TIMEOUT": "1m"}, nil, func(c *Config) any { return c.ShutdownTimeout }, time.Minute},
		{"duration flag", map[string]string{"COFFER_SHUTDOWN_TIMEOUT": "1m"}, []string{"--shutdown-timeout=2s"}, func(c *Config) any { return c.ShutdownTimeout }, 2 * time.Second},
		{"unchanged flag keeps env", map[string]string{"COFFER_LOG_LEVEL": "debug"}, []string{"--dev"}, func(c *Config) any { return c.LogLevel }, "debug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.get(mustLoad(t, tt.env, tt.args...)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadNilFlagsAndEnv(t *testing.T) {
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.LogFormat != "json" {
		t.Errorf("defaults not applied: %+v", *c)
	}
}

func TestLoadFile(t *testing.T) {
	const secret = "a-secret-of-at-least-32-bytes-0123456789"
	path := writeFile(t, secret+"\n \t\r\n")
	other := writeFile(t, "another-secret-of-at-least-32-bytes-000")
	empty := writeFile(t, " \n")
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr []string
	}{
		{name: "env file trimmed", env: map[string]string{"COFFER_AUTH_SECRET_FILE": path}, want: secret},
		{name: "flag file trimmed", args: []string{"--auth-secret-file", path}, want: secret},
		{name: "flag file beats env", env: map[string]string{"COFFER_AUTH_SECRET_FILE": other}, args: []string{"--auth-secret-file", path}, want: secret},
		{name: "empty file variable is unset", env: map[string]string{"COFFER_AUTH_SECRET": secret, "COFFER_AUTH_SECRET_FILE": ""}, want: secret},
		{name: "both set", env: map[string]string{"COFFER_AUTH_SECRET": secret, "COFFER_AUTH_SECRET_FILE": path},
			wantErr: []string{"COFFER_AUTH_SECRET and COFFER_AUTH_SECRET_FILE"}},
		{name: "unreadable", env: map[string]string{"COFFER_AUTH_SECRET_FILE": missing},
			wantErr: []string{"COFFER_AUTH_SECRET_FILE", missing}},
		{name: "unreadable flag", args: []string{"--auth-secret-file=" + missing}, wantErr: []string{"--auth-secret-file", missing}},
		{name: "empty file", env: map[string]string{"COFFER_AUTH_SECRET_FILE": empty}, wantErr: []string{"COFFER_AUTH_SECRET_FILE", empty, "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(mustFlags(t, tt.args...), env(tt.env))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if c.AuthSecret != tt.want {
					t.Errorf("AuthSecret = %q, want %q", c.AuthSecret, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestFlagsNeverTakeSecretValues(t *testing.T) {
	fs := mustFlags(t)
	for _, o := range Options() {
		if !o.Secret {
			continue
		}
		for _, name := range []string{strings.TrimSuffix(o.Flag, "-file"), strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(o.Env, "COFFER_"), "_", "-"))} {
			if fs.Lookup(name) != nil {
				t.Errorf("secret %s has a value flag --%s", o.Env, name)
			}
		}
	}
	if err := fs.Parse([]string{"--root-key=abc"}); err == nil {
		t.Error("--root-key accepted")
	}
}

func TestFlagRejectsBadValue(t *testing.T) {
	fs := pflag.NewFlagSet("coffer", pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	BindFlags(fs)
	err := fs.Parse([]string{"--max-body-bytes=abc"})
	if err == nil || !strings.Contains(err.Error(), "max-body-bytes") {
		t.Errorf("Parse error = %v, want one naming --max-body-bytes", err)
	}
}

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{
		"COFFER_LISTN=:8080", "COFFER_LISTEN=:8080", "COFFER_ROOT_KEY_FILE=/k", "COFFER_LISTEN_FILE=/x",
		"COFFER_TEST_POSTGRES_URL=postgres://", "HOME=/root", "COFFER_LISTN=again", "COFFER_DEV",
	})
	want := []string{"COFFER_LISTEN_FILE", "COFFER_LISTN"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("UnknownEnv = %q, want %q", got, want)
	}
}
