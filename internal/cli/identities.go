package cli

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

func newIdentitiesCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "Create machine identities and their client secrets",
		Long: `Machine identities are how apps, CI jobs and clusters sign in: each has a client id
(universal auth) and any number of client secrets. Create one, make it a client secret,
give it a role in a project with "coffer members add", and log in with
"coffer login --method universal-auth".`,
		Example: `  read -r IDENTITY_ID CLIENT_ID <<<"$(coffer identities create ci --plain)"
  CLIENT_SECRET=$(coffer identities client-secret create "$IDENTITY_ID" --plain --silent)
  coffer members add --projectId "$PROJECT_ID" --identity "$IDENTITY_ID" --role member`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cs := &cobra.Command{
		Use:   "client-secret",
		Short: "Manage the client secrets of an identity's universal auth",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cs.AddCommand(newClientSecretCreateCmd(env, g))
	cmd.AddCommand(newIdentitiesCreateCmd(env, g), cs)
	return cmd
}

// createdIdentity is what "identities create" prints with --output json.
type createdIdentity struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	OrgID    string `json:"orgId"`
	Role     string `json:"role"`
	ClientID string `json:"clientId,omitempty"`
}

func newIdentitiesCreateCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var role string
	var universalAuth, plain bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a machine identity in your organization",
		Long: `Create a machine identity in the organization of the token (organization admins may),
with an organization role and, unless --universal-auth=false, universal auth. The role is
no-access by default: the identity sees only the projects it is made a member of with
"coffer members add". An admin identity administers the organization and every project.

It prints the identity's id and its universal-auth client id; neither is a secret. Make a
client secret with "coffer identities client-secret create". With --plain it prints the id
and the client id on one line, separated by a space.`,
		Example: `  coffer identities create ci
  coffer identities create deployer --org-role member --output json
  read -r IDENTITY_ID CLIENT_ID <<<"$(coffer identities create ci --plain)"`,
		Args: adminArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flagOneOf("--org-role", role, "no-access", "member", "admin"); err != nil {
				return err
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			me, err := c.Whoami(ctx)
			if err != nil {
				return fmt.Errorf("find your organization: %w", err)
			}
			ident, err := c.CreateIdentity(ctx, me.OrgID, args[0], role)
			if err != nil {
				return fmt.Errorf("create identity %q: %w", args[0], err)
			}
			res := createdIdentity{ID: ident.ID, Name: ident.Name, OrgID: ident.OrgID, Role: role}
			if universalAuth {
				ua, err := c.AttachUniversalAuth(ctx, ident.ID)
				if err != nil {
					return fmt.Errorf("identity %s was created, but attaching universal auth failed (`coffer identities client-secret create %s` attaches it): %w",
						ident.ID, ident.ID, err)
				}
				res.ClientID = ua.ClientID
			}
			switch {
			case plain && res.ClientID != "":
				fmt.Fprintln(env.Stdout, res.ID, res.ClientID)
			case plain:
				fmt.Fprintln(env.Stdout, res.ID)
			case out.json():
				return printJSON(env.Stdout, res)
			default:
				table(env.Stdout, []string{"ID", "NAME", "ORG ROLE", "CLIENT ID"}, [][]string{{res.ID, res.Name, res.Role, orDash(res.ClientID)}})
			}
			if res.ClientID != "" {
				s.say("Next: coffer identities client-secret create %s", res.ID)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "org-role", "no-access", "organization role: no-access, member or admin")
	f.BoolVar(&universalAuth, "universal-auth", true, "attach universal auth (a client id) to the identity")
	f.BoolVar(&plain, "plain", false, "print only the id and the client id, separated by a space")
	out.bind(cmd)
	cmd.MarkFlagsMutuallyExclusive("plain", "output")
	return cmd
}

// createdClientSecret is what "identities client-secret create" prints with --output json.
type createdClientSecret struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	ID           string `json:"id"`
	Prefix       string `json:"prefix"`
}

func newClientSecretCreateCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var description string
	var ttl, numUses int
	var plain bool
	cmd := &cobra.Command{
		Use:   "create IDENTITY_ID",
		Short: "Make a client secret for an identity (shown only once)",
		Long: `Make a universal-auth client secret for an identity, attaching universal auth first if
the identity has none. The secret is printed this once: the server keeps only its hash.
Store it where the app or CI job reads it, and log in with
"coffer login --method universal-auth --client-id ID --client-secret SECRET".

--ttl and --num-uses limit the secret's life (0, the default, is no limit). With --plain
only the secret is printed; --output json prints clientId, clientSecret, id and prefix.`,
		Example: `  coffer identities client-secret create 0190f1a2-... --description "GitHub Actions"
  CLIENT_SECRET=$(coffer identities client-secret create "$IDENTITY_ID" --ttl 86400 --plain --silent)
  coffer identities client-secret create "$IDENTITY_ID" --output json > ci-credentials.json`,
		Args: adminArgs("IDENTITY_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ttl < 0 || numUses < 0 {
				return fmt.Errorf("--ttl and --num-uses must not be negative")
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			ctx, id := cmd.Context(), args[0]
			ua, err := c.GetUniversalAuth(ctx, id)
			if client.StatusCode(err) == http.StatusNotFound {
				if ua, err = c.AttachUniversalAuth(ctx, id); err == nil {
					s.say("Attached universal auth to identity %s (client id %s).", id, ua.ClientID)
				}
			}
			if err != nil {
				return fmt.Errorf("universal auth of identity %s: %w", id, err)
			}
			cs, err := c.CreateClientSecret(ctx, id, description, numUses, ttl)
			if err != nil {
				return fmt.Errorf("create a client secret for identity %s: %w", id, err)
			}
			res := createdClientSecret{ClientID: ua.ClientID, ClientSecret: cs.Secret, ID: cs.ID, Prefix: cs.Prefix}
			switch {
			case plain:
				fmt.Fprintln(env.Stdout, res.ClientSecret)
			case out.json():
				if err := printJSON(env.Stdout, res); err != nil {
					return err
				}
			default:
				table(env.Stdout, []string{"CLIENT ID", "CLIENT SECRET", "SECRET ID", "PREFIX"},
					[][]string{{res.ClientID, res.ClientSecret, res.ID, res.Prefix}})
			}
			s.say("This is the only time the client secret is shown: store it safely.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&description, "description", "", "what the secret is for")
	f.IntVar(&ttl, "ttl", 0, "seconds until the secret expires (0: never)")
	f.IntVar(&numUses, "num-uses", 0, "how many logins the secret allows (0: no limit)")
	f.BoolVar(&plain, "plain", false, "print only the client secret")
	out.bind(cmd)
	cmd.MarkFlagsMutuallyExclusive("plain", "output")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
