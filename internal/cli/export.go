package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/envfile"
)

func newExportCmd(env Env, g *globals) *cobra.Command {
	var lf listingFlags
	var format, outputFile string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print a folder's secrets as dotenv, shell exports, JSON, YAML or CSV",
		Long: `Fetch the secrets of a folder, merged as for "coffer run", sorted by name, and print them in
one of the formats of Infisical's export: dotenv (KEY='value'), dotenv-export
(export KEY='value'), json, yaml or csv. Every value reads back exactly, multi-line values
and quotes included.

With --output-file, the secrets go to a file (mode 0600) instead of standard output. A
directory (existing, or a path ending in /) gets .env, secrets.json, secrets.yaml or
secrets.csv; a new file name without an extension gets the format's.

Like run, export falls back to the encrypted offline cache when the server cannot be
reached (see "coffer run --help").`,
		Example: `  coffer export --env=prod > .env
  coffer export --env=prod --format=json --output-file=secrets.json
  eval "$(coffer export --format=dotenv-export)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := envfile.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("invalid format type: %s. Available format types are [dotenv json csv yaml dotenv-export]", format)
			}
			l, err := newLister(env, g, &lf, "")
			if err != nil {
				return err
			}
			got, err := l.fetch(cmd.Context(), "", true)
			if err != nil {
				return err
			}
			secrets := got.secrets
			sort.SliceStable(secrets, func(i, j int) bool { return secrets[i].Key < secrets[j].Key })
			var out bytes.Buffer
			if f == envfile.JSON {
				err = envfile.WriteJSONDetailed(&out, secrets, envfile.JSONDetail{Workspace: l.in.ProjectID, SecretPath: l.in.SecretPath})
			} else {
				err = envfile.Write(&out, f, secrets)
			}
			if err != nil {
				return err
			}
			if outputFile == "" {
				_, err = env.Stdout.Write(out.Bytes())
				return err
			}
			path, err := exportPath(outputFile, f)
			if err != nil {
				return err
			}
			if err := writeExport(path, out.Bytes()); err != nil {
				return err
			}
			l.s.say("Successfully exported secrets to: %s", path)
			return nil
		},
	}
	lf.bind(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "f", "dotenv", "output format: dotenv, dotenv-export, json, yaml or csv")
	fl.StringVarP(&outputFile, "output-file", "o", "", "write to this file (mode 0600) or directory instead of standard output")
	fl.StringVar(&outputFile, "output", "", "the same as --output-file")
	fl.Lookup("output").Hidden = true
	return cmd
}

// exportDefaultNames are the file names --output-file gives a directory, as Infisical's do.
var exportDefaultNames = map[envfile.Format]string{
	envfile.Dotenv: ".env", envfile.DotenvExport: ".env", envfile.JSON: "secrets.json", envfile.YAML: "secrets.yaml", envfile.CSV: "secrets.csv",
}

// exportPath resolves --output-file as Infisical does: ~ is the home directory; a directory,
// existing or written with a trailing slash, gets the format's default file name; a new file
// without an extension gets the format's extension. Missing parent directories are made.
func exportPath(name string, f envfile.Format) (string, error) {
	if rest, ok := strings.CutPrefix(name, "~"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("--output-file: %w", err)
		}
		name = home + rest
	}
	dirLike := strings.HasSuffix(name, string(filepath.Separator))
	path, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir(), errors.Is(err, fs.ErrNotExist) && dirLike:
		path = filepath.Join(path, exportDefaultNames[f])
	case errors.Is(err, fs.ErrNotExist) && filepath.Ext(path) == "":
		path += filepath.Ext(exportDefaultNames[f])
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, nil
}

// writeExport writes an export to path readable by its owner only, replacing what was there
// (the file keeps its place, so a symbolic link or an open descriptor follows the new text).
func writeExport(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
