package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

func newMembersCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "Give users and machine identities roles in a project",
		Long: `Manage who may do what in a project: users of your organization (by e-mail, --user) and
machine identities (by id, --identity), each with one project role. Project admins may.

Roles: admin (everything, members too), member (read and write secrets), viewer (read
secrets), no-access, or the slug of one of the project's custom roles.`,
		Example: `  coffer members add --projectId "$PROJECT_ID" --user dev@example.com --role member
  coffer members add --projectId "$PROJECT_ID" --identity "$IDENTITY_ID" --role viewer
  coffer members list --projectId "$PROJECT_ID"
  coffer members remove --projectId "$PROJECT_ID" --user dev@example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMembersAddCmd(env, g), newMembersListCmd(env, g), newMembersRemoveCmd(env, g))
	return cmd
}

// memberFlags holds --user and --identity, of which a command takes exactly one.
type memberFlags struct{ user, identity string }

func (m *memberFlags) bind(cmd *cobra.Command, verb string) {
	cmd.Flags().StringVar(&m.user, "user", "", "e-mail address of a user of the organization to "+verb)
	cmd.Flags().StringVar(&m.identity, "identity", "", "id of a machine identity to "+verb)
}

// check requires exactly one of --user and --identity, not empty.
func (m *memberFlags) check(cmd *cobra.Command) error {
	u, i := cmd.Flags().Changed("user"), cmd.Flags().Changed("identity")
	switch {
	case u && i:
		return fmt.Errorf("--user and --identity cannot be used together: name one member\nusage: %s", cmd.UseLine())
	case !u && !i:
		return fmt.Errorf("pass --user EMAIL or --identity ID\nusage: %s", cmd.UseLine())
	case u && strings.TrimSpace(m.user) == "":
		return fmt.Errorf("--user: the e-mail address is empty")
	case i && strings.TrimSpace(m.identity) == "":
		return fmt.Errorf("--identity: the identity id is empty")
	}
	m.user, m.identity = strings.TrimSpace(m.user), strings.TrimSpace(m.identity)
	return nil
}

// resolveProject returns the project a command works on: --projectId, $COFFER_PROJECT_ID,
// $INFISICAL_PROJECT_ID, then the project of the nearest .coffer.json.
func resolveProject(s *session, flag string) (string, error) {
	id := flag
	if id == "" {
		id = lookup(s.env, "COFFER_PROJECT_ID", "INFISICAL_PROJECT_ID")
	}
	if id == "" && s.pf != nil {
		id = s.pf.ProjectID
	}
	if id == "" {
		return "", fmt.Errorf("no project: pass --projectId, set COFFER_PROJECT_ID, or run `coffer init` in this directory")
	}
	return id, nil
}

func bindProjectID(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "projectId", "", "project id (default $COFFER_PROJECT_ID, or .coffer.json)")
}

func newMembersAddCmd(env Env, g *globals) *cobra.Command {
	var projectID, role string
	var m memberFlags
	cmd := &cobra.Command{
		Use:   "add (--user EMAIL | --identity ID) --role ROLE",
		Short: "Add a user or machine identity to a project, or change its role",
		Long: `Give a user of your organization (--user, by e-mail) or a machine identity (--identity, by
id) a role in a project, or change the role it has. Project admins may, and only with roles
whose rights they hold themselves.

Roles: admin (everything, members too), member (read and write secrets), viewer (read
secrets), no-access, or the slug of one of the project's custom roles. The server checks
the role: an unknown one is refused and nothing changes.`,
		Example: `  coffer members add --projectId 0190f1a2-... --user dev@example.com --role member
  coffer members add --projectId 0190f1a2-... --identity 0190f1b7-... --role viewer
  coffer members add --user auditor@example.com --role read-only   # a custom role; project from .coffer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.check(cmd); err != nil {
				return err
			}
			if role = strings.TrimSpace(role); role == "" {
				return fmt.Errorf("--role: required, a built-in role or the slug of a custom role")
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID, err = resolveProject(s, projectID); err != nil {
				return err
			}
			ctx := cmd.Context()
			if m.identity != "" {
				if err := c.SetIdentityMembership(ctx, projectID, m.identity, role); err != nil {
					return fmt.Errorf("give identity %s the role %s in project %s: %w", m.identity, role, projectID, err)
				}
				s.say("Identity %s now has the role %s in project %s.", m.identity, role, projectID)
				return nil
			}
			if err := addUser(ctx, c, projectID, m.user, role); err != nil {
				return fmt.Errorf("give user %s the role %s in project %s: %w", m.user, role, projectID, err)
			}
			s.say("User %s now has the role %s in project %s.", m.user, role, projectID)
			return nil
		},
	}
	bindProjectID(cmd, &projectID)
	m.bind(cmd, "add (or whose role to change)")
	cmd.Flags().StringVar(&role, "role", "", "project role: admin, member, viewer, no-access or a custom role's slug (required)")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

// addUser gives a user a role in the project: adds them, or changes the role of a member (the
// server refuses to add a member twice, with a 400 like any other conflict).
func addUser(ctx context.Context, c *client.Client, projectID, email, role string) error {
	users, err := c.ListProjectUsers(ctx, projectID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if strings.EqualFold(u.User.Email, email) {
			_, err := c.SetProjectUserRole(ctx, projectID, u.ID, role)
			return err
		}
	}
	_, err = c.AddProjectUsers(ctx, projectID, []string{email}, role)
	return err
}

// projectMember is a row of "members list".
type projectMember struct {
	Type         string `json:"type"` // user or identity
	ID           string `json:"id"`   // the user's or the identity's id
	Email        string `json:"email,omitempty"`
	Name         string `json:"name,omitempty"`
	Role         string `json:"role"`
	MembershipID string `json:"membershipId"`
}

func newMembersListCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var projectID string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the users and machine identities of a project with their roles",
		Long: `List the members of a project: users (by e-mail, with their name) and machine identities
(by id), each with its project role; a custom role shows as its slug. The MEMBER column is
what --user or --identity takes in "coffer members add" and "coffer members remove".
--output json prints an array of {type, id, email, name, role, membershipId}.`,
		Example: `  coffer members list --projectId "$PROJECT_ID"
  coffer members list --output json | jq -r '.[] | select(.type == "user") | .email'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID, err = resolveProject(s, projectID); err != nil {
				return err
			}
			users, err := c.ListProjectUsers(cmd.Context(), projectID)
			if err != nil {
				return fmt.Errorf("list the users of project %s: %w", projectID, err)
			}
			idents, err := c.ListIdentityMemberships(cmd.Context(), projectID)
			if err != nil {
				return fmt.Errorf("list the identities of project %s: %w", projectID, err)
			}
			ms := make([]projectMember, 0, len(users)+len(idents))
			for _, u := range users {
				ms = append(ms, projectMember{Type: "user", ID: u.UserID, Email: u.User.Email, Name: u.User.Name, Role: u.Role(), MembershipID: u.ID})
			}
			for _, i := range idents {
				ms = append(ms, projectMember{Type: "identity", ID: i.IdentityID, Role: i.Role(), MembershipID: i.ID})
			}
			if out.json() {
				return printJSON(env.Stdout, ms)
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				member := m.Email
				if m.Type == "identity" {
					member = m.ID
				}
				rows[i] = []string{m.Type, member, m.Name, m.Role}
			}
			table(env.Stdout, []string{"TYPE", "MEMBER", "NAME", "ROLE"}, rows)
			return nil
		},
	}
	bindProjectID(cmd, &projectID)
	out.bind(cmd)
	return cmd
}

func newMembersRemoveCmd(env Env, g *globals) *cobra.Command {
	var projectID string
	var m memberFlags
	cmd := &cobra.Command{
		Use:   "remove (--user EMAIL | --identity ID)",
		Short: "Remove a user or machine identity from a project",
		Long: `Remove a user (--user, by e-mail) or a machine identity (--identity, by id) from a project:
it loses its project role at once. Project admins may, for members whose role's rights they
hold themselves. Removing someone who is not a member fails (404) and changes nothing.
Organization admins keep their access to every project.`,
		Example: `  coffer members remove --projectId "$PROJECT_ID" --user dev@example.com
  coffer members remove --identity "$IDENTITY_ID"   # project from .coffer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.check(cmd); err != nil {
				return err
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID, err = resolveProject(s, projectID); err != nil {
				return err
			}
			if m.identity != "" {
				if err := c.RemoveIdentityMembership(cmd.Context(), projectID, m.identity); err != nil {
					return fmt.Errorf("remove identity %s from project %s: %w", m.identity, projectID, err)
				}
				s.say("Identity %s is no longer a member of project %s.", m.identity, projectID)
				return nil
			}
			if _, err := c.RemoveProjectUsers(cmd.Context(), projectID, []string{m.user}); err != nil {
				return fmt.Errorf("remove user %s from project %s: %w", m.user, projectID, err)
			}
			s.say("User %s is no longer a member of project %s.", m.user, projectID)
			return nil
		},
	}
	bindProjectID(cmd, &projectID)
	m.bind(cmd, "remove")
	return cmd
}
