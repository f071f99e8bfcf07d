package rootcreds_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/rootcreds"
	"github.com/cofferhq/coffer/internal/rootcreds/awstest"
)

const (
	plantedDBURL = "postgres://coffer:planted-db-password@db.internal:5432/coffer"
	plantedAuth  = "planted-auth-secret-0123456789abcdefghij"
)

func mustRef(t *testing.T, s string) config.Reference {
	t.Helper()
	ref, ok, err := config.ParseReference(s)
	if !ok || err != nil {
		t.Fatalf("ParseReference(%q): %v %v", s, ok, err)
	}
	return ref
}

func TestResolve(t *testing.T) {
	aws := awstest.Start(t)
	aws.PutParameter("/coffer/db-url", plantedDBURL, true)
	aws.PutParameter("/coffer/plain", "plain-value", false)
	aws.PutSecret("coffer/app", `{"auth":"`+plantedAuth+`","port":5432,"db_url":"`+plantedDBURL+`"}`)
	aws.PutSecret("coffer/whole", plantedAuth)
	aws.PutSecret("coffer/not-json", "planted-not-json-value")
	aws.PutBinarySecret("coffer/binary", []byte("planted-binary"))

	tests := []struct {
		ref     string
		want    string   // the value; "" when an error is expected
		wantErr []string // substrings of the error
	}{
		{ref: "ssm:/coffer/db-url", want: plantedDBURL},
		{ref: "ssm:/coffer/plain", want: "plain-value"},
		{ref: "ssm:/coffer/missing", wantErr: []string{"ssm:GetParameter", "ParameterNotFound", "no such parameter"}},
		{ref: "secretsmanager:coffer/whole", want: plantedAuth},
		{ref: "secretsmanager:coffer/app#auth", want: plantedAuth},
		{ref: "secretsmanager:coffer/app#db_url", want: plantedDBURL},
		{ref: "secretsmanager:coffer/app#nope", wantErr: []string{`no key "nope"`}},
		{ref: "secretsmanager:coffer/app#port", wantErr: []string{`key "port"`, "not a JSON string"}},
		{ref: "secretsmanager:coffer/not-json#auth", wantErr: []string{"not a JSON object"}},
		{ref: "secretsmanager:coffer/binary", wantErr: []string{"no SecretString"}},
		{ref: "secretsmanager:coffer/missing", wantErr: []string{"secretsmanager:GetSecretValue", "ResourceNotFoundException", "no such secret"}},
	}
	r := &rootcreds.AWS{}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			v, err := r.Resolve(context.Background(), mustRef(t, tt.ref))
			if tt.wantErr == nil {
				if err != nil || v != tt.want {
					t.Fatalf("Resolve = %q, %v; want the value", v, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve = %q, want an error", v)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			for _, planted := range []string{"planted", "5432"} {
				if strings.Contains(err.Error(), planted) {
					t.Errorf("error quotes the secret (%q): %v", planted, err)
				}
			}
		})
	}

	// What AWS received: JSON 1.1, signed with SigV4 by the configured credentials, and
	// SecureStrings asked for decrypted.
	reqs := aws.Requests()
	if len(reqs) != len(tests) {
		t.Fatalf("the double got %d requests, want %d", len(reqs), len(tests))
	}
	for _, req := range reqs {
		if !strings.HasPrefix(req.Authorization, "AWS4-HMAC-SHA256 Credential=AKIDCOFFERTEST/") ||
			!strings.Contains(req.Authorization, "/"+awstest.Region+"/") || !strings.Contains(req.Authorization, "Signature=") {
			t.Errorf("%s: Authorization %q is not a SigV4 signature by the test credentials", req.Target, req.Authorization)
		}
		switch req.Target {
		case "AmazonSSM.GetParameter":
			if req.Body["WithDecryption"] != true {
				t.Errorf("GetParameter %v without WithDecryption=true", req.Body["Name"])
			}
		case "secretsmanager.GetSecretValue":
			if id, _ := req.Body["SecretId"].(string); !strings.HasPrefix(id, "coffer/") || strings.Contains(id, "#") {
				t.Errorf("GetSecretValue asked for SecretId %q", id)
			}
		default:
			t.Errorf("unexpected call %s", req.Target)
		}
	}
}

func TestResolveRegion(t *testing.T) {
	aws := awstest.Start(t)
	aws.PutSecret("coffer/app", plantedAuth)
	t.Setenv("AWS_REGION", "")
	r := &rootcreds.AWS{}
	if _, err := r.Resolve(context.Background(), mustRef(t, "ssm:/coffer/x")); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("no region: %v; want an error naming AWS_REGION", err)
	}
	// An ARN names its region.
	arn := "secretsmanager:arn:aws:secretsmanager:us-east-2:111122223333:secret:coffer/app"
	aws.PutSecret("arn:aws:secretsmanager:us-east-2:111122223333:secret:coffer/app", plantedAuth)
	if v, err := r.Resolve(context.Background(), mustRef(t, arn)); err != nil || v != plantedAuth {
		t.Fatalf("Resolve(%s) = %q, %v", arn, v, err)
	}
	reqs := aws.Requests()
	if last := reqs[len(reqs)-1]; !strings.Contains(last.Authorization, "/us-east-2/secretsmanager/") {
		t.Errorf("request for an ARN in us-east-2 signed as %q", last.Authorization)
	}
}

// TestConfigResolve runs the whole step the server runs: Load, Resolve through AWS, Validate,
// and checks that no resolved value shows in the dump, the logs' view or an error.
func TestConfigResolve(t *testing.T) {
	aws := awstest.Start(t)
	aws.PutParameter("/coffer/db-url", plantedDBURL, true)
	aws.PutSecret("coffer/app", `{"auth":"`+plantedAuth+`"}`)
	env := map[string]string{
		"COFFER_DATABASE_URL": "ssm:/coffer/db-url",
		"COFFER_AUTH_SECRET":  "secretsmanager:coffer/app#auth",
		"COFFER_ROOT_KEY":     "ssm:/coffer/missing-root-key",
		"COFFER_DATA_DIR":     "ssm:/coffer/not-a-secret-setting",
	}
	cfg, err := config.Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Resolve(context.Background(), &rootcreds.AWS{})
	if err == nil || !strings.Contains(err.Error(), "COFFER_ROOT_KEY (ssm:/coffer/missing-root-key): ssm:GetParameter: ParameterNotFound") {
		t.Fatalf("Resolve: %v; want the missing root key named", err)
	}
	if cfg.DatabaseURL != plantedDBURL || cfg.AuthSecret != plantedAuth {
		t.Errorf("the references that exist were not resolved")
	}
	if cfg.DataDir != "ssm:/coffer/not-a-secret-setting" {
		t.Errorf("DataDir = %q: a non-secret setting must be left alone", cfg.DataDir)
	}
	var dump bytes.Buffer
	cfg.Dump(&dump)
	for what, out := range map[string]string{"dump": dump.String(), "error": err.Error(), "%v": cfg.String()} {
		for _, planted := range []string{plantedDBURL, "planted-db-password", plantedAuth} {
			if strings.Contains(out, planted) {
				t.Errorf("%s shows a resolved value:\n%s", what, out)
			}
		}
	}
	for _, want := range []string{"COFFER_DATABASE_URL=ssm:/coffer/db-url\n", "COFFER_AUTH_SECRET=secretsmanager:coffer/app#auth\n"} {
		if !strings.Contains(dump.String(), want) {
			t.Errorf("dump lacks %q:\n%s", want, dump.String())
		}
	}
}
