package config

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in      string
		want    Reference
		ok, err bool
	}{
		{in: "ssm:/coffer/db-url", want: Reference{Kind: RefSSM, Name: "/coffer/db-url"}, ok: true},
		{in: "ssm:arn:aws:ssm:eu-west-1:111122223333:parameter/coffer/x", want: Reference{Kind: RefSSM, Name: "arn:aws:ssm:eu-west-1:111122223333:parameter/coffer/x"}, ok: true},
		{in: "secretsmanager:coffer/app", want: Reference{Kind: RefSecretsManager, Name: "coffer/app"}, ok: true},
		{in: "secretsmanager:coffer/app#db_url", want: Reference{Kind: RefSecretsManager, Name: "coffer/app", Key: "db_url"}, ok: true},
		{in: "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:coffer-AbCdEf#k",
			want: Reference{Kind: RefSecretsManager, Name: "arn:aws:secretsmanager:us-east-1:111122223333:secret:coffer-AbCdEf", Key: "k"}, ok: true},
		{in: "file:/run/secrets/db", want: Reference{Kind: RefFile, Name: "/run/secrets/db"}, ok: true},
		{in: "file:relative/path#x", want: Reference{Kind: RefFile, Name: "relative/path#x"}, ok: true},
		{in: "ssm:", ok: true, err: true},
		{in: "file: ", ok: true, err: true},
		{in: "secretsmanager:#k", ok: true, err: true},
		{in: "secretsmanager:app#", ok: true, err: true},
		{in: "postgres://u:p@h/db"},
		{in: "sqlite:/var/coffer.db"},
		{in: "SSM:/upper/case/is/a/value"},
		{in: "c2VjcmV0"},
		{in: ""},
	}
	for _, tt := range tests {
		ref, ok, err := ParseReference(tt.in)
		if ok != tt.ok || (err != nil) != tt.err || (!tt.err && ref != tt.want) {
			t.Errorf("ParseReference(%q) = %+v, %v, %v; want %+v, %v, error %v", tt.in, ref, ok, err, tt.want, tt.ok, tt.err)
		}
		if !tt.err && tt.ok && ref.String() != tt.in {
			t.Errorf("Reference(%q).String() = %q", tt.in, ref.String())
		}
	}
}

// fakeResolver answers from a map of reference to value and records what it was asked.
type fakeResolver struct {
	values map[string]string
	errs   map[string]error
	asked  []string
}

func (f *fakeResolver) Resolve(ctx context.Context, ref Reference) (string, error) {
	f.asked = append(f.asked, ref.String())
	if err := f.errs[ref.String()]; err != nil {
		return "", err
	}
	v, ok := f.values[ref.String()]
	if !ok {
		return "", errors.New("no such reference")
	}
	return v, nil
}

func TestResolve(t *testing.T) {
	authFile := writeFile(t, plantedAuth+"\n")
	dbURL := "postgres://coffer:" + plantedDBPass + "@db.internal:5432/coffer"
	c := mustLoad(t, map[string]string{
		"COFFER_DATABASE_URL": "ssm:/coffer/db-url",
		"COFFER_ROOT_KEY":     "secretsmanager:coffer/keys#root",
		"COFFER_AUTH_SECRET":  "file:" + authFile,
		"COFFER_DATA_DIR":     "ssm:/not/a/reference", // not a secret setting: a value like any other
		"COFFER_SITE_URL":     "https://coffer.example.com",
	})
	if c.DatabaseURL != "" || c.RootKey != "" || c.AuthSecret != "" {
		t.Fatalf("references were used as values before Resolve: %+v", c)
	}
	if c.DataDir != "ssm:/not/a/reference" {
		t.Errorf("DataDir = %q: a non-secret setting that looks like a reference must be left alone", c.DataDir)
	}
	if !c.NeedsResolver() {
		t.Error("NeedsResolver = false with ssm: and secretsmanager: references")
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Errorf("Validate before Resolve: %v", err)
	}
	var before bytes.Buffer
	c.Dump(&before)

	r := &fakeResolver{values: map[string]string{
		"ssm:/coffer/db-url":              dbURL + "\n",
		"secretsmanager:coffer/keys#root": plantedRootKey,
	}}
	if err := c.Resolve(context.Background(), r); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if c.DatabaseURL != dbURL || c.RootKey != plantedRootKey || c.AuthSecret != plantedAuth {
		t.Errorf("resolved values wrong (trailing newline kept?): db %t root %t auth %t",
			c.DatabaseURL == dbURL, c.RootKey == plantedRootKey, c.AuthSecret == plantedAuth)
	}
	if strings.Join(r.asked, " ") != "ssm:/coffer/db-url secretsmanager:coffer/keys#root" {
		t.Errorf("resolver asked %q; want the ssm: and secretsmanager: references once each, in table order", r.asked)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate after Resolve: %v", err)
	}
	if c.NeedsResolver() {
		t.Error("NeedsResolver = true after Resolve")
	}
	if err := c.Resolve(context.Background(), nil); err != nil || len(r.asked) != 2 {
		t.Errorf("a second Resolve resolved again: %v, asked %q", err, r.asked)
	}

	var after bytes.Buffer
	c.Dump(&after)
	for what, out := range map[string]string{"Dump before Resolve": before.String(), "Dump after Resolve": after.String(), "String": c.String()} {
		checkNoSecret(t, what, out)
		for _, want := range []string{"ssm:/coffer/db-url", "secretsmanager:coffer/keys#root", "file:" + authFile} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not show the reference %s:\n%s", what, want, out)
			}
		}
	}
}

func TestResolveErrorsNameTheSettingNotTheValue(t *testing.T) {
	dir := t.TempDir()
	sqliteFile := filepath.Join(dir, "coffer.db")
	if err := os.WriteFile(sqliteFile, append([]byte("SQLite format 3\x00"), plantedDBPass...), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		r       *fakeResolver
		wantErr []string
	}{
		{name: "missing parameter", env: map[string]string{"COFFER_DATABASE_URL": "ssm:/coffer/nope"},
			r: &fakeResolver{}, wantErr: []string{"COFFER_DATABASE_URL", "ssm:/coffer/nope", "no such reference"}},
		{name: "resolver error", env: map[string]string{"COFFER_AUTH_SECRET": "secretsmanager:app#auth"},
			r: &fakeResolver{errs: map[string]error{"secretsmanager:app#auth": errors.New("AccessDeniedException")}}, wantErr: []string{"COFFER_AUTH_SECRET", "secretsmanager:app#auth", "AccessDeniedException"}},
		{name: "empty value", env: map[string]string{"COFFER_ROOT_KEY": "ssm:/coffer/root"},
			r: &fakeResolver{values: map[string]string{"ssm:/coffer/root": "\n"}}, wantErr: []string{"COFFER_ROOT_KEY", "ssm:/coffer/root", "empty"}},
		{name: "missing file", env: map[string]string{"COFFER_AUTH_SECRET": "file:" + filepath.Join(dir, "nope")},
			wantErr: []string{"COFFER_AUTH_SECRET", "file:", "no such file"}},
		{name: "file: is no longer SQLite", env: map[string]string{"COFFER_DATABASE_URL": "file:" + sqliteFile},
			wantErr: []string{"COFFER_DATABASE_URL", "SQLite database", "sqlite:" + sqliteFile}},
		{name: "no resolver", env: map[string]string{"COFFER_DATABASE_URL": "ssm:/coffer/db"},
			wantErr: []string{"COFFER_DATABASE_URL", "ssm:/coffer/db", "no resolver"}},
		{name: "every failure at once", env: map[string]string{"COFFER_DATABASE_URL": "ssm:/a", "COFFER_AUTH_SECRET": "ssm:/b"},
			r: &fakeResolver{values: map[string]string{"ssm:/c": plantedAuth}}, wantErr: []string{"COFFER_DATABASE_URL (ssm:/a)", "COFFER_AUTH_SECRET (ssm:/b)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env)
			var r Resolver
			if tt.r != nil {
				r = tt.r
			}
			err := c.Resolve(context.Background(), r)
			if err == nil {
				t.Fatal("Resolve succeeded")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			checkNoSecret(t, "error", err.Error())
		})
	}
}

func TestResolvedValueIsNotAReferenceAgain(t *testing.T) {
	c := mustLoad(t, map[string]string{"COFFER_AUTH_SECRET": "ssm:/coffer/auth"})
	r := &fakeResolver{values: map[string]string{"ssm:/coffer/auth": "ssm:/coffer/other-but-long-enough-to-be-a-secret"}}
	if err := c.Resolve(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if c.AuthSecret != "ssm:/coffer/other-but-long-enough-to-be-a-secret" || len(r.asked) != 1 {
		t.Errorf("AuthSecret %q after %d lookups; want the value as it is after 1", c.AuthSecret, len(r.asked))
	}
}

func TestLoadRejectsEmptyReferences(t *testing.T) {
	for _, v := range []string{"ssm:", "secretsmanager:", "secretsmanager:app#", "file:"} {
		_, err := Load(nil, env(map[string]string{"COFFER_AUTH_SECRET": v}))
		if err == nil || !strings.Contains(err.Error(), "COFFER_AUTH_SECRET") {
			t.Errorf("Load(COFFER_AUTH_SECRET=%q): %v; want an error naming the setting", v, err)
		}
	}
	// A reference may come from COFFER_X_FILE too.
	c := mustLoad(t, map[string]string{"COFFER_AUTH_SECRET_FILE": writeFile(t, "ssm:/coffer/auth\n")})
	if ref, ok := c.References()["COFFER_AUTH_SECRET"]; !ok || ref.String() != "ssm:/coffer/auth" {
		t.Errorf("reference in COFFER_AUTH_SECRET_FILE not recorded: %v", c.References())
	}
}

func TestNeedsResolverOnlyForAWSReferences(t *testing.T) {
	c := mustLoad(t, map[string]string{"COFFER_AUTH_SECRET": "file:" + writeFile(t, plantedAuth)})
	if c.NeedsResolver() {
		t.Error("NeedsResolver = true for a file: reference only")
	}
	if c := mustLoad(t, validEnv()); c.NeedsResolver() || len(c.References()) != 0 {
		t.Error("references found in plain values")
	}
}

func TestRootKeyEntries(t *testing.T) {
	blob := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 184))
	tests := []struct {
		name    string
		rootKey string
		want    int // entries; -1: an error
		plain   int // how many of them plain
		errHas  string
	}{
		{"one blob", blob, 1, 0, ""},
		{"rotation", blob + "," + blob, 2, 0, ""},
		{"moving to KMS: plain key after the blob", blob + "," + plantedOldKey, 2, 1, ""},
		{"plain key first", plantedRootKey + "," + blob, -1, 0, "first (current) key is a plain key"},
		{"not base64", blob + ",not*base64" + plantedDBPass, -1, 0, "key 2 of 2"},
		{"too short", base64.StdEncoding.EncodeToString([]byte("short")), -1, 0, "too short"},
		{"unset", "", -1, 0, "coffer keys generate --kms-key-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{RootKey: tt.rootKey, RootKeyKMSKeyID: "alias/coffer", Dev: true}
			entries, err := c.RootKeyEntries()
			verr := checkRootKey(c)
			if tt.want < 0 {
				if err == nil || verr == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("RootKeyEntries: %v, Validate: %v; want an error with %q", err, verr, tt.errHas)
				}
				checkNoSecret(t, "error", err.Error())
				return
			}
			if err != nil || verr != nil {
				t.Fatalf("RootKeyEntries: %v, Validate: %v", err, verr)
			}
			plain := 0
			for _, e := range entries {
				if e.Plain != "" {
					plain++
				} else if len(e.Wrapped) != 184 {
					t.Errorf("wrapped entry of %d bytes", len(e.Wrapped))
				}
			}
			if len(entries) != tt.want || plain != tt.plain {
				t.Errorf("%d entries, %d plain; want %d, %d", len(entries), plain, tt.want, tt.plain)
			}
		})
	}
}
