package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

// globals are the flags every client command takes.
type globals struct {
	domain string
	token  string
	silent bool
}

func (g *globals) bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.domain, "domain", "", "server URL, with or without /api (default $COFFER_API_URL, $INFISICAL_API_URL, .coffer.json, the last login, http://127.0.0.1:8080)")
	f.StringVar(&g.token, "token", "", "access token (default $COFFER_TOKEN, $INFISICAL_TOKEN, universal auth from $COFFER_UNIVERSAL_AUTH_CLIENT_ID/_SECRET, the stored login)")
	f.BoolVar(&g.silent, "silent", false, "print nothing but the command's output")
}

// lookup returns the first non-empty of the environment variables.
func lookup(env Env, names ...string) string {
	for _, n := range names {
		if v, ok := env.LookupEnv(n); ok && v != "" {
			return v
		}
	}
	return ""
}

// session is what a client command works with: a server, a token and the linked project.
type session struct {
	env    Env
	g      *globals
	server string
	pf     *projectFile
	creds  *credentials
	c      *client.Client // with the token, once authenticated
}

// newSession resolves the server: --domain, $COFFER_API_URL, $INFISICAL_API_URL, .coffer.json,
// the server of the last login, then the development default.
func newSession(env Env, g *globals) (*session, error) {
	s := &session{env: env, g: g}
	if wd, err := os.Getwd(); err == nil {
		pf, err := findProjectFile(wd)
		if err != nil {
			return nil, err
		}
		s.pf = pf
	}
	creds, err := loadCredentials(env)
	if err != nil {
		return nil, err
	}
	s.creds = creds
	s.server = g.domain
	if s.server == "" {
		s.server = lookup(env, "COFFER_API_URL", "INFISICAL_API_URL")
	}
	if s.server == "" && s.pf != nil {
		s.server = s.pf.Domain
	}
	if s.server == "" {
		s.server = creds.Default
	}
	if s.server == "" {
		s.server = "http://127.0.0.1:8080"
	}
	s.server = serverKey(s.server)
	return s, nil
}

func (s *session) anonymous() *client.Client {
	return client.New(s.server, client.WithUserAgent("coffer-cli/"+Version))
}

// client returns a client authenticated with, in order: --token, $COFFER_TOKEN,
// $INFISICAL_TOKEN, a universal-auth login with client id and secret from the environment, or
// the stored login for the server.
func (s *session) client(ctx context.Context) (*client.Client, error) {
	if s.c != nil {
		return s.c, nil
	}
	token := s.g.token
	if token == "" {
		token = lookup(s.env, "COFFER_TOKEN", "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN", "INFISICAL_TOKEN")
	}
	if token == "" {
		id := lookup(s.env, "COFFER_UNIVERSAL_AUTH_CLIENT_ID", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID")
		secret := lookup(s.env, "COFFER_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET")
		if id != "" && secret != "" {
			t, err := s.anonymous().UniversalAuthLogin(ctx, id, secret)
			if err != nil {
				return nil, fmt.Errorf("universal-auth login with the client id from the environment: %w", err)
			}
			token = t.AccessToken
		}
	}
	if token == "" {
		token = s.creds.Servers[s.server].Token
	}
	if token == "" {
		return nil, fmt.Errorf("not logged in to %s: run `coffer login`, or set COFFER_TOKEN (or INFISICAL_TOKEN)", s.server)
	}
	s.c = client.New(s.server, client.WithToken(token), client.WithUserAgent("coffer-cli/"+Version))
	return s.c, nil
}

// scopeFlags select a project folder: the flags of Infisical's CLI.
type scopeFlags struct {
	projectID string
	env       string
	path      string
	typ       string
}

func (f *scopeFlags) bind(cmd *cobra.Command, withType bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.projectID, "projectId", "", "project id (default $COFFER_PROJECT_ID, or .coffer.json)")
	fl.StringVar(&f.env, "env", "", "environment slug (default .coffer.json's defaultEnvironment, or dev)")
	fl.StringVarP(&f.path, "path", "p", "/", "folder path")
	if withType {
		fl.StringVar(&f.typ, "type", "shared", "secret type: shared or personal")
	}
}

// scope resolves the folder a command works on.
func (s *session) scope(f *scopeFlags) (client.Scope, error) {
	sc := client.Scope{ProjectID: f.projectID, Environment: f.env, SecretPath: f.path}
	if sc.ProjectID == "" {
		sc.ProjectID = lookup(s.env, "COFFER_PROJECT_ID", "INFISICAL_PROJECT_ID")
	}
	if sc.ProjectID == "" && s.pf != nil {
		sc.ProjectID = s.pf.ProjectID
	}
	if sc.ProjectID == "" {
		return sc, fmt.Errorf("no project: pass --projectId, set COFFER_PROJECT_ID, or run `coffer init` in this directory")
	}
	if sc.Environment == "" && s.pf != nil {
		sc.Environment = s.pf.DefaultEnvironment
	}
	if sc.Environment == "" {
		sc.Environment = "dev"
	}
	if f.typ != "" && f.typ != "shared" && f.typ != "personal" {
		return sc, fmt.Errorf("--type must be shared or personal, not %q", f.typ)
	}
	if sc.SecretPath == "" {
		sc.SecretPath = "/"
	}
	return sc, nil
}

// say prints a progress or status line on stderr unless --silent.
func (s *session) say(format string, args ...any) {
	if !s.g.silent {
		fmt.Fprintf(s.env.Stderr, format+"\n", args...)
	}
}

// outputFlag is --output: how a command prints its result.
type outputFlag string

func (o *outputFlag) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP((*string)(o), "output", "o", "table", "output format: table or json")
}

func (o outputFlag) json() bool { return strings.EqualFold(string(o), "json") }
