package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

// folderCmds builds list (named listName), create and delete commands for folders: the same
// commands serve `coffer folders list` and Infisical's `secrets folders get`.
func folderCmds(env Env, g *globals, listName string) []*cobra.Command {
	var lf, cf, df scopeFlags
	var lout, cout outputFlag
	var cname, dname string
	list := &cobra.Command{
		Use:     listName,
		Short:   "List the folders inside a folder",
		Example: `  coffer folders ` + listName + ` --env dev --path /`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, sc, err := open(cmd, env, g, &lf)
			if err != nil {
				return err
			}
			fs, err := c.ListFolders(cmd.Context(), sc)
			if err != nil {
				return err
			}
			if lout.json() {
				if fs == nil {
					fs = []client.Folder{}
				}
				return printJSON(env.Stdout, fs)
			}
			rows := make([][]string, len(fs))
			for i, f := range fs {
				rows[i] = []string{f.Name, sc.SecretPath, f.ID}
			}
			table(env.Stdout, []string{"FOLDER NAME", "PATH", "FOLDER ID"}, rows)
			return nil
		},
	}
	lf.bind(list, false)
	lout.bind(list)

	create := &cobra.Command{
		Use:     "create --name NAME",
		Short:   "Create a folder (and missing parents) inside a folder",
		Example: `  coffer folders create --name payments --path /services --env prod`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &cf)
			if err != nil {
				return err
			}
			name := cname
			if name == "" && len(args) == 1 {
				name = args[0]
			}
			if name == "" {
				return errors.New("invalid folder name, folder name cannot be empty")
			}
			f, err := c.CreateFolder(cmd.Context(), sc, name)
			if err != nil {
				return err
			}
			if cout.json() {
				return printJSON(env.Stdout, f)
			}
			if !s.g.silent {
				fmt.Fprintf(env.Stdout, "folder named `%s` created in path %s\n", f.Name, sc.SecretPath)
			}
			return nil
		},
	}
	cf.bind(create, false)
	cout.bind(create)
	create.Flags().StringVarP(&cname, "name", "n", "", "name of the folder")

	del := &cobra.Command{
		Use:     "delete --name NAME",
		Short:   "Delete a folder with everything in it",
		Example: `  coffer folders delete --name old --path / --env dev`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &df)
			if err != nil {
				return err
			}
			name := dname
			if name == "" && len(args) == 1 {
				name = args[0]
			}
			if name == "" {
				return errors.New("invalid folder name, folder name cannot be empty")
			}
			if _, err := c.DeleteFolder(cmd.Context(), sc, name); err != nil {
				return err
			}
			if !s.g.silent {
				fmt.Fprintf(env.Stdout, "folder named `%s` deleted in path %s\n", name, sc.SecretPath)
			}
			return nil
		},
	}
	df.bind(del, false)
	del.Flags().StringVarP(&dname, "name", "n", "", "name of the folder")
	return []*cobra.Command{list, create, del}
}

func newFoldersCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "folders", Short: "List, create and delete folders"}
	cmd.AddCommand(folderCmds(env, g, "list")...)
	return cmd
}

// newSecretsFoldersCmd is Infisical's spelling, `secrets folders get|create|delete`.
func newSecretsFoldersCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "folders", Short: "List (get), create and delete folders, as Infisical's CLI spells it"}
	cmd.AddCommand(folderCmds(env, g, "get")...)
	return cmd
}
