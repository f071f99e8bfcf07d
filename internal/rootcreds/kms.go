package rootcreds

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// EncryptionContext is the KMS encryption context of every wrapped root key: a blob made for
// something else, even under the same KMS key, does not unwrap as a root key.
func EncryptionContext() map[string]string { return map[string]string{"coffer": "root-key"} }

// rootKeySize is the size of a root key in bytes.
const rootKeySize = 32

// kmsClient returns a KMS client for keyID.
func (a *AWS) kmsClient(ctx context.Context, keyID string) (*kms.Client, error) {
	cfg, err := a.config(ctx)
	if err != nil {
		return nil, err
	}
	reg, err := region(cfg, keyID)
	if err != nil {
		return nil, err
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.Region = reg }), nil
}

// UnwrapRootKey decrypts a root key wrapped by the KMS key keyID (kms:Decrypt with KeyId and
// EncryptionContext given, so a blob of another key or context fails). The caller hands the 32
// bytes to the keyring and clears them.
func (a *AWS) UnwrapRootKey(ctx context.Context, keyID string, blob []byte) ([]byte, error) {
	c, err := a.kmsClient(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out, err := c.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    blob,
		KeyId:             aws.String(keyID),
		EncryptionContext: EncryptionContext(),
	})
	if err != nil {
		return nil, describe("kms:Decrypt", err)
	}
	if len(out.Plaintext) != rootKeySize {
		clear(out.Plaintext)
		return nil, errors.New("kms:Decrypt: the unwrapped key is not 32 bytes: not a Coffer root key")
	}
	return out.Plaintext, nil
}

// NewWrappedRootKey returns a new random root key wrapped by the KMS key keyID, made by KMS with
// kms:GenerateDataKeyWithoutPlaintext: its plaintext never leaves KMS.
func (a *AWS) NewWrappedRootKey(ctx context.Context, keyID string) ([]byte, error) {
	c, err := a.kmsClient(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{
		KeyId:             aws.String(keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: EncryptionContext(),
	})
	if err != nil {
		return nil, describe("kms:GenerateDataKeyWithoutPlaintext", err)
	}
	return out.CiphertextBlob, nil
}
