package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/server"
)

func newServerCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "server",
		Short:   "Run a Coffer server node",
		Example: "  coffer server --dev\n  COFFER_ROOT_KEY_FILE=/run/secrets/root COFFER_AUTH_SECRET_FILE=/run/secrets/auth COFFER_LISTEN=:8080 coffer server",
		Long: `Run a Coffer server: the API for machines and CLIs.

  coffer server --dev                      SQLite and generated keys in ./coffer-data, on 127.0.0.1:8080
  COFFER_DATABASE_URL=postgres://… coffer server    the same binary on PostgreSQL

Without --dev the server refuses to start unless COFFER_ROOT_KEY and COFFER_AUTH_SECRET
(or their _FILE variants) are set: "coffer keys generate" makes both. Any secret setting may
instead name where it is kept: ssm:/path/name, secretsmanager:NAME-or-ARN[#json-key] or
file:/path; the server reads it once at start.
Every setting is listed by "coffer config --markdown".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), env.LookupEnv)
			if err != nil {
				return err
			}
			log := newLogger(cfg, env.Stderr)
			for _, name := range config.UnknownEnv(env.Environ()) {
				if clientSettings[name] {
					continue
				}
				log.Warn("unknown COFFER_ setting in the environment; is it misspelled?", "name", name)
			}
			if err := resolveReferences(cmd.Context(), cfg, log); err != nil { // see references.go
				return err
			}
			if cfg.Dev {
				generated, err := server.PrepareDev(cfg)
				if err != nil {
					return err
				}
				for _, f := range generated {
					log.Warn("development mode: generated a key; never use development keys in production", "file", f)
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			srv, err := server.New(ctx, cfg, log, server.Options{})
			if err != nil {
				return err
			}
			defer srv.Close()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s (COFFER_LISTEN): %w", cfg.Listen, err)
			}
			log.Info("listening", "addr", ln.Addr().String())
			ls := server.Listeners{Main: ln}
			if cfg.HTTPRedirectListen != "" {
				if ls.Redirect, err = net.Listen("tcp", cfg.HTTPRedirectListen); err != nil {
					ln.Close()
					return fmt.Errorf("listen on %s (COFFER_HTTP_REDIRECT_LISTEN): %w", cfg.HTTPRedirectListen, err)
				}
			}
			if cfg.MetricsListen != "" {
				mln, err := net.Listen("tcp", cfg.MetricsListen)
				if err != nil {
					ln.Close()
					if ls.Redirect != nil {
						ls.Redirect.Close()
					}
					return fmt.Errorf("listen on %s (COFFER_METRICS_LISTEN): %w", cfg.MetricsListen, err)
				}
				go func() {
					if err := srv.ServeMetrics(ctx, mln); err != nil {
						log.Error("metrics endpoint stopped", "err", err)
					}
				}()
			}
			if cfg.PprofListen != "" {
				go func() {
					if err := srv.ServePprof(ctx, cfg.PprofListen); err != nil {
						log.Error("pprof endpoint stopped", "err", err)
					}
				}()
			}
			if cfg.Dev {
				scheme := "http://"
				if cfg.TLS() {
					scheme = "https://"
				}
				printDevBanner(env.Stderr, cfg, scheme+ln.Addr().String())
			}
			defer endDrainOnSecondSignal(srv)()
			return srv.ServeListeners(ctx, ls)
		},
	}
	config.BindFlags(cmd.Flags())
	return cmd
}

// clientSettings are read by client commands, not the server: no warning when set.
var clientSettings = map[string]bool{
	"COFFER_API_URL": true, "COFFER_BOOTSTRAP_PASSWORD": true, "COFFER_TOKEN": true, "COFFER_PROJECT_ID": true,
	"COFFER_UNIVERSAL_AUTH_CLIENT_ID": true, "COFFER_UNIVERSAL_AUTH_CLIENT_SECRET": true, "COFFER_CONFIG_DIR": true, "COFFER_CACHE_DIR": true,
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func printDevBanner(w io.Writer, cfg *config.Config, url string) {
	dialect, dsn := cfg.DatabaseDSN()
	db := "SQLite at " + dsn
	if dialect != "sqlite" {
		db = "PostgreSQL"
	}
	fmt.Fprintf(w, `
  Coffer is running in development mode.

    URL        %[1]s
    Database   %[2]s
    Keys       %[3]s (generated; development only)

  Next: create the first admin user, organization and an admin token:

    coffer bootstrap --domain %[1]s --email you@example.com --organization "My team"

  Then point Infisical's CLI or SDKs at %[1]s/api (or INFISICAL_API_URL=%[1]s/api).

`, url, db, filepath.Join(cfg.DataDir, server.DevRootKeyFile))
}
