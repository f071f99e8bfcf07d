package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/server"
)

func newAuditCmd(env Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log and verify its hash chain",
		Long: `Every change, sign-in, failed sign-in, permission denial and secret read by a machine
identity is an audit event: who (user or identity, IP, user agent), what (action, project,
environment, path, keys; never a value), when, with what outcome. Events are chained by
SHA-256, so an edited or removed event is found by "coffer audit verify".

"coffer audit list" reads the log through the API (organization admins; project admins with
--projectId). "coffer audit verify" reads the database directly with the server's settings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAuditListCmd(env, g), newAuditVerifyCmd(env))
	return cmd
}

func newAuditListCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var q client.AuditQuery
	var since, until string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Example: `  coffer audit list --since 24h
  coffer audit list --projectId "$PROJECT_ID" --env prod --event secret.read,secrets.list --output json
  coffer audit list --actor ci --actor-type identity --limit 0 --output json > audit.json   # every event`,
		Args: adminArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if q.Start, err = parseSince(since, "--since"); err != nil {
				return err
			}
			if q.End, err = parseSince(until, "--until"); err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit: must not be negative")
			}
			_, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			var logs []client.AuditLog
			for {
				q.Limit = 1000
				if limit > 0 {
					q.Limit = min(1000, limit-len(logs))
				}
				page, next, err := c.AuditLogs(cmd.Context(), q)
				if err != nil {
					return fmt.Errorf("list audit events: %w", err)
				}
				logs = append(logs, page...)
				if next == "" || limit > 0 && len(logs) >= limit {
					break
				}
				q.Cursor = next
			}
			if out.json() {
				if logs == nil {
					logs = []client.AuditLog{}
				}
				return printJSON(env.Stdout, logs)
			}
			rows := make([][]string, len(logs))
			for i, l := range logs {
				rows[i] = []string{l.CreatedAt, l.Event.Type, l.Outcome, actorName(l), orDash(l.IPAddress),
					orDash(l.ProjectID), orDash(l.Environment), orDash(l.SecretPath), orDash(strings.Join(l.SecretKeys, ","))}
			}
			table(env.Stdout, []string{"TIME", "ACTION", "OUTCOME", "ACTOR", "IP", "PROJECT", "ENV", "PATH", "KEYS"}, rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.ProjectID, "projectId", "", "only events of this project (required for project admins)")
	f.StringVar(&q.Environment, "env", "", "only events of this environment (slug)")
	f.StringVar(&q.SecretPath, "path", "", "only events at this secret path")
	f.StringVar(&q.Actor, "actor", "", "only events of this actor: an id, a user's e-mail or an identity's name")
	f.StringVar(&q.ActorType, "actor-type", "", "only events of this kind of actor: user, identity or anonymous")
	f.StringSliceVar(&q.EventTypes, "event", nil, "only these actions, e.g. secret.read,user.login_failed")
	f.StringVar(&since, "since", "", "only events since then: a duration ago (24h, 7d) or an RFC 3339 time")
	f.StringVar(&until, "until", "", "only events before then: a duration ago or an RFC 3339 time")
	f.IntVar(&limit, "limit", 100, "print at most this many events; 0 means all")
	out.bind(cmd)
	return cmd
}

func actorName(l client.AuditLog) string {
	for _, k := range []string{"email", "name", "userId", "identityId"} {
		if v, ok := l.Actor.Metadata[k].(string); ok && v != "" {
			return l.Actor.Type + ":" + v
		}
	}
	return l.Actor.Type
}

// parseSince reads "24h", "7d" (ago) or an RFC 3339 time; "" is the zero time.
func parseSince(v, flag string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		if _, serr := fmt.Sscanf(days, "%d", &n); serr == nil && fmt.Sprint(n) == days {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%s: %q is neither a duration (24h, 7d) nor an RFC 3339 time", flag, v)
	}
	return time.Now().Add(-d), nil
}

// verifyReport is what "audit verify --output json" prints.
type verifyReport struct {
	OK       bool   `json:"ok"`
	Checked  int    `json:"checked"`
	From     int64  `json:"fromSeq"`
	Head     int64  `json:"headSeq"`
	BrokenID string `json:"brokenEventId,omitempty"`
	Seq      int64  `json:"brokenSeq,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Expected string `json:"expectedHash,omitempty"`
	Found    string `json:"foundHash,omitempty"`
}

func newAuditVerifyCmd(env Env) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit log's hash chain from the database and report the first broken link",
		Long: `Recompute the hash of every audit event, from the start of the chain (or the last event
removed by COFFER_AUDIT_RETENTION) to its head, straight from the database named by the server's
settings (COFFER_DATABASE_URL, or the SQLite file in COFFER_DATA_DIR): it trusts the stored bytes,
not a running server. Read only; safe while nodes run.

It exits 0 when the chain holds, and 1 naming the first broken event (its id, sequence number,
the hash the chain expects and the hash found) when a row was edited, removed or reordered.`,
		Example: `  COFFER_DATABASE_URL=postgres://… coffer audit verify
  coffer audit verify --data-dir ./coffer-data --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), env.LookupEnv)
			if err != nil {
				return err
			}
			res, err := server.VerifyAudit(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("verify the audit log: %w", err)
			}
			rep := verifyReport{OK: res.OK(), Checked: res.Checked, From: res.From, Head: res.Head}
			if b := res.Broken; b != nil {
				rep.BrokenID, rep.Seq, rep.Reason, rep.Expected, rep.Found = b.ID, b.Seq, b.Reason, b.Expected, b.Found
			}
			switch {
			case out.json():
				if err := printJSON(env.Stdout, rep); err != nil {
					return err
				}
			case rep.OK:
				fmt.Fprintf(env.Stdout, "audit chain OK: %d events verified (sequence %d to %d)\n", rep.Checked, rep.From+1, rep.Head)
			default:
				fmt.Fprintf(env.Stdout, "audit chain BROKEN at event %s (sequence %d): %s\n  expected hash: %s\n  found hash:    %s\n",
					orDash(rep.BrokenID), rep.Seq, rep.Reason, orDash(rep.Expected), orDash(rep.Found))
			}
			if !rep.OK {
				return exitError{code: 1}
			}
			return nil
		},
	}
	config.BindFlags(cmd.Flags())
	out.bind(cmd)
	return cmd
}
