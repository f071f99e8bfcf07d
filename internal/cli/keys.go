package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/server"
)

func newKeysCmd(env Env) *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Generate and manage encryption keys"}
	keys.AddCommand(&cobra.Command{
		Use:     "generate",
		Short:   "Print a new root key (COFFER_ROOT_KEY) and auth secret (COFFER_AUTH_SECRET)",
		Example: "  coffer keys generate > coffer.env   # then move the values into your secret store",
		Long: `Print a new random root encryption key and token-signing secret as environment
assignments. Store them in your secret store (SSM Parameter Store, KMS-wrapped, or files
readable only by the server), never in source control.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyring.GenerateKey()
			if err != nil {
				return err
			}
			s := make([]byte, 32)
			if _, err := rand.Read(s); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "COFFER_ROOT_KEY=%s\nCOFFER_AUTH_SECRET=%s\n", keyring.EncodeRootKey(k), base64.RawURLEncoding.EncodeToString(s))
			return nil
		},
	})
	keys.AddCommand(newKeysRewrapCmd(env))
	return keys
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
			if err := cfg.Validate(); err != nil {
				return err
			}
			n, total, err := server.RewrapKeys(cmd.Context(), cfg, newLogger(cfg, env.Stderr))
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
