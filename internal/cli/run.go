package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/envfile"
)

func newRunCmd(env Env, g *globals) *cobra.Command {
	var lf listingFlags
	var command, projectConfigDir string
	var watch bool
	interval := seconds(10 * time.Second)
	cmd := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARG...]",
		Short: "Run a command with the project's secrets in its environment",
		Long: `Fetch the secrets of a folder and run a command with them as environment variables, on top
of the inherited environment (a secret wins over an inherited variable of the same name, except
for HOME, PATH, SHELL, USER and the other names a shell relies on, which are never replaced).

Imports are merged as Infisical's CLI merges them: the folder's own secrets win, then later
imports win over earlier ones. Your personal overrides replace shared secrets of the same name
(--secret-overriding=false turns that off).

The command gets the terminal; SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed
on to it. coffer exits with the command's exit code, or 128+N when a signal N killed it.

With --command, the string runs through $SHELL -c (sh when SHELL is unset).

With --watch, the secrets are checked every --watch-interval (a number of seconds, or a
duration such as 500ms) and the command is restarted when they change: SIGTERM, up to 10
seconds to exit, then SIGKILL.

Every successful fetch is kept in an encrypted local cache ($COFFER_CACHE_DIR, by default
coffer/ in the user's cache directory; the key is cache.key in the config directory). When
the server cannot be reached (network error, timeout or a 5xx answer; never on a 4xx), the
last cached secrets are used and a warning says so. --no-cache turns the cache off.`,
		Example: `  coffer run --env=dev -- npm run dev
  coffer run --env=prod --path=/api --command "npm run migrate && npm start"
  coffer run --watch -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("command") {
				if command == "" {
					return errors.New("you need to provide a command after the flag --command")
				}
				if len(args) > 0 {
					return errors.New("you cannot set any arguments after --command flag. --command only takes a string command")
				}
				return nil
			}
			if len(args) == 0 {
				return fmt.Errorf("at least one argument is required after the run command, received %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			argv := args
			if cmd.Flags().Changed("command") {
				shell := lookup(env, "SHELL")
				if shell == "" {
					shell = "sh"
				}
				argv = []string{shell, "-c", command}
			}
			l, err := newLister(env, g, &lf, projectConfigDir)
			if err != nil {
				return err
			}
			first, err := l.fetch(cmd.Context(), "", true)
			if err != nil {
				return err
			}
			sv := &supervisor{env: env, argv: argv, say: l.s.say, grace: 10 * time.Second}
			build := func(secrets []envfile.Entry) childEnv { return newChildEnv(env, secrets, warn(env)) }
			var updates <-chan childEnv
			if watch {
				ctx, cancel := context.WithCancel(context.WithoutCancel(cmd.Context()))
				defer cancel()
				l.s.say("[HOT RELOAD] Watching for secret changes...")
				updates = l.watch(ctx, first, time.Duration(interval), build)
			}
			code, err := sv.run(build(first.secrets), updates)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	lf.bind(cmd)
	f := cmd.Flags()
	f.StringVarP(&command, "command", "c", "", `a command line to run through the shell (e.g. "npm install && npm run dev; echo ...")`)
	f.BoolVar(&watch, "watch", false, "restart the command when the secrets change")
	f.Var(&interval, "watch-interval", "how often --watch checks for changes: seconds, or a duration such as 500ms")
	f.StringVar(&projectConfigDir, "project-config-dir", "", "the directory of the .coffer.json (or .infisical.json) to use, instead of the working directory's")
	return cmd
}

// listingFlags choose what run and export fetch: a folder and Infisical's options for it.
type listingFlags struct {
	scope          scopeFlags
	recursive      bool
	expand         bool
	includeImports bool
	overriding     bool
	tags           string
	noCache        bool
}

// bind adds the flags run and export share (Infisical's export has no --recursive; ours has).
func (f *listingFlags) bind(cmd *cobra.Command) {
	// The scope flags, with the -e shorthand Infisical's run and export give --env.
	scratch := &cobra.Command{}
	f.scope.bind(scratch, false)
	scratch.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name == "env" {
			fl.Shorthand = "e"
		}
		cmd.Flags().AddFlag(fl)
	})
	fl := cmd.Flags()
	fl.BoolVar(&f.expand, "expand", true, "expand secret references such as ${KEY} and ${dev.path.KEY}")
	fl.BoolVar(&f.recursive, "recursive", false, "include the secrets of every sub-folder")
	fl.BoolVar(&f.includeImports, "include-imports", true, "include the secrets imported into the folder")
	fl.BoolVar(&f.overriding, "secret-overriding", true, "let your personal overrides replace shared secrets of the same name")
	fl.StringVarP(&f.tags, "tags", "t", "", "only secrets with one of these tag slugs (comma-separated)")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither use nor update the offline cache of secrets")
}

// listing is one fetch of a folder's secrets, merged into what the command hands out.
type listing struct {
	secrets   []envfile.Entry
	etag      string // the server's, for conditional polls; empty when from the cache
	fetchedAt time.Time
}

// lister fetches one folder's secrets with fixed settings, as often as asked.
type lister struct {
	s     *session
	in    client.ListSecretsInput
	key   cacheScope
	cache *secretCache // nil when the cache is off
}

// newLister resolves the server, the project folder and the cache for a listing.
func newLister(env Env, g *globals, f *listingFlags, projectConfigDir string) (*lister, error) {
	s, err := newSession(env, g)
	if err != nil {
		return nil, err
	}
	if projectConfigDir != "" {
		if err := s.useProjectDir(projectConfigDir); err != nil {
			return nil, err
		}
	}
	sc, err := s.scope(&f.scope)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range strings.Split(f.tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	l := &lister{s: s, in: client.ListSecretsInput{
		ProjectID: sc.ProjectID, Environment: sc.Environment, SecretPath: sc.SecretPath, Recursive: f.recursive,
		Expand: f.expand, IncludeImports: f.includeImports, PersonalOverrides: f.overriding, TagSlugs: tags,
	}}
	l.key = cacheScope{Server: s.server, ProjectID: sc.ProjectID, Environment: sc.Environment, Path: sc.SecretPath,
		Recursive: f.recursive, Expand: f.expand, IncludeImports: f.includeImports, Overrides: f.overriding, Tags: tags}
	if !f.noCache {
		if l.cache, err = openCache(env); err != nil {
			warn(env)("the offline cache is off: %v", err)
		}
	}
	return l, nil
}

// useProjectDir links the session to the project file in dir (--project-config-dir).
func (s *session) useProjectDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pf, err := findProjectFile(abs)
	if err != nil {
		return err
	}
	if pf == nil {
		return fmt.Errorf("no %s or .infisical.json in %s or above", projectFileName, abs)
	}
	s.pf = pf
	if pf.Domain != "" && s.g.domain == "" && lookup(s.env, "COFFER_API_URL", "INFISICAL_API_URL") == "" {
		s.server = serverKey(pf.Domain)
	}
	return nil
}

// fetch lists the folder and merges the answer. With etag, an unchanged folder is
// client.ErrNotModified. With offline set, a server that cannot be reached is replaced by
// the cached listing, with a warning. Every fetched listing is written to the cache.
func (l *lister) fetch(ctx context.Context, etag string, offline bool) (*listing, error) {
	c, err := l.s.client(ctx)
	var raw *client.Secrets
	if err == nil {
		raw, etag, err = c.ListSecretsConditional(ctx, l.in, etag)
	}
	if errors.Is(err, client.ErrNotModified) {
		return nil, err
	} else if err != nil {
		if offline && unreachable(err) {
			return l.fromCache(err)
		}
		if client.StatusCode(err) == http.StatusUnauthorized {
			l.s.c = nil // the next fetch logs in again (universal auth from the environment)
		}
		return nil, fmt.Errorf("could not fetch secrets for path %q: %w", l.in.SecretPath, err)
	}
	out := &listing{secrets: mergeListing(raw), etag: etag, fetchedAt: time.Now().UTC()}
	if l.cache != nil {
		data := &cachedSecrets{FetchedAt: out.fetchedAt, ETag: etag, Secrets: make([]cacheEntry, len(out.secrets))}
		for i, e := range out.secrets {
			data.Secrets[i] = cacheEntry{Key: e.Key, Value: e.Value}
		}
		if err := l.cache.write(l.key, data); err != nil {
			warn(l.s.env)("could not update the offline cache: %v", err)
		}
	}
	return out, nil
}

// fromCache is the cached listing, for when the server could not be reached (cause).
func (l *lister) fromCache(cause error) (*listing, error) {
	if l.cache == nil {
		return nil, fmt.Errorf("could not reach %s: %w", l.s.server, shortCause(cause))
	}
	data, err := l.cache.read(l.key)
	if err != nil {
		if !errors.Is(err, errCacheMiss) {
			warn(l.s.env)("ignoring the damaged offline cache %s: %v", l.cache.path(l.key), err)
		}
		return nil, fmt.Errorf("could not reach %s (%w), and no secrets of project %s, environment %s, path %s are cached from an earlier run with the same options",
			l.s.server, shortCause(cause), l.in.ProjectID, l.in.Environment, l.in.SecretPath)
	}
	warn(l.s.env)("Could not reach %s (%v); using secrets cached at %s", l.s.server, shortCause(cause),
		data.FetchedAt.Local().Format(time.RFC3339))
	out := &listing{secrets: make([]envfile.Entry, len(data.Secrets)), fetchedAt: data.FetchedAt}
	for i, e := range data.Secrets {
		out.secrets[i] = envfile.Entry{Key: e.Key, Value: e.Value}
	}
	return out, nil
}

// unreachable reports whether err means the server could not answer: a network error, a
// timeout or a 5xx status. A 4xx answer is the server's word and never is.
func unreachable(err error) bool {
	if code := client.StatusCode(err); code != 0 {
		return code >= 500
	}
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled)
}

// shortCause is the innermost part of a network error, without the URL that leads it.
func shortCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// mergeListing is mergeSecrets as the entries run and export hand out.
func mergeListing(raw *client.Secrets) []envfile.Entry {
	merged := mergeSecrets(raw)
	out := make([]envfile.Entry, len(merged))
	for i, s := range merged {
		out[i] = envfile.Entry{Key: s.SecretKey, Value: s.SecretValue}
	}
	return out
}

// watch polls the folder every interval and sends a new child environment whenever the
// secrets change, until ctx ends. Polls are conditional on the server's ETag; a failed poll
// is reported and the command keeps running.
func (l *lister) watch(ctx context.Context, last *listing, interval time.Duration, build func([]envfile.Entry) childEnv) <-chan childEnv {
	ch := make(chan childEnv)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		etag, current := last.etag, last.secrets
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			next, err := l.fetch(ctx, etag, false)
			if errors.Is(err, client.ErrNotModified) || ctx.Err() != nil {
				continue
			} else if err != nil {
				warn(l.s.env)("[HOT RELOAD] Failed to fetch secrets: %v", err)
				continue
			}
			etag = next.etag
			if sameSecrets(current, next.secrets) {
				continue
			}
			current = next.secrets
			select {
			case ch <- build(current):
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

func sameSecrets(a, b []envfile.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, e := range a {
		m[e.Key] = e.Value
	}
	for _, e := range b {
		if v, ok := m[e.Key]; !ok || v != e.Value {
			return false
		}
	}
	return true
}

// reservedNames are never injected, whatever the secrets say: the names Infisical's CLI
// protects, which a shell and the programs it starts rely on.
var (
	reservedNames    = []string{"HOME", "PATH", "PS1", "PS2", "PWD", "EDITOR", "XAUTHORITY", "USER", "TERM", "TERMINFO", "SHELL", "MAIL"}
	reservedPrefixes = []string{"XDG_", "LC_"}
)

// childEnv is the environment a command is started with, and how many secrets it holds.
type childEnv struct {
	environ  []string
	injected int
}

// newChildEnv lays secrets over the inherited environment, leaving the reserved names alone.
func newChildEnv(env Env, secrets []envfile.Entry, warnf func(string, ...any)) childEnv {
	inject := make(map[string]string, len(secrets))
	var order []string
	for _, s := range secrets {
		if reason := reserved(s.Key); reason != "" {
			warnf("Coffer secret named [%s] has been removed because it %s", s.Key, reason)
			continue
		}
		if _, dup := inject[s.Key]; !dup {
			order = append(order, s.Key)
		}
		inject[s.Key] = s.Value
	}
	var environ []string
	done := map[string]bool{}
	for _, kv := range env.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := inject[k]; ok {
			if !done[k] {
				environ = append(environ, k+"="+v)
				done[k] = true
			}
			continue
		}
		environ = append(environ, kv)
	}
	for _, k := range order {
		if !done[k] {
			environ = append(environ, k+"="+inject[k])
		}
	}
	return childEnv{environ: environ, injected: len(order)}
}

func reserved(key string) string {
	for _, n := range reservedNames {
		if key == n {
			return "is a reserved secret name"
		}
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(key, p) {
			return "contains a reserved prefix"
		}
	}
	return ""
}

// warn returns a printer of warnings on stderr; they show even with --silent, as Infisical's do.
func warn(env Env) func(string, ...any) {
	return func(format string, args ...any) { fmt.Fprintf(env.Stderr, "Warning: "+format+"\n", args...) }
}

// forwardedSignals are passed on to the command.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// supervisor runs the command of `coffer run`: it forwards signals to it, restarts it with a
// new environment when asked, and reports its exit code.
type supervisor struct {
	env   Env
	argv  []string
	say   func(string, ...any)
	grace time.Duration // how long a restart waits after SIGTERM before SIGKILL
}

// run starts the command and returns its exit code once it exits by itself (or by a
// forwarded signal). Each environment received on updates restarts it.
func (sv *supervisor) run(first childEnv, updates <-chan childEnv) (int, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	p, err := sv.start(first)
	if err != nil {
		return 0, err
	}
	for {
		select {
		case sig := <-sigs:
			p.signal(sig)
		case <-p.done:
			return p.exitCode(), nil
		case next := <-updates:
			sv.say("[HOT RELOAD] Environment changes detected. Reloading process...")
			if quit := sv.stop(p, sigs); quit {
				return p.exitCode(), nil
			}
			if p, err = sv.start(next); err != nil {
				return 0, err
			}
		}
	}
}

// stop ends p for a restart: SIGTERM, then SIGKILL after the grace period. Signals that
// arrive meanwhile are forwarded; it reports whether one of them asked coffer to end.
func (sv *supervisor) stop(p *process, sigs <-chan os.Signal) (quit bool) {
	sv.say("[HOT RELOAD] Sending SIGTERM to PID %d", p.cmd.Process.Pid)
	p.signal(syscall.SIGTERM)
	timer := time.NewTimer(sv.grace)
	defer timer.Stop()
	for {
		select {
		case <-p.done:
			return quit
		case sig := <-sigs:
			p.signal(sig)
			quit = quit || (sig != syscall.SIGUSR1 && sig != syscall.SIGUSR2)
		case <-timer.C:
			sv.say("[HOT RELOAD] Sending SIGKILL to PID %d", p.cmd.Process.Pid)
			p.cmd.Process.Kill() //nolint:errcheck // it may have exited meanwhile
		}
	}
}

func (sv *supervisor) start(ce childEnv) (*process, error) {
	sv.say("Injecting %d Coffer secrets into your application process", ce.injected)
	cmd := exec.Command(sv.argv[0], sv.argv[1:]...)
	cmd.Env = ce.environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sv.env.Stdin, sv.env.Stdout, sv.env.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.cmd.Wait() //nolint:errcheck // the exit status is read from ProcessState
		close(p.done)
	}()
	return p, nil
}

// process is a started command; done closes when it has exited.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *process) signal(sig os.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(sig) //nolint:errcheck // it may be exiting
	}
}

// exitCode is the command's exit status, or 128+N when signal N killed it (as shells report).
func (p *process) exitCode() int {
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// seconds is --watch-interval: a number of seconds as Infisical takes it, or a Go duration.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }
func (s *seconds) Type() string   { return "duration" }
func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive number of seconds or a duration such as 500ms")
	}
	*s = seconds(d)
	return nil
}
