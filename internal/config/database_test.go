package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateDatabase(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "rds-ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	replica := "postgres://ro:" + plantedDBPass + "@replica.internal:5432/coffer"
	tests := []struct {
		name    string
		set     map[string]string // changes to validEnv; "" unsets
		wantErr []string          // substrings; none means valid
	}{
		{name: "one replica", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": replica}},
		{name: "two replicas and blanks", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": " " + replica + " ,, postgresql://r2/coffer "}},
		{name: "multi-host replica", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": "postgres://ro:" + plantedDBPass + "@r1:5432,r2:5432/coffer?target_session_attrs=prefer-standby"}},
		{name: "replicas with sqlite", set: map[string]string{"COFFER_DATABASE_URL": "sqlite:/tmp/c.db", "COFFER_DATABASE_READ_REPLICAS": replica},
			wantErr: []string{"COFFER_DATABASE_READ_REPLICAS", "need PostgreSQL", "SQLite"}},
		{name: "replicas with default sqlite", set: map[string]string{"COFFER_DATABASE_URL": "", "COFFER_DATABASE_READ_REPLICAS": replica},
			wantErr: []string{"COFFER_DATABASE_READ_REPLICAS", "SQLite"}},
		{name: "replica not postgres", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": replica + ",mysql://u:" + plantedDBPass + "@h/db"},
			wantErr: []string{"COFFER_DATABASE_READ_REPLICAS: replica 2 of 2", "postgres://"}},
		{name: "replica bad url", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": "postgres://u:" + plantedDBPass + "/x@h/db"},
			wantErr: []string{"COFFER_DATABASE_READ_REPLICAS: replica 1 of 1", "not a valid"}},
		{name: "multi-host primary", set: map[string]string{"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@127.0.0.1:1,127.0.0.1:5432/coffer?target_session_attrs=read-write&connect_timeout=2"}},
		{name: "sslrootcert present", set: map[string]string{"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@db/coffer?sslmode=verify-full&sslrootcert=" + ca}},
		{name: "sslrootcert system", set: map[string]string{"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@db/coffer?sslmode=verify-full&sslrootcert=system"}},
		{name: "sslrootcert missing", set: map[string]string{"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@db/coffer?sslmode=verify-full&sslrootcert=/missing/rds-ca.pem"},
			wantErr: []string{"COFFER_DATABASE_URL", "sslrootcert", `"/missing/rds-ca.pem"`, "no such file"}},
		{name: "replica sslkey missing", set: map[string]string{"COFFER_DATABASE_READ_REPLICAS": replica + "?sslmode=verify-full&sslcert=" + ca + "&sslkey=/missing/key.pem"},
			wantErr: []string{"COFFER_DATABASE_READ_REPLICAS: replica 1 of 1", "sslkey"}},
		{name: "connect timeout", set: map[string]string{"COFFER_DATABASE_URL": "postgres://coffer:" + plantedDBPass + "@db/coffer?connect_timeout=soon"},
			wantErr: []string{"COFFER_DATABASE_URL", "connect_timeout", `"soon"`}},
		{name: "max conns", set: map[string]string{"COFFER_DATABASE_MAX_CONNS": "-1"}, wantErr: []string{"COFFER_DATABASE_MAX_CONNS"}},
		{name: "max conns set", set: map[string]string{"COFFER_DATABASE_MAX_CONNS": "40"}},
		{name: "statement timeout negative", set: map[string]string{"COFFER_DATABASE_STATEMENT_TIMEOUT": "-1s"}, wantErr: []string{"COFFER_DATABASE_STATEMENT_TIMEOUT"}},
		{name: "statement timeout off", set: map[string]string{"COFFER_DATABASE_STATEMENT_TIMEOUT": "0"}},
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

func TestReadReplicaURLs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ", nil},
		{"postgres://a/db", []string{"postgres://a/db"}},
		{"postgres://a/db, postgresql://b/db", []string{"postgres://a/db", "postgresql://b/db"}},
		{"postgres://u@a:5432,b:5433/db?target_session_attrs=standby,postgres://c/db",
			[]string{"postgres://u@a:5432,b:5433/db?target_session_attrs=standby", "postgres://c/db"}},
	}
	for _, tt := range tests {
		if got := (&Config{DatabaseReadReplicas: tt.in}).ReadReplicaURLs(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ReadReplicaURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDumpDatabase(t *testing.T) {
	m := validEnv()
	m["COFFER_DATABASE_READ_REPLICAS"] = "postgres://ro:" + plantedDBPass + "@r1:5432/coffer,postgres://ro:" + plantedDBPass + "@r2:5432,r3:5432/coffer?sslmode=require"
	m["COFFER_DATABASE_STATEMENT_TIMEOUT"] = "5s"
	c := mustLoad(t, m)
	if c.DatabaseStatementTimeout != 5*time.Second || c.DatabaseMaxConns != 0 {
		t.Errorf("statement timeout %v, max conns %d", c.DatabaseStatementTimeout, c.DatabaseMaxConns)
	}
	var b bytes.Buffer
	c.Dump(&b)
	checkNoSecret(t, "Dump", b.String())
	want := "COFFER_DATABASE_READ_REPLICAS=postgres://ro:[REDACTED]@r1:5432/coffer,postgres://ro:[REDACTED]@r2:5432,r3:5432/coffer?sslmode=require\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("Dump lacks %q:\n%s", want, b.String())
	}
}
