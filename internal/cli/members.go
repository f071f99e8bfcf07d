package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMembersCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "Give machine identities roles in a project",
		Long: `Manage who may do what in a project. For now members are machine identities; adding
users as project members comes with a later release.`,
		Example: `  coffer members add --projectId "$PROJECT_ID" --identity "$IDENTITY_ID" --role member`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMembersAddCmd(env, g))
	return cmd
}

func newMembersAddCmd(env Env, g *globals) *cobra.Command {
	var projectID, identityID, role string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a machine identity to a project, or change its role",
		Long: `Give a machine identity of your organization a role in a project, or change the role it
has. Project admins may.

Roles: admin (everything, members too), member (read and write secrets), viewer (read
secrets) and no-access. Only machine identities can be added for now (--identity);
adding users comes with a later release.`,
		Example: `  coffer members add --projectId 0190f1a2-... --identity 0190f1b7-... --role member
  coffer members add --identity "$IDENTITY_ID" --role viewer   # project from .coffer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flagOneOf("--role", role, "admin", "member", "viewer", "no-access"); err != nil {
				return err
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID == "" {
				projectID = lookup(env, "COFFER_PROJECT_ID", "INFISICAL_PROJECT_ID")
			}
			if projectID == "" && s.pf != nil {
				projectID = s.pf.ProjectID
			}
			if projectID == "" {
				return fmt.Errorf("no project: pass --projectId, set COFFER_PROJECT_ID, or run `coffer init` in this directory")
			}
			if err := c.SetIdentityMembership(cmd.Context(), projectID, identityID, role); err != nil {
				return fmt.Errorf("give identity %s the role %s in project %s: %w", identityID, role, projectID, err)
			}
			s.say("Identity %s now has the role %s in project %s.", identityID, role, projectID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&projectID, "projectId", "", "project id (default $COFFER_PROJECT_ID, or .coffer.json)")
	f.StringVar(&identityID, "identity", "", "machine identity id (required)")
	f.StringVar(&role, "role", "", "project role: admin, member, viewer or no-access (required)")
	_ = cmd.MarkFlagRequired("identity")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}
