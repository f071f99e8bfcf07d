package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/envfile"
)

// secretsFlags are the flags of the secrets commands (Infisical's names).
type secretsFlags struct {
	scopeFlags
	expand         bool
	includeImports bool
	recursive      bool
	plain          bool
	out            outputFlag
}

func (f *secretsFlags) bindRead(cmd *cobra.Command) {
	f.bind(cmd, true)
	fl := cmd.Flags()
	fl.BoolVar(&f.expand, "expand", true, "expand secret references")
	fl.BoolVar(&f.includeImports, "include-imports", true, "include imported secrets")
	fl.BoolVar(&f.recursive, "recursive", false, "include the secrets of sub-folders")
	f.out.bind(cmd)
}

func newSecretsCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "List, read, write and delete the secrets of a folder",
		Long: `With no subcommand, print the secrets of a folder (imports merged, references expanded) as a
table, or as JSON with --output json.`,
		Example: `  coffer secrets --env prod
  coffer secrets get DB_URL --plain
  coffer secrets set API_KEY=abc123 TLS_CERT=@cert.pem
  coffer secrets import .env`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			secrets, _, err := fetchSecrets(cmd.Context(), c, sc, fetchOptions{recursive: f.recursive, expand: f.expand, includeImports: f.includeImports})
			if err != nil {
				return err
			}
			switch {
			case f.out.json():
				return printJSON(env.Stdout, secrets)
			case f.plain:
				for _, sec := range secrets {
					fmt.Fprintf(env.Stdout, "%s=%s\n", sec.SecretKey, sec.SecretValue)
				}
			default:
				printSecretsTable(s.env.Stdout, secrets)
			}
			return nil
		},
	}
	f.bindRead(cmd)
	cmd.Flags().BoolVar(&f.plain, "plain", false, "print KEY=VALUE lines")
	cmd.AddCommand(newSecretsGetCmd(env, g), newSecretsSetCmd(env, g), newSecretsDeleteCmd(env, g),
		newSecretsHistoryCmd(env, g), newSecretsRollbackCmd(env, g), newSecretsImportCmd(env, g), newSecretsFoldersCmd(env, g))
	return cmd
}

// open resolves the session, an authenticated client and the folder of a command.
func open(cmd *cobra.Command, env Env, g *globals, f *scopeFlags) (*session, *client.Client, client.Scope, error) {
	s, err := newSession(env, g)
	if err != nil {
		return nil, nil, client.Scope{}, err
	}
	sc, err := s.scope(f)
	if err != nil {
		return nil, nil, sc, err
	}
	c, err := s.client(cmd.Context())
	return s, c, sc, err
}

func printSecretsTable(w io.Writer, secrets []client.Secret) {
	rows := make([][]string, len(secrets))
	for i, s := range secrets {
		rows[i] = []string{s.SecretKey, s.SecretValue, s.Type}
	}
	table(w, []string{"SECRET NAME", "SECRET VALUE", "SECRET TYPE"}, rows)
}

func newSecretsGetCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	cmd := &cobra.Command{
		Use:   "get NAME...",
		Short: "Print secrets by name",
		Long: `Print the named secrets of a folder (imports merged, references expanded). With --plain,
print only the values, one per line, in the order asked.`,
		Example: `  coffer secrets get DB_URL --plain
  DB_URL=$(coffer secrets get DB_URL --plain --env prod)`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			all, _, err := fetchSecrets(cmd.Context(), c, sc, fetchOptions{recursive: f.recursive, expand: f.expand, includeImports: f.includeImports})
			if err != nil {
				return err
			}
			byKey := make(map[string]client.Secret, len(all))
			for _, s := range all { // merged: one secret per name
				byKey[s.SecretKey] = s
			}
			var found []client.Secret
			var missing []string
			for _, name := range args {
				if s, ok := byKey[name]; ok {
					found = append(found, s)
				} else {
					missing = append(missing, name)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("secret(s) not found in environment %s at path %s: %s", sc.Environment, sc.SecretPath, strings.Join(missing, ", "))
			}
			switch {
			case f.plain:
				for _, s := range found {
					fmt.Fprintln(env.Stdout, s.SecretValue)
				}
			case f.out.json():
				return printJSON(env.Stdout, found)
			default:
				printSecretsTable(env.Stdout, found)
			}
			return nil
		},
	}
	f.bindRead(cmd)
	cmd.Flags().BoolVar(&f.plain, "plain", false, "print only the values, one per line")
	return cmd
}

// parseAssignment reads KEY=VALUE, KEY=@file (the file's bytes) or KEY=- (standard input).
func parseAssignment(arg string, stdin io.Reader, stdinUsed *bool) (string, string, error) {
	key, value, ok := strings.Cut(arg, "=")
	if !ok || key == "" {
		return "", "", fmt.Errorf("%q is not KEY=VALUE (also KEY=@file, or KEY=- for standard input)", key)
	}
	switch {
	case strings.HasPrefix(value, "@") && len(value) > 1:
		b, err := os.ReadFile(value[1:])
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", key, err)
		}
		return key, string(b), nil
	case value == "-":
		if *stdinUsed {
			return "", "", fmt.Errorf("%s: standard input can be read for one secret only", key)
		}
		*stdinUsed = true
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", "", err
		}
		return key, string(b), nil
	}
	return key, value, nil
}

func newSecretsSetCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	cmd := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Create or update secrets",
		Long: `Create the named secrets, or update them when they exist, all in one request: all or
nothing. KEY=@path takes the value from a file (exactly its bytes); KEY=- reads it from
standard input.`,
		Example: `  coffer secrets set DB_PASSWORD=hunter2 API_URL=https://api.example.com
  coffer secrets set TLS_KEY=@server.key --env prod
  vault read -field=x secret/y | coffer secrets set X=-`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			var in []client.SecretInput
			stdinUsed := false
			for _, a := range args {
				k, v, err := parseAssignment(a, env.Stdin, &stdinUsed)
				if err != nil {
					return err
				}
				in = append(in, client.SecretInput{SecretKey: k, SecretValue: &v, Type: f.typ})
			}
			before, _, err := fetchSecrets(cmd.Context(), c, sc, fetchOptions{})
			if err != nil && client.StatusCode(err) != 404 {
				return err
			}
			old := map[string]string{}
			for _, b := range before {
				if b.Type == f.typ || f.typ == "" {
					old[b.SecretKey] = b.SecretValue
				}
			}
			if _, err := c.UpdateSecrets(cmd.Context(), sc, "upsert", in); err != nil {
				return err
			}
			rows := make([][]string, len(in))
			for i, e := range in {
				status := "SECRET CREATED"
				if o, ok := old[e.SecretKey]; ok {
					status = "SECRET VALUE MODIFIED"
					if o == *e.SecretValue {
						status = "SECRET VALUE UNCHANGED"
					}
				}
				rows[i] = []string{e.SecretKey, *e.SecretValue, status}
			}
			if f.out.json() {
				return printJSON(env.Stdout, in)
			}
			if !s.g.silent {
				table(env.Stdout, []string{"SECRET NAME", "SECRET VALUE", "STATUS"}, rows)
			}
			return nil
		},
	}
	f.bind(cmd, true)
	f.out.bind(cmd)
	return cmd
}

func newSecretsDeleteCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Short:   "Delete secrets (all or none)",
		Example: `  coffer secrets delete OLD_KEY UNUSED_TOKEN --env staging`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			in := make([]client.SecretInput, len(args))
			for i, k := range args {
				in[i] = client.SecretInput{SecretKey: k, Type: f.typ}
			}
			if _, err := c.DeleteSecrets(cmd.Context(), sc, in); err != nil {
				return err
			}
			if !s.g.silent {
				fmt.Fprintf(env.Stdout, "secret name(s) [%s] have been deleted from your project \n", strings.Join(args, ", "))
			}
			return nil
		},
	}
	f.bind(cmd, true)
	return cmd
}

func newSecretsHistoryCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	cmd := &cobra.Command{
		Use:     "history NAME",
		Short:   "Show every kept version of a secret, newest first",
		Example: `  coffer secrets history DB_PASSWORD --env prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			vs, err := c.SecretVersions(cmd.Context(), sc, args[0], f.typ)
			if err != nil {
				return err
			}
			if f.out.json() {
				return printJSON(env.Stdout, vs)
			}
			rows := make([][]string, len(vs))
			for i, v := range vs {
				rows[i] = []string{strconv.Itoa(v.Version), v.SecretValue, v.CreatedAt, v.ActorType + " " + v.ActorID}
			}
			table(env.Stdout, []string{"VERSION", "SECRET VALUE", "CREATED AT", "BY"}, rows)
			return nil
		},
	}
	f.bind(cmd, true)
	f.out.bind(cmd)
	return cmd
}

func newSecretsRollbackCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	var version int
	cmd := &cobra.Command{
		Use:   "rollback NAME --version N",
		Short: "Give a secret the value of an earlier version (as a new version)",
		Long: `Write a new version of a secret with the value, comment and multi-line flag of version N.
History is never rewritten: the rollback itself is a new version.`,
		Example: `  coffer secrets history DB_PASSWORD
  coffer secrets rollback DB_PASSWORD --version 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			if version <= 0 {
				return errors.New("--version N is required (see `coffer secrets history`)")
			}
			sec, err := c.RollbackSecret(cmd.Context(), sc, args[0], f.typ, version)
			if err != nil {
				return err
			}
			if f.out.json() {
				return printJSON(env.Stdout, sec)
			}
			s.say("%s rolled back to the value of version %d (now version %d).", sec.SecretKey, version, sec.Version)
			return nil
		},
	}
	f.bind(cmd, true)
	f.out.bind(cmd)
	cmd.Flags().IntVar(&version, "version", 0, "the version whose value to restore")
	return cmd
}

func newSecretsImportCmd(env Env, g *globals) *cobra.Command {
	var f secretsFlags
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create or update every secret of a file, all or nothing",
		Long: `Read secrets from a dotenv, dotenv-export, JSON, YAML or CSV file (as written by
"coffer export"; the format comes from the file name or --format) and write them in one
request: all are created or updated, or none is. "-" reads standard input.`,
		Example: `  coffer secrets import .env --env dev
  coffer export --env prod --format json | coffer secrets import - --format json --env staging`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, sc, err := open(cmd, env, g, &f.scopeFlags)
			if err != nil {
				return err
			}
			var r io.Reader = env.Stdin
			name := args[0]
			if name != "-" {
				file, err := os.Open(name)
				if err != nil {
					return err
				}
				defer file.Close()
				r = file
			}
			ft, err := importFormat(name, format)
			if err != nil {
				return err
			}
			entries, err := envfile.Read(r, ft)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if len(entries) == 0 {
				return fmt.Errorf("%s holds no secrets", name)
			}
			in := make([]client.SecretInput, len(entries))
			for i, e := range entries {
				v := e.Value
				in[i] = client.SecretInput{SecretKey: e.Key, SecretValue: &v, Type: f.typ}
			}
			if _, err := c.UpdateSecrets(cmd.Context(), sc, "upsert", in); err != nil {
				return err
			}
			s.say("Imported %d secrets into environment %s at path %s.", len(in), sc.Environment, sc.SecretPath)
			return nil
		},
	}
	f.bind(cmd, true)
	cmd.Flags().StringVar(&format, "format", "", "file format: dotenv, dotenv-export, json, yaml or csv (default from the file name, else dotenv)")
	return cmd
}

func importFormat(name, flag string) (envfile.Format, error) {
	if flag != "" {
		return envfile.ParseFormat(flag)
	}
	if f, ok := envfile.FormatFromFilename(name); ok {
		return f, nil
	}
	return envfile.Dotenv, nil
}
