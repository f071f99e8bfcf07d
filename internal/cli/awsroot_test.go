package cli

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cofferhq/coffer/internal/rootcreds/awstest"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/testenv"
)

// awsEmulators starts local-kms and the SSM / Secrets Manager double, points the AWS SDK at
// them, and returns the double and two fresh KMS key ids.
func awsEmulators(t *testing.T) (ssm *awstest.Server, keyID, otherKeyID string) {
	t.Helper()
	k := testenv.LocalKMS(t)
	ssm = awstest.Start(t)
	t.Setenv("AWS_REGION", k.Region)
	t.Setenv("AWS_ENDPOINT_URL_KMS", k.URL)
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := kms.NewFromConfig(cfg)
	for _, id := range []*string{&keyID, &otherKeyID} {
		out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("coffer root key")})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		*id = *out.KeyMetadata.KeyId
	}
	return ssm, keyID, otherKeyID
}

// startServer runs `coffer server` with vars until the returned stop is called; it waits
// until the server answers, or fails the test with what the server printed.
func startServer(t *testing.T, vars map[string]string) (url string, stop func() (code int, stderr string)) {
	t.Helper()
	addr := freePort(t)
	vars["COFFER_LISTEN"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := run(t, ctx, "", vars, "server")
		done <- result{code, stderr}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case r := <-done:
			cancel()
			t.Fatalf("server exited with %d:\n%s", r.code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr, func() (int, string) {
		cancel()
		r := <-done
		return r.code, r.stderr
	}
}

// generated reads the assignments `coffer keys generate` printed.
func generated(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("keys generate printed %q", line)
		}
		m[k] = v
	}
	return m
}

// TestServerWithRootCredentialsFromAWS starts a node whose database URL is an SSM SecureString,
// whose auth secret is a key of a Secrets Manager secret and whose root key is wrapped by KMS,
// all against emulators; it serves secrets, and serves them again after a restart. A wrong KMS
// key or a missing parameter stops it at start with an error naming the setting.
func TestServerWithRootCredentialsFromAWS(t *testing.T) {
	ssm, keyID, otherKeyID := awsEmulators(t)
	code, out, stderr := run(t, context.Background(), "", nil, "keys", "generate", "--kms-key-id", keyID)
	if code != 0 {
		t.Fatalf("keys generate --kms-key-id: %d %s", code, stderr)
	}
	keys := generated(t, out)
	if keys["COFFER_ROOT_KEY_KMS_KEY_ID"] != keyID || len(keys["COFFER_ROOT_KEY"]) < 100 || len(keys["COFFER_AUTH_SECRET"]) < 32 {
		t.Fatalf("keys generate --kms-key-id printed:\n%s", out)
	}

	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "coffer.db")
	ssm.PutParameter("/coffer/db-url", dbURL, true)
	ssm.PutSecret("coffer/app", fmt.Sprintf(`{"auth":%q,"other":"x"}`, keys["COFFER_AUTH_SECRET"]))
	vars := func(kmsKeyID, dbRef string) map[string]string {
		return map[string]string{
			"COFFER_DATABASE_URL":        dbRef,
			"COFFER_ROOT_KEY":            keys["COFFER_ROOT_KEY"],
			"COFFER_ROOT_KEY_KMS_KEY_ID": kmsKeyID,
			"COFFER_AUTH_SECRET":         "secretsmanager:coffer/app#auth",
			"COFFER_DATA_DIR":            dir,
			"COFFER_SHUTDOWN_DRAIN":      "0s",
		}
	}

	url, stop := startServer(t, vars(keyID, "ssm:/coffer/db-url"))
	n := &servertest.Node{URL: url}
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "aws", "admin")
	n.MustDo(t, http.MethodPost, "/api/v3/secrets/raw/DB_PASSWORD", p.Token,
		map[string]any{"workspaceId": p.ID, "environment": "dev", "secretValue": "kms-protected-value"})
	read := func() string {
		return string(n.MustDo(t, http.MethodGet, "/api/v3/secrets/raw/DB_PASSWORD?workspaceId="+p.ID+"&environment=dev", p.Token, nil).Body)
	}
	if got := read(); !strings.Contains(got, "kms-protected-value") {
		t.Fatalf("secret read back: %s", got)
	}
	code, logs := stop()
	if code != 0 {
		t.Fatalf("server exit %d:\n%s", code, logs)
	}
	for _, secret := range []string{keys["COFFER_AUTH_SECRET"], "kms-protected-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server logged a secret (%.8s…)", secret)
		}
	}
	if !strings.Contains(logs, "COFFER_DATABASE_URL=ssm:/coffer/db-url") {
		t.Errorf("the log does not say where the settings came from:\n%s", logs)
	}

	// The same wrapped key unwraps again: the stored project keys still open.
	url2, stop := startServer(t, vars(keyID, "ssm:/coffer/db-url"))
	n.URL = url2
	if got := read(); !strings.Contains(got, "kms-protected-value") {
		t.Fatalf("secret after a restart: %s", got)
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, logs)
	}

	refused := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"wrong KMS key", vars(otherKeyID, "ssm:/coffer/db-url"),
			[]string{"COFFER_ROOT_KEY", "COFFER_ROOT_KEY_KMS_KEY_ID=" + otherKeyID, "InvalidCiphertextException"}},
		{"unknown KMS key", vars("alias/no-such-key", "ssm:/coffer/db-url"),
			[]string{"COFFER_ROOT_KEY_KMS_KEY_ID=alias/no-such-key", "NotFoundException"}},
		{"missing parameter", vars(keyID, "ssm:/coffer/no-such-parameter"),
			[]string{"COFFER_DATABASE_URL (ssm:/coffer/no-such-parameter)", "ParameterNotFound"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["COFFER_LISTEN"] = freePort(t)
			code, _, stderr := run(t, context.Background(), "", tt.vars, "server")
			if code == 0 {
				t.Fatal("the server started")
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("error does not contain %q:\n%s", want, stderr)
				}
			}
			for _, secret := range []string{keys["COFFER_AUTH_SECRET"], dbURL} {
				if strings.Contains(stderr, secret) {
					t.Errorf("the error shows a resolved value (%.12s…):\n%s", secret, stderr)
				}
			}
		})
	}

	// coffer config shows the references, not what they hold, and calls no AWS API.
	before := len(ssm.Requests())
	code, out, stderr = run(t, context.Background(), "", vars(keyID, "ssm:/coffer/db-url"), "config")
	if code != 0 {
		t.Fatalf("config: %d %s", code, stderr)
	}
	for _, want := range []string{"COFFER_DATABASE_URL=ssm:/coffer/db-url\n", "COFFER_AUTH_SECRET=secretsmanager:coffer/app#auth\n",
		"COFFER_ROOT_KEY=[REDACTED]\n", "COFFER_ROOT_KEY_KMS_KEY_ID=" + keyID + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, keys["COFFER_AUTH_SECRET"]) || strings.Contains(out, dbURL) {
		t.Errorf("config printed a resolved value:\n%s", out)
	}
	if after := len(ssm.Requests()); after != before {
		t.Errorf("coffer config made %d AWS calls", after-before)
	}
}
