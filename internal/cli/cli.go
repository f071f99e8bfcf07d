// Package cli is the coffer command line: one file per command, each with its help text. The
// server command runs a node; every client command reaches the server only through the public
// client package, like any other client.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Env is the process environment a command runs in; tests give their own.
type Env struct {
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
	Environ   func() []string
}

// OSEnv returns the real process environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv, Environ: os.Environ}
}

// Version is set at build time with -ldflags "-X github.com/cofferhq/coffer/internal/cli.Version=…".
var Version = "dev"

// Main runs the coffer command with args and returns the process exit code.
func Main(ctx context.Context, env Env, args []string) int {
	root := newRoot(env)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(env.Stderr, "error:", err)
		return 1
	}
	return 0
}

// exitError ends the process with a code after the command already reported what happened.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "coffer",
		Short:         "Coffer keeps your team's secrets and hands them to apps at run time",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.AddCommand(newServerCmd(env), newConfigCmd(env), newVersionCmd(env), newBootstrapCmd(env), newKeysCmd(env))
	// Client commands share --domain, --token and --silent (bound on each, so that the server
	// and key commands do not show them).
	for _, mk := range []func(Env, *globals) *cobra.Command{
		newLoginCmd, newLogoutCmd, newWhoamiCmd, newInitCmd, newRunCmd, newExportCmd, newSecretsCmd, newFoldersCmd,
		newProjectsCmd, newIdentitiesCmd, newMembersCmd, newAuditCmd,
	} {
		g := &globals{}
		c := mk(env, g)
		g.bind(c)
		root.AddCommand(c)
	}
	return root
}
