package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/rootcreds"
	"github.com/cofferhq/coffer/internal/server"
)

func newKeysCmd(env Env) *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Generate and manage encryption keys"}
	keys.AddCommand(newKeysGenerateCmd(env))
	keys.AddCommand(newKeysRewrapCmd(env))
	return keys
}

func newKeysGenerateCmd(env Env) *cobra.Command {
	var kmsKeyID string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Print a new root key (COFFER_ROOT_KEY) and auth secret (COFFER_AUTH_SECRET)",
		Example: "  coffer keys generate > coffer.env   # then move the values into your secret store\n" +
			"  coffer keys generate --kms-key-id alias/coffer   # a root key wrapped by AWS KMS",
		Long: `Print a new random root encryption key and token-signing secret as environment
assignments. Store them in your secret store (SSM Parameter Store, KMS-wrapped, or files
readable only by the server), never in source control.

With --kms-key-id, AWS KMS makes the root key (kms:GenerateDataKeyWithoutPlaintext, encryption
context coffer=root-key) and only its wrapped form is printed, with COFFER_ROOT_KEY_KMS_KEY_ID:
the plain key never leaves KMS, and the server unwraps it with kms:Decrypt at start. AWS
credentials, region and endpoint come from the usual AWS_* variables and files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s := make([]byte, 32)
			if _, err := rand.Read(s); err != nil {
				return err
			}
			auth := base64.RawURLEncoding.EncodeToString(s)
			if kmsKeyID != "" {
				ctx, cancel := context.WithTimeout(cmd.Context(), resolveTimeout)
				defer cancel()
				blob, err := (&rootcreds.AWS{}).NewWrappedRootKey(ctx, kmsKeyID)
				if err != nil {
					return fmt.Errorf("--kms-key-id %s: %w", kmsKeyID, err)
				}
				fmt.Fprintf(env.Stdout, "COFFER_ROOT_KEY_KMS_KEY_ID=%s\nCOFFER_ROOT_KEY=%s\nCOFFER_AUTH_SECRET=%s\n",
					kmsKeyID, base64.StdEncoding.EncodeToString(blob), auth)
				return nil
			}
			k, err := keyring.GenerateKey()
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "COFFER_ROOT_KEY=%s\nCOFFER_AUTH_SECRET=%s\n", keyring.EncodeRootKey(k), auth)
			return nil
		},
	}
	cmd.Flags().StringVar(&kmsKeyID, "kms-key-id", "", "AWS KMS key (id, ARN or alias/NAME) to wrap the new root key with")
	return cmd
}

func newKeysRewrapCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rewrap",
		Short:   "Re-wrap every project data key under the current root key (root-key rotation)",
		Example: "  COFFER_ROOT_KEY=\"$NEW,$OLD\" COFFER_DATABASE_URL=postgres://… coffer keys rewrap",
		Long: `Rotate the root key online:

  1. coffer keys generate                      make a new root key
  2. COFFER_ROOT_KEY=NEW,OLD on every node     new first: nodes seal with it, open with either
  3. COFFER_ROOT_KEY=NEW,OLD coffer keys rewrap  re-wrap every project key under NEW
  4. COFFER_ROOT_KEY=NEW on every node         the old key is no longer needed

Secret values are not re-encrypted: only the project data keys that protect them are.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), env.LookupEnv)
			if err != nil {
				return err
			}
			log := newLogger(cfg, env.Stderr)
			if err := resolveReferences(cmd.Context(), cfg, log); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			n, total, err := server.RewrapKeys(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "re-wrapped %d of %d project keys; every project key is now wrapped by the first root key\n", n, total)
			return nil
		},
	}
	config.BindFlags(cmd.Flags())
	return cmd
}
