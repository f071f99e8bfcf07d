package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestDump(t *testing.T) {
	c := mustLoad(t, validEnv())
	var b bytes.Buffer
	c.Dump(&b)
	out := b.String()
	checkNoSecret(t, "Dump", out)
	for _, want := range []string{
		"COFFER_ROOT_KEY=[REDACTED]\n",
		"COFFER_AUTH_SECRET=[REDACTED]\n",
		"COFFER_DATABASE_URL=postgres://coffer:[REDACTED]@db.internal:5432/coffer?sslmode=require\n",
		"COFFER_LISTEN=127.0.0.1:8080\n",
		"COFFER_SHUTDOWN_TIMEOUT=10s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Dump lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(out, "\n"); lines != len(Options()) {
		t.Errorf("Dump has %d lines, want %d", lines, len(Options()))
	}

	b.Reset()
	(&Config{}).Dump(&b)
	if !strings.Contains(b.String(), "COFFER_ROOT_KEY=\n") {
		t.Errorf("unset secret not printed empty:\n%s", b.String())
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:" + plantedDBPass + "@h:5432/db", "postgres://u:[REDACTED]@h:5432/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?user=u&password=" + plantedDBPass + "&sslmode=verify-full", "postgres://h/db?user=u&password=[REDACTED]&sslmode=verify-full"},
		{"postgres://h/db?sslpassword=" + plantedDBPass, "postgres://h/db?sslpassword=[REDACTED]"},
		{"postgresql://u:" + plantedDBPass + "@h1:5432,h2:5432/db", "postgresql://u:[REDACTED]@h1:5432,h2:5432/db"},
		{"postgres://u:" + plantedDBPass + "/x@h/db", redacted},
		{"postgres://u:1234#" + plantedDBPass + "@h/db", redacted},
		{"mysql://u:" + plantedDBPass + "@h/db", redacted},
		{"host=h password=" + plantedDBPass, redacted},
		{"sqlite:/var/coffer.db", "sqlite:/var/coffer.db"},
	}
	for _, tt := range tests {
		if got := redactDatabaseURL(tt.in); got != tt.want {
			t.Errorf("redactDatabaseURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNothingPrintsSecrets(t *testing.T) {
	c := mustLoad(t, validEnv())
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("start", "config", c, "value", *c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("start", "config", c, "value", *c)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"logs":        logs.String(),
		"json":        string(js),
		"%v":          fmt.Sprintf("%v %v", c, *c),
		"%+v":         fmt.Sprintf("%+v %+v", c, *c),
		"%#v":         fmt.Sprintf("%#v %#v", c, *c),
		"flag usages": mustFlags(t).FlagUsages(),
	}
	for what, out := range outputs {
		checkNoSecret(t, what, out)
		if what != "flag usages" && !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s shows no [REDACTED]: %s", what, out)
		}
	}
	if !strings.Contains(logs.String(), `"root_key":"[REDACTED]"`) {
		t.Errorf("JSON log lacks the redacted root key: %s", logs.String())
	}
}

func TestOptions(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, o := range Options() {
		if !strings.HasPrefix(o.Env, "COFFER_") || o.Description == "" {
			t.Errorf("%q: want a COFFER_ name and a description", o.Env)
		}
		if envs[o.Env] || (o.Flag != "" && flags[o.Flag]) {
			t.Errorf("%s: duplicate name or flag", o.Env)
		}
		envs[o.Env], flags[o.Flag] = true, true
		if o.Secret && (!o.File || o.Flag != "" && !strings.HasSuffix(o.Flag, "-file")) {
			t.Errorf("%s: a secret needs _FILE and only a --…-file flag", o.Env)
		}
		var c Config
		if err := o.parse(&c, o.Default); err != nil || o.format(&c) != o.Default {
			t.Errorf("%s: default %q does not round-trip (got %q, %v)", o.Env, o.Default, o.format(&c), err)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	var b bytes.Buffer
	MarkdownTable(&b)
	out := b.String()
	for _, want := range []string{
		"| Variable | Flag | Default | Description |\n",
		"| `COFFER_LISTEN` | `--listen` | `127.0.0.1:8080` |",
		"(secret; also `COFFER_ROOT_KEY_FILE` or a reference)",
		"| `COFFER_ROOT_KEY` | `--root-key-file` |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if rows := strings.Count(out, "\n"); rows != len(Options())+2 {
		t.Errorf("table has %d lines, want %d", rows, len(Options())+2)
	}
}
