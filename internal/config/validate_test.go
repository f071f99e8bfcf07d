package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Planted secrets: no output or error of this package may contain them.
var (
	plantedRootKey = base64.StdEncoding.EncodeToString([]byte("planted-root-key-32-bytes-long!!"))
	plantedOldKey  = base64.StdEncoding.EncodeToString([]byte("planted-old-key--32-bytes-long!!"))
	plantedAuth    = "planted-auth-secret-that-is-long-enough"
	plantedDBPass  = "plantedDbPassw0rd"
)

func plantedSecrets() []string {
	return []string{plantedRootKey, plantedOldKey, plantedAuth, plantedDBPass, "planted"}
}

// checkNoSecret fails t when s contains a planted secret.
func checkNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, p := range plantedSecrets() {
		if strings.Contains(s, p) {
			t.Errorf("%s contains planted secret %q:\n%s", what, p, s)
		}
	}
}

// validEnv is a complete production environment; tests change one thing at a time.
func validEnv() map[string]string {
	return map[string]string{
		"COFFER_ROOT_KEY":     plantedRootKey + "," + plantedOldKey,
		"COFFER_AUTH_SECRET":  plantedAuth,
		"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@db.internal:5432/coffer?sslmode=require",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string // changes to validEnv; "" unsets
		wantErr []string          // substrings; none means valid
	}{
		{name: "valid"},
		{name: "missing both keys", set: map[string]string{"COFFER_ROOT_KEY": "", "COFFER_AUTH_SECRET": ""},
			wantErr: []string{"COFFER_ROOT_KEY is not set", "COFFER_ROOT_KEY_FILE", "coffer keys generate", "--dev", "COFFER_AUTH_SECRET is not set", "32 bytes"}},
		{name: "dev accepts missing keys", set: map[string]string{"COFFER_ROOT_KEY": "", "COFFER_AUTH_SECRET": "", "COFFER_DEV": "true"}},
		{name: "short auth secret", set: map[string]string{"COFFER_AUTH_SECRET": "planted-short"}, wantErr: []string{"COFFER_AUTH_SECRET", "at least 32 bytes"}},
		{name: "short auth secret in dev", set: map[string]string{"COFFER_AUTH_SECRET": "planted-short", "COFFER_DEV": "1"}, wantErr: []string{"COFFER_AUTH_SECRET"}},
		{name: "root key not base64", set: map[string]string{"COFFER_ROOT_KEY": "planted!!"}, wantErr: []string{"COFFER_ROOT_KEY", "key 1 of 1"}},
		{name: "old root key wrong size", set: map[string]string{"COFFER_ROOT_KEY": plantedRootKey + ", cGxhbnRlZA=="}, wantErr: []string{"key 2 of 2"}},
		{name: "log level", set: map[string]string{"COFFER_LOG_LEVEL": "loud"}, wantErr: []string{"COFFER_LOG_LEVEL", `"loud"`}},
		{name: "log format", set: map[string]string{"COFFER_LOG_FORMAT": "xml"}, wantErr: []string{"COFFER_LOG_FORMAT", `"xml"`}},
		{name: "listen", set: map[string]string{"COFFER_LISTEN": "nonsense"}, wantErr: []string{"COFFER_LISTEN", `"nonsense"`}},
		{name: "listen port", set: map[string]string{"COFFER_LISTEN": "localhost:http"}, wantErr: []string{"COFFER_LISTEN"}},
		{name: "listen any host", set: map[string]string{"COFFER_LISTEN": ":0"}},
		{name: "mysql", set: map[string]string{"COFFER_DATABASE_URL": "mysql://root:" + plantedDBPass + "@db/coffer"}, wantErr: []string{"COFFER_DATABASE_URL", `"mysql"`}},
		{name: "no scheme", set: map[string]string{"COFFER_DATABASE_URL": "root:" + plantedDBPass + "@db/coffer"}, wantErr: []string{"COFFER_DATABASE_URL"}},
		{name: "bad postgres url", set: map[string]string{"COFFER_DATABASE_URL": "postgres://u:" + plantedDBPass + "/x@db/coffer"}, wantErr: []string{"COFFER_DATABASE_URL"}},
		{name: "postgres fragment", set: map[string]string{"COFFER_DATABASE_URL": "postgres://u:1234#" + plantedDBPass + "@db/coffer"}, wantErr: []string{"COFFER_DATABASE_URL"}},
		{name: "postgres multi-host", set: map[string]string{"COFFER_DATABASE_URL": "postgresql://u:" + plantedDBPass + "@h1:5432,h2:5432/coffer?target_session_attrs=read-write"}},
		{name: "sqlite", set: map[string]string{"COFFER_DATABASE_URL": "sqlite:/var/lib/coffer/coffer.db"}},
		{name: "sqlite options", set: map[string]string{"COFFER_DATABASE_URL": "sqlite:coffer.db?mode=ro"}, wantErr: []string{"COFFER_DATABASE_URL", "no options"}},
		{name: "unresolved reference", set: map[string]string{"COFFER_DATABASE_URL": "ssm:/coffer/db-url"}, wantErr: []string{"COFFER_DATABASE_URL", "ssm:/coffer/db-url", "not resolved"}},
		{name: "max body", set: map[string]string{"COFFER_MAX_BODY_BYTES": "100"}, wantErr: []string{"COFFER_MAX_BODY_BYTES", "1024"}},
		{name: "site url", set: map[string]string{"COFFER_SITE_URL": "coffer.example.com"}, wantErr: []string{"COFFER_SITE_URL"}},
		{name: "shutdown timeout", set: map[string]string{"COFFER_SHUTDOWN_TIMEOUT": "-1s"}, wantErr: []string{"COFFER_SHUTDOWN_TIMEOUT"}},
		{name: "all reported at once", set: map[string]string{"COFFER_LOG_LEVEL": "loud", "COFFER_LISTEN": "x", "COFFER_ROOT_KEY": ""},
			wantErr: []string{"COFFER_LOG_LEVEL", "COFFER_LISTEN", "COFFER_ROOT_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validEnv()
			for k, v := range tt.set {
				m[k] = v
			}
			err := mustLoad(t, m).Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want one naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			checkNoSecret(t, "error", err.Error())
		})
	}
}

func TestLoadBadValues(t *testing.T) {
	tests := []struct {
		env, value string
		args       []string
		wantErr    []string
	}{
		{env: "COFFER_MAX_BODY_BYTES", value: "abc", wantErr: []string{"COFFER_MAX_BODY_BYTES", `"abc"`}},
		{env: "COFFER_SHUTDOWN_TIMEOUT", value: "soon", wantErr: []string{"COFFER_SHUTDOWN_TIMEOUT", `"soon"`}},
		{env: "COFFER_DEV", value: "maybe", wantErr: []string{"COFFER_DEV", `"maybe"`}},
		{env: "COFFER_LISTEN", value: ":1", args: []string{"--max-body-bytes=2048", "--dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			_, err := Load(mustFlags(t, tt.args...), env(map[string]string{tt.env: tt.value}))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDatabaseDSN(t *testing.T) {
	tests := []struct{ url, dialect, dsn string }{
		{"", "sqlite", "data/coffer.db"},
		{"postgres://u:p@h/db", "postgres", "postgres://u:p@h/db"},
		{"postgresql://h/db", "postgres", "postgresql://h/db"},
		{"sqlite:/var/coffer.db", "sqlite", "/var/coffer.db"},
		{"sqlite:///var/coffer.db", "sqlite", "/var/coffer.db"},
		{"file:coffer.db", "", ""}, // file: reads a value from a file; it is not SQLite
		{"mysql://h/db", "", ""},
	}
	for _, tt := range tests {
		c := &Config{DataDir: "data", DatabaseURL: tt.url}
		if d, dsn := c.DatabaseDSN(); d != tt.dialect || dsn != tt.dsn {
			t.Errorf("DatabaseDSN(%q) = %q, %q; want %q, %q", tt.url, d, dsn, tt.dialect, tt.dsn)
		}
	}
}

func TestPublicURL(t *testing.T) {
	tests := []struct{ listen, site, want string }{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{":8080", "", "http://localhost:8080"},
		{"0.0.0.0:80", "", "http://localhost:80"},
		{"[::1]:8080", "", "http://[::1]:8080"},
		{":8080", "https://coffer.example.com/", "https://coffer.example.com"},
	}
	for _, tt := range tests {
		c := &Config{Listen: tt.listen, SiteURL: tt.site}
		if got := c.PublicURL(); got != tt.want {
			t.Errorf("PublicURL(%q, %q) = %q, want %q", tt.listen, tt.site, got, tt.want)
		}
	}
}
