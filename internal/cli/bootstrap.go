package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

// serverURL returns the server a client command talks to: --domain, then COFFER_API_URL, then
// INFISICAL_API_URL, then the development default.
func serverURL(env Env, flag string) string {
	if flag != "" {
		return flag
	}
	for _, k := range []string{"COFFER_API_URL", "INFISICAL_API_URL"} {
		if v, ok := env.LookupEnv(k); ok && v != "" {
			return v
		}
	}
	return "http://127.0.0.1:8080"
}

func newBootstrapCmd(env Env) *cobra.Command {
	var domain, email, org, output string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Set up a fresh instance: first admin user, organization and admin token",
		Long: `Create the first admin user and organization of a fresh Coffer instance, with a machine
identity that is an organization admin, and print that identity's token. Works once: a
second bootstrap of the same instance is refused.

The password is read from COFFER_BOOTSTRAP_PASSWORD, or from the first line of standard
input with --password-stdin; it must be at least 12 characters.`,
		Example: `  echo "$ADMIN_PASSWORD" | coffer bootstrap --email admin@example.com --organization Acme --password-stdin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			password, _ := env.LookupEnv("COFFER_BOOTSTRAP_PASSWORD")
			if passwordStdin {
				line, err := bufio.NewReader(env.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("--password-stdin: could not read a password from standard input")
				}
				password = strings.TrimRight(line, "\r\n")
			}
			if password == "" {
				return fmt.Errorf("no password: set COFFER_BOOTSTRAP_PASSWORD or pass --password-stdin")
			}
			c := client.New(serverURL(env, domain), client.WithUserAgent("coffer-cli/"+Version))
			res, err := c.Bootstrap(cmd.Context(), email, password, org)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(env.Stdout, "Instance set up.\n  user          %s (%s)\n  organization  %s (%s, id %s)\n  admin token   identity %s\n\n%s\n",
				res.User.Email, res.User.ID, res.Organization.Name, res.Organization.Slug, res.Organization.ID, res.Identity.ID, res.Identity.Credentials.Token)
			fmt.Fprintln(env.Stderr, "\nThe token above is an organization admin credential: store it in a secret store and do not share it.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&domain, "domain", "", "server URL (default $COFFER_API_URL, $INFISICAL_API_URL or http://127.0.0.1:8080)")
	f.StringVar(&email, "email", "", "e-mail address of the first admin user")
	f.StringVar(&org, "organization", "", "name of the organization")
	f.StringVar(&output, "output", "text", "output format: text or json")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	_ = cmd.MarkFlagRequired("email")
	_ = cmd.MarkFlagRequired("organization")
	return cmd
}
