package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newInitCmd(env Env, g *globals) *cobra.Command {
	var projectID, defaultEnv string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Link this directory to a project (writes .coffer.json)",
		Long: `Write .coffer.json in the working directory: the project, the default environment and the
server. Every command run in this directory or below reads it; flags and environment
variables override it. It holds no secret and can be committed.`,
		Example: `  coffer init --projectId 0190f1a2-... --env staging`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession(env, g)
			if err != nil {
				return err
			}
			if projectID == "" {
				return fmt.Errorf("--projectId is required (see `coffer projects list`)")
			}
			c, err := s.client(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.GetProject(cmd.Context(), projectID)
			if err != nil {
				return err
			}
			found := false
			for _, e := range p.Environments {
				found = found || e.Slug == defaultEnv
			}
			if !found {
				return fmt.Errorf("project %s has no environment %q", p.Name, defaultEnv)
			}
			if _, err := os.Stat(projectFileName); err == nil && !force {
				return fmt.Errorf("%s exists; use --force to replace it", projectFileName)
			}
			b, _ := json.MarshalIndent(projectFile{ProjectID: p.ID, DefaultEnvironment: defaultEnv, Domain: s.server}, "", "  ")
			if err := os.WriteFile(projectFileName, append(b, '\n'), 0o644); err != nil {
				return err
			}
			wd, _ := os.Getwd()
			s.say("Linked %s to project %s (%s), environment %s.", filepath.Join(wd, projectFileName), p.Name, p.ID, defaultEnv)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&projectID, "projectId", "", "project id")
	f.StringVar(&defaultEnv, "env", "dev", "default environment")
	f.BoolVar(&force, "force", false, "replace an existing .coffer.json")
	return cmd
}
