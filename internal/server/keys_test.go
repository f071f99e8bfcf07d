package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
)

func TestRootKeyRotation(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newKey := func() string { k, _ := keyring.GenerateKey(); return keyring.EncodeRootKey(k) }
	oldRoot, newRoot := newKey(), newKey()
	cfg := &config.Config{DataDir: t.TempDir(), AuthSecret: strings.Repeat("s", 40), MaxBodyBytes: 1 << 20, ShutdownTimeout: time.Second}
	cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "coffer.db")

	// node runs a node with the given root keys and returns its client and a stop function.
	node := func(roots string) (*httptest.Server, func()) {
		cfg.RootKey = roots
		srv, err := server.New(ctx, cfg, log, server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler)
		return hs, func() { hs.Close(); srv.Close() }
	}
	hs, stop := node(oldRoot)
	boot, err := client.New(hs.URL).Bootstrap(ctx, "a@example.com", "a long passphrase", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(hs.URL, client.WithToken(boot.Identity.Credentials.Token))
	var proj struct{ Project struct{ ID string } }
	if err := c.Do(ctx, http.MethodPost, "/api/v2/workspace", nil, map[string]string{"projectName": "web"}, &proj); err != nil {
		t.Fatal(err)
	}
	body := map[string]string{"projectId": proj.Project.ID, "environment": "dev", "secretValue": "rotated-value-7f3a"}
	if err := c.Do(ctx, http.MethodPost, "/api/v4/secrets/K", nil, body, nil); err != nil {
		t.Fatal(err)
	}
	stop()

	cfg.RootKey = newRoot + "," + oldRoot
	n, total, err := server.RewrapKeys(ctx, cfg, log)
	if err != nil || n != 1 || total != 1 {
		t.Fatalf("rewrap: %d of %d, %v", n, total, err)
	}
	if n, _, err := server.RewrapKeys(ctx, cfg, log); err != nil || n != 0 {
		t.Fatalf("second rewrap should find nothing to do: %d, %v", n, err)
	}

	read := func(roots string) (string, error) {
		hs, stop := node(roots)
		defer stop()
		s, err := client.New(hs.URL, client.WithToken(boot.Identity.Credentials.Token)).
			ListSecrets(ctx, client.ListSecretsInput{ProjectID: proj.Project.ID, Environment: "dev", SecretPath: "/"})
		if err != nil {
			return "", err
		}
		return s.Secrets[0].SecretValue, nil
	}
	if v, err := read(newRoot); err != nil || v != "rotated-value-7f3a" {
		t.Fatalf("after rewrap the new root alone must open the data: %q, %v", v, err)
	}
	if _, err := read(oldRoot); client.StatusCode(err) != http.StatusInternalServerError {
		t.Fatalf("the old root alone must no longer open the data, got %v", err)
	}
}
