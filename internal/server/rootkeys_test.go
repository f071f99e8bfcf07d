package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/rootcreds"
	"github.com/cofferhq/coffer/internal/rootcreds/awstest"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestPrepareDevNeverGeneratesAKMSRootKey(t *testing.T) {
	cfg := &config.Config{Dev: true, DataDir: t.TempDir(), RootKeyKMSKeyID: "alias/coffer", Listen: "127.0.0.1:0",
		LogLevel: "info", LogFormat: "json", MaxBodyBytes: 1 << 20}
	if _, err := PrepareDev(cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.RootKey != "" {
		t.Error("development mode made a root key although COFFER_ROOT_KEY_KMS_KEY_ID is set")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, DevRootKeyFile)); err == nil {
		t.Error("development mode wrote a root key file although COFFER_ROOT_KEY_KMS_KEY_ID is set")
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--kms-key-id") {
		t.Errorf("Validate: %v; want it to ask for a KMS-wrapped root key", err)
	}
}

// TestRootKeysMovingToKMS: a KMS-wrapped new key first and the plain old key after it, the
// documented way from plain keys to KMS, gives both keys in that order.
func TestRootKeysMovingToKMS(t *testing.T) {
	k := testenv.LocalKMS(t)
	awstest.Isolate(t)
	t.Setenv("AWS_REGION", k.Region)
	t.Setenv("AWS_ENDPOINT_URL_KMS", k.URL)
	ctx := context.Background()

	keyID := createKMSKey(t, k.URL)
	blob, err := (&rootcreds.AWS{}).NewWrappedRootKey(ctx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	old, err := keyring.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{RootKeyKMSKeyID: keyID, RootKey: base64.StdEncoding.EncodeToString(blob) + "," + keyring.EncodeRootKey(old)}
	keys, err := rootKeys(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || len(keys[0]) != 32 || !bytes.Equal(keys[1], old) {
		t.Fatalf("rootKeys gave %d keys; want the unwrapped key, then the plain old one", len(keys))
	}
	if _, err := keyring.New(nil, keys...); err != nil {
		t.Fatalf("the keyring refuses them: %v", err)
	}
	clearKeys(keys)
	if !bytes.Equal(keys[1], make([]byte, 32)) {
		t.Error("clearKeys left key bytes behind")
	}
}

// createKMSKey creates a key in local-kms with a bare JSON call (local-kms checks no signature).
func createKMSKey(t *testing.T, url string) string {
	t.Helper()
	req, err := newKMSRequest(url, "TrentService.CreateKey", `{"Description":"coffer test"}`)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ KeyMetadata struct{ KeyId string } }
	if err := doJSON(req, &out); err != nil || out.KeyMetadata.KeyId == "" {
		t.Fatalf("CreateKey: %v", err)
	}
	return out.KeyMetadata.KeyId
}

func newKMSRequest(url, target, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	return req, nil
}

func doJSON(req *http.Request, v any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
