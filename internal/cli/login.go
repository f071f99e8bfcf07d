package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newLoginCmd(env Env, g *globals) *cobra.Command {
	var method, email, clientID, clientSecret, totpCode string
	var passwordStdin, plain bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a Coffer server and remember the token",
		Long: `Sign in as a user (e-mail and password, asked for on the terminal) or as a machine identity
with universal auth. A user with two-factor authentication is asked for a code (or gives
--totp-code); when the organization requires two-factor authentication and the user has none
yet, login enrols it: it prints the secret to add to an authenticator app, asks for a code,
and prints the recovery codes once. The token is stored per server in the user's config directory (0600)
and used by every command until "coffer logout".

With --plain, universal-auth login prints only the access token and stores nothing: the
form CI scripts use.`,
		Example: `  coffer login --domain https://coffer.example.com
  export COFFER_TOKEN=$(coffer login --method universal-auth --client-id "$ID" --client-secret "$SECRET" --plain --silent)
  echo "$PASSWORD" | coffer login --email me@example.com --password-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession(env, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch method {
			case "universal-auth":
				if clientID == "" {
					clientID = lookup(env, "COFFER_UNIVERSAL_AUTH_CLIENT_ID", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID")
				}
				if clientSecret == "" {
					clientSecret = lookup(env, "COFFER_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET")
				}
				if clientID == "" || clientSecret == "" {
					return fmt.Errorf("universal auth needs --client-id and --client-secret (or COFFER_UNIVERSAL_AUTH_CLIENT_ID and _SECRET)")
				}
				t, err := s.anonymous().UniversalAuthLogin(ctx, clientID, clientSecret)
				if err != nil {
					return err
				}
				if plain {
					fmt.Fprintln(env.Stdout, t.AccessToken)
					return nil
				}
				return s.remember(credential{Token: t.AccessToken, Kind: "identity", Name: clientID}, t.ExpiresIn)
			case "user", "":
				if plain {
					return fmt.Errorf("--plain is for --method universal-auth")
				}
				in := bufio.NewReader(env.Stdin)
				if email == "" {
					if email, err = prompt(env, in, "E-mail: "); err != nil {
						return err
					}
				}
				password, err := readPassword(env, in, passwordStdin)
				if err != nil {
					return err
				}
				token, expiresIn, err := s.userLogin(ctx, env, in, email, password, totpCode)
				if err != nil {
					return err
				}
				return s.remember(credential{Token: token, Kind: "user", Name: strings.ToLower(strings.TrimSpace(email))}, expiresIn)
			}
			return fmt.Errorf("--method must be user or universal-auth, not %q", method)
		},
	}
	f := cmd.Flags()
	f.StringVar(&method, "method", "user", "user (e-mail and password) or universal-auth")
	f.StringVar(&email, "email", "", "e-mail address (asked for when not given)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&totpCode, "totp-code", "", "two-factor code (TOTP or recovery code); asked for when the account needs one")
	f.StringVar(&clientID, "client-id", "", "universal-auth client id (default $COFFER_UNIVERSAL_AUTH_CLIENT_ID, $INFISICAL_UNIVERSAL_AUTH_CLIENT_ID)")
	f.StringVar(&clientSecret, "client-secret", "", "universal-auth client secret (default $COFFER_UNIVERSAL_AUTH_CLIENT_SECRET, $INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET)")
	f.BoolVar(&plain, "plain", false, "print only the access token and store nothing")
	return cmd
}

// remember stores a token for the session's server and makes it the default server.
func (s *session) remember(c credential, expiresIn int) error {
	if expiresIn > 0 {
		c.ExpiresAt = time.Now().Add(time.Duration(expiresIn) * time.Second).UTC().Format(time.RFC3339)
	}
	s.creds.Servers[s.server] = c
	s.creds.Default = s.server
	if err := s.creds.save(s.env); err != nil {
		return fmt.Errorf("store the token: %w", err)
	}
	s.say("Logged in to %s as %s %s.", s.server, c.Kind, c.Name)
	return nil
}

func prompt(env Env, in *bufio.Reader, label string) (string, error) {
	fmt.Fprint(env.Stderr, label)
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no input for %q", strings.TrimSpace(label))
	}
	return strings.TrimSpace(line), nil
}

// readPassword reads a password: from the first line of standard input with --password-stdin,
// else from the terminal without echo.
func readPassword(env Env, in *bufio.Reader, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("no terminal to ask for the password: use --password-stdin")
	}
	fmt.Fprint(env.Stderr, "Password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(env.Stderr)
	return string(b), err
}

func newLogoutCmd(env Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "Forget (and revoke) the stored token of a server",
		Example: "  coffer logout --domain https://coffer.example.com",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession(env, g)
			if err != nil {
				return err
			}
			c, ok := s.creds.Servers[s.server]
			if !ok {
				s.say("Not logged in to %s.", s.server)
				return nil
			}
			if err := s.anonymous().RevokeToken(cmd.Context(), c.Token); err != nil {
				s.say("The server did not revoke the token (%v); it is forgotten here anyway.", err)
			}
			delete(s.creds.Servers, s.server)
			if s.creds.Default == s.server {
				s.creds.Default = ""
			}
			if err := s.creds.save(env); err != nil {
				return err
			}
			s.say("Logged out of %s.", s.server)
			return nil
		},
	}
}

func newWhoamiCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:     "whoami",
		Short:   "Show who the current token stands for",
		Example: "  coffer whoami\n  COFFER_TOKEN=… coffer whoami --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession(env, g)
			if err != nil {
				return err
			}
			c, err := s.client(cmd.Context())
			if err != nil {
				return err
			}
			me, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(env.Stdout, me)
			}
			exp := "never expires"
			if me.ExpiresIn > 0 {
				exp = "expires in " + (time.Duration(me.ExpiresIn) * time.Second).String()
			}
			fmt.Fprintf(env.Stdout, "%s %s (%s)\nserver        %s\norganization  %s\nauth method   %s, token %s\n",
				me.Kind, me.Name, me.ID, s.server, me.OrgID, me.AuthMethod, exp)
			return nil
		},
	}
	out.bind(cmd)
	return cmd
}
