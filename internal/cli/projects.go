package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

func newProjectsCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "List and create projects, and rotate their data keys",
		Long: `List the projects the token can see, and create new ones. With "coffer identities" and
"coffer members" this is enough to set up a project and a machine identity from a script,
with no dashboard. "coffer projects keys" and "coffer projects rotate-key" show and rotate
the key that encrypts a project's secrets.`,
		Example: `  coffer projects list
  PROJECT_ID=$(coffer projects create web --plain)
  coffer projects rotate-key --projectId "$PROJECT_ID" --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newProjectsListCmd(env, g), newProjectsCreateCmd(env, g), newProjectsKeysCmd(env, g), newProjectsRotateKeyCmd(env, g))
	return cmd
}

func newProjectsListCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the projects the token can see",
		Long: `List the projects the token can see: all projects of the organization for its admins,
the projects it is a member of for everyone else. The table shows each project's
environments by slug; --output json prints the array of projects as the API returns them.`,
		Example: `  coffer projects list
  coffer projects list --output json | jq -r '.[] | select(.slug == "web") | .id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			ps, err := c.ListProjects(cmd.Context())
			if err != nil {
				return fmt.Errorf("list projects: %w", err)
			}
			if ps == nil {
				ps = []client.Project{}
			}
			if out.json() {
				return printJSON(env.Stdout, ps)
			}
			projectTable(env, ps...)
			return nil
		},
	}
	out.bind(cmd)
	return cmd
}

func newProjectsCreateCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var slug string
	var plain bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project with the default environments",
		Long: `Create a project in the token's organization, with the default environments (dev,
staging, prod). The slug is made from the name unless --slug is given. Organization admins
may create projects.

With --plain only the new project's id is printed, for scripts.`,
		Example: `  coffer projects create web
  coffer projects create "Billing API" --slug billing --output json
  PROJECT_ID=$(coffer projects create web --plain)`,
		Args: adminArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			p, err := c.CreateProject(cmd.Context(), args[0], slug)
			if err != nil {
				return fmt.Errorf("create project %q: %w", args[0], err)
			}
			switch {
			case plain:
				fmt.Fprintln(env.Stdout, p.ID)
				return nil
			case out.json():
				return printJSON(env.Stdout, p)
			}
			projectTable(env, *p)
			return nil
		},
	}
	cmd.Flags().StringVar(&slug, "slug", "", "project slug (default: made from the name)")
	cmd.Flags().BoolVar(&plain, "plain", false, "print only the project id")
	out.bind(cmd)
	cmd.MarkFlagsMutuallyExclusive("plain", "output")
	return cmd
}

func projectTable(env Env, ps ...client.Project) {
	rows := make([][]string, len(ps))
	for i, p := range ps {
		envs := make([]string, len(p.Environments))
		for j, e := range p.Environments {
			envs[j] = e.Slug
		}
		rows[i] = []string{p.ID, p.Name, p.Slug, strings.Join(envs, ",")}
	}
	table(env.Stdout, []string{"ID", "NAME", "SLUG", "ENVIRONMENTS"}, rows)
}

// adminClient returns the session and authenticated client of an administration command.
func adminClient(cmd *cobra.Command, env Env, g *globals) (*session, *client.Client, error) {
	s, err := newSession(env, g)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.client(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

// adminArgs accepts exactly the named positional arguments; the error names the missing ones
// and shows the usage line.
func adminArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return fmt.Errorf("missing %s\nusage: %s", strings.Join(names[len(args):], " "), cmd.UseLine())
		case len(args) > len(names):
			return fmt.Errorf("too many arguments (%s takes %s)\nusage: %s", cmd.CommandPath(), strings.Join(names, " "), cmd.UseLine())
		}
		return nil
	}
}

// flagOneOf checks a flag's value against the allowed ones and names both when it is not one.
func flagOneOf(flag, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s must be one of %s, not %q", flag, strings.Join(allowed, ", "), v)
}
