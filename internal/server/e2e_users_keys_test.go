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
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
)

// TestTOTPSurvivesRootKeyRotation: TOTP secrets are sealed by the root key; `coffer keys rewrap`
// re-seals them, so after the old root key is dropped a user still signs in with TOTP.
func TestTOTPSurvivesRootKeyRotation(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newKey := func() string { k, _ := keyring.GenerateKey(); return keyring.EncodeRootKey(k) }
	oldRoot, newRoot := newKey(), newKey()
	cfg, err := config.Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.AuthSecret = t.TempDir(), strings.Repeat("s", 40)
	cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "coffer.db")
	node := func(roots string) (*httptest.Server, func()) {
		cfg.RootKey = roots
		srv, err := server.New(ctx, cfg, log, server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler)
		return hs, func() { hs.Close(); srv.Close() }
	}
	const email, password = "a@example.com", "a long passphrase"
	hs, stop := node(oldRoot)
	if _, err := client.New(hs.URL).Bootstrap(ctx, email, password, "Acme"); err != nil {
		t.Fatal(err)
	}
	res, err := client.New(hs.URL).Login(ctx, email, password, "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(hs.URL, client.WithToken(res.AccessToken))
	enr, err := c.EnrollTOTP(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := identity.TOTPCode(enr.Secret, time.Now())
	if _, err := c.ConfirmTOTP(ctx, "", code); err != nil {
		t.Fatal(err)
	}
	stop()

	cfg.RootKey = newRoot + "," + oldRoot
	if _, _, err := server.RewrapKeys(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	hs, stop = node(newRoot)
	defer stop()
	next, _ := identity.TOTPCode(enr.Secret, time.Now().Add(30*time.Second))
	res, err = client.New(hs.URL).Login(ctx, email, password, next)
	if err != nil || res.AccessToken == "" {
		t.Fatalf("sign-in with TOTP after the rotation: %+v, %v (status %d)", res, err, client.StatusCode(err))
	}
	if _, err := client.New(hs.URL).Login(ctx, email, password, "000000"); client.StatusCode(err) != http.StatusUnauthorized {
		t.Errorf("a wrong code after the rotation: %v", err)
	}
}
