package cli

import (
	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/config"
)

func newConfigCmd(env Env) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Print the effective server configuration, secrets redacted",
		Example: "  COFFER_DATABASE_URL=postgres://coffer:pw@db/coffer coffer config\n  coffer config --markdown",
		Long: `Print the configuration the server would run with, from flags, then COFFER_* environment
variables, then defaults. Secret settings print as [REDACTED]; the database URL keeps
everything but its password; a secret setting given as a reference (ssm:, secretsmanager:,
file:) prints the reference, which is not read. With --markdown, print the table of every
setting instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				config.MarkdownTable(env.Stdout)
				return nil
			}
			cfg, err := config.Load(cmd.Flags(), env.LookupEnv)
			if err != nil {
				return err
			}
			cfg.Dump(env.Stdout)
			return nil
		},
	}
	config.BindFlags(cmd.Flags())
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the table of settings (for the README)")
	return cmd
}
