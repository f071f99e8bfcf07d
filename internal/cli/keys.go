package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/keyring"
)

func newKeysCmd(env Env) *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Generate and manage encryption keys"}
	keys.AddCommand(&cobra.Command{
		Use:   "generate",
		Short: "Print a new root key (COFFER_ROOT_KEY) and auth secret (COFFER_AUTH_SECRET)",
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
	return keys
}
