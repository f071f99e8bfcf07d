package rootcreds_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cofferhq/coffer/internal/rootcreds"
	"github.com/cofferhq/coffer/internal/rootcreds/awstest"
	"github.com/cofferhq/coffer/internal/testenv"
)

// startKMS starts local-kms and points the AWS SDK at it; it returns a client for the test's
// own calls.
func startKMS(t *testing.T) *kms.Client {
	t.Helper()
	k := testenv.LocalKMS(t)
	awstest.Isolate(t)
	t.Setenv("AWS_REGION", k.Region)
	t.Setenv("AWS_ENDPOINT_URL_KMS", k.URL)
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return kms.NewFromConfig(cfg)
}

// createKey creates a symmetric KMS key and returns its id and ARN.
func createKey(t *testing.T, c *kms.Client) (id, arn string) {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("coffer test")})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return *out.KeyMetadata.KeyId, *out.KeyMetadata.Arn
}

func TestKMSWrapAndUnwrap(t *testing.T) {
	c := startKMS(t)
	ctx := context.Background()
	id, arn := createKey(t, c)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/coffer-test"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	r := &rootcreds.AWS{}
	blob, err := r.NewWrappedRootKey(ctx, "alias/coffer-test")
	if err != nil {
		t.Fatalf("NewWrappedRootKey: %v", err)
	}
	blob2, err := r.NewWrappedRootKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, keyID := range []string{id, arn, "alias/coffer-test"} {
		k, err := r.UnwrapRootKey(ctx, keyID, blob)
		if err != nil {
			t.Fatalf("UnwrapRootKey(%s): %v", keyID, err)
		}
		if len(k) != 32 {
			t.Fatalf("unwrapped %d bytes", len(k))
		}
		if first != nil && !bytes.Equal(k, first) {
			t.Fatalf("the same blob unwrapped to different keys")
		}
		first = k
	}
	k2, err := r.UnwrapRootKey(ctx, id, blob2)
	if err != nil || bytes.Equal(k2, first) {
		t.Fatalf("a second generated key: %v, equal to the first: %v", err, bytes.Equal(k2, first))
	}
	// The key KMS made is the one the encryption context binds: Decrypt it ourselves.
	out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"coffer": "root-key"}})
	if err != nil || !bytes.Equal(out.Plaintext, first) {
		t.Fatalf("Decrypt with the documented encryption context: %v", err)
	}
}

func TestKMSUnwrapFailsClearly(t *testing.T) {
	c := startKMS(t)
	ctx := context.Background()
	id, _ := createKey(t, c)
	other, _ := createKey(t, c)
	r := &rootcreds.AWS{}
	blob, err := r.NewWrappedRootKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	encrypt := func(plaintext []byte, encCtx map[string]string) []byte {
		out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: plaintext, EncryptionContext: encCtx})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	tests := []struct {
		name    string
		keyID   string
		blob    []byte
		wantErr []string
	}{
		{"another key", other, blob, []string{"kms:Decrypt", "InvalidCiphertextException"}},
		{"another encryption context", id, encrypt(bytes.Repeat([]byte{1}, 32), map[string]string{"coffer": "something-else"}), []string{"kms:Decrypt", "InvalidCiphertextException", "encryption context"}},
		{"no encryption context", id, encrypt(bytes.Repeat([]byte{1}, 32), nil), []string{"InvalidCiphertextException"}},
		{"not a root key", id, encrypt([]byte("sixteen bytes!!!"), map[string]string{"coffer": "root-key"}), []string{"not 32 bytes"}},
		{"no such key", "11111111-2222-3333-4444-555555555555", blob, []string{"kms:Decrypt", "NotFoundException", "no such KMS key"}},
		{"garbage", id, []byte("not a KMS ciphertext blob"), []string{"kms:Decrypt", "InvalidCiphertextException"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := r.UnwrapRootKey(ctx, tt.keyID, tt.blob)
			if err == nil {
				t.Fatalf("unwrapped %d bytes", len(k))
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	if _, err := r.NewWrappedRootKey(ctx, "alias/nope"); err == nil || !strings.Contains(err.Error(), "NotFoundException") {
		t.Errorf("NewWrappedRootKey with an unknown alias: %v", err)
	}
}
