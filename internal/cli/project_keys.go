package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/client"
)

// rotatePoll is how often "projects rotate-key --wait" asks how the re-encryption is going.
const rotatePoll = time.Second

func newProjectsKeysCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var projectID string
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Show the state of a project's data keys",
		Long: `Show the keys that have encrypted a project's secrets, one per term: the current one, which
encrypts every write; an older one still in use while its data is re-encrypted after a
rotation ("resealing"); and the retired ones, destroyed once nothing needed them. While a
re-encryption runs, a line says how many stored rows (secrets and their kept versions) are
still sealed with an older key. No key material is ever shown.

Anyone who may read the project's settings may; --output json prints the API's answer:
{projectId, currentTerm, resealing, pendingRows, keys: [{term, createdAt, retiredAt, status}]},
and while a rotation finishes job: {kind, status, attempts, maxAttempts, lastError, runAt}.`,
		Example: `  coffer projects keys --projectId "$PROJECT_ID"
  coffer projects keys --output json | jq .currentTerm   # project from .coffer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID, err = resolveProject(s, projectID); err != nil {
				return err
			}
			st, err := c.ProjectKeys(cmd.Context(), projectID)
			if err != nil {
				return fmt.Errorf("read the keys of project %s: %w", projectID, err)
			}
			return printKeys(env, out, st)
		},
	}
	bindProjectID(cmd, &projectID)
	out.bind(cmd)
	return cmd
}

func newProjectsRotateKeyCmd(env Env, g *globals) *cobra.Command {
	var out outputFlag
	var projectID string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Give a project a new data key and re-encrypt its secrets with it",
		Long: `Rotate the data key that encrypts a project's secrets, to limit what a leaked or suspect
key exposes. Project admins may. (An old database backup holds the old key too, wrapped by the
root key: to protect backups, rotate the root key as well and destroy the old one.)

The new key encrypts every write from the moment the command returns, on every node. The
server then re-encrypts, in the background, every stored value, comment and kept version
still sealed with the older key, and destroys that key once nothing is left under it.
Secrets stay readable and writable throughout: nothing to restart, no downtime.

Without --wait the command returns once the new key is in use; "coffer projects keys"
follows the re-encryption. With --wait it asks every second until the old key is destroyed,
printing the progress on stderr, and exits 0 then, or 1 when --timeout runs out first (the
re-encryption carries on on the server). A rotation is refused while the previous one is
still re-encrypting.

It prints the project's keys as "coffer projects keys" does (--output json for scripts).
Run it on a schedule from an admin machine identity: the example shows a crontab line and
a CI step.`,
		Example: `  coffer projects rotate-key --projectId "$PROJECT_ID" --wait

  # crontab: on the 1st of every month at 03:00, as a machine identity that is admin of the project
  # (rotate.env exports COFFER_API_URL, COFFER_UNIVERSAL_AUTH_CLIENT_ID and _SECRET, and sets PROJECT_ID)
  0 3 1 * *  . /etc/coffer/rotate.env && coffer projects rotate-key --projectId "$PROJECT_ID" --wait --silent

  # a scheduled CI job (e.g. GitHub Actions "on: schedule"), failing if it takes over 30 minutes
  coffer projects rotate-key --projectId "$PROJECT_ID" --wait --timeout 30m --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("timeout") && !wait {
				return fmt.Errorf("--timeout bounds --wait: pass --wait too, or leave --timeout out")
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout: must be more than 0, not %s", timeout)
			}
			s, c, err := adminClient(cmd, env, g)
			if err != nil {
				return err
			}
			if projectID, err = resolveProject(s, projectID); err != nil {
				return err
			}
			st, err := c.RotateProjectKey(cmd.Context(), projectID)
			if err != nil {
				return fmt.Errorf("rotate the key of project %s: %w", projectID, err)
			}
			s.say("Project %s now encrypts with key %d.", projectID, st.CurrentTerm)
			if !wait {
				if st.Resealing {
					s.say("Its data is re-encrypted in the background, then the old key is destroyed: follow it with \"coffer projects keys --projectId %s\".", projectID)
				}
				return printKeys(env, out, st)
			}
			if st, err = waitResealed(cmd.Context(), s, c, st, timeout); err != nil {
				return err
			}
			s.say("Re-encryption finished: every older key of project %s is destroyed.", projectID)
			return printKeys(env, out, st)
		},
	}
	bindProjectID(cmd, &projectID)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the data is re-encrypted and the old key destroyed")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "with --wait: give up after this long (exit 1)")
	out.bind(cmd)
	return cmd
}

// waitResealed polls the project's keys every rotatePoll until no older key is live (the data
// is re-encrypted and the older keys destroyed), saying on stderr how many rows are left. It
// gives up after timeout; answers of 5xx and network errors are retried until then.
func waitResealed(ctx context.Context, s *session, c *client.Client, st *client.KeyStatus, timeout time.Duration) (*client.KeyStatus, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(rotatePoll)
	defer tick.Stop()
	said := -1
	var lastErr error
	var lastJobErr string
	for st.Resealing {
		if st.PendingRows != said {
			said = st.PendingRows
			if said > 0 {
				s.say("Re-encrypting project %s with key %d: %s left.", st.ProjectID, st.CurrentTerm, rowCount(said))
			} else {
				s.say("Re-encrypting project %s with key %d: nothing left; the old key is about to be destroyed.", st.ProjectID, st.CurrentTerm)
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			msg := fmt.Sprintf("--timeout %s ran out before the re-encryption of project %s finished (%s left)", timeout, st.ProjectID, rowCount(st.PendingRows))
			if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) {
				msg += fmt.Sprintf("; the last check failed: %v", lastErr)
			}
			return nil, fmt.Errorf("%s. Key %d is in use and the server carries on: follow it with \"coffer projects keys --projectId %s\"", msg, st.CurrentTerm, st.ProjectID)
		case <-tick.C:
		}
		next, err := c.ProjectKeys(wctx, st.ProjectID)
		if code := client.StatusCode(err); code >= http.StatusBadRequest && code < http.StatusInternalServerError && code != http.StatusTooManyRequests {
			return nil, fmt.Errorf("follow the re-encryption of project %s: %w", st.ProjectID, err)
		} else if err != nil {
			lastErr = err // the server or the network: try again until the timeout
			continue
		}
		st, lastErr = next, nil
		switch j := st.Job; {
		case !st.Resealing:
		case j == nil || j.Status == "dead":
			why := "no job is queued"
			if j != nil && j.LastError != "" {
				why = "its job gave up: " + j.LastError
			}
			return nil, fmt.Errorf("the re-encryption of project %s has stopped (%s left; %s). Fix what it names, then run \"coffer projects rotate-key --projectId %s\" to restart it",
				st.ProjectID, rowCount(st.PendingRows), why, st.ProjectID)
		case j.LastError != "" && j.LastError != lastJobErr:
			lastJobErr = j.LastError
			s.say("The last attempt failed and is retried at %s: %s", j.RunAt.UTC().Format(time.RFC3339), j.LastError)
		}
	}
	return st, nil
}

// printKeys prints a project's key state: JSON, or a table and, while data is re-encrypted, a
// line saying how much is left.
func printKeys(env Env, out outputFlag, st *client.KeyStatus) error {
	if out.json() {
		if st.Keys == nil {
			st.Keys = []client.ProjectKey{}
		}
		return printJSON(env.Stdout, st)
	}
	tbl := make([][]string, len(st.Keys))
	for i, k := range st.Keys {
		retired := "-"
		if k.RetiredAt != nil {
			retired = k.RetiredAt.UTC().Format(time.RFC3339)
		}
		tbl[i] = []string{strconv.FormatUint(uint64(k.Term), 10), k.Status, k.CreatedAt.UTC().Format(time.RFC3339), retired}
	}
	table(env.Stdout, []string{"TERM", "STATUS", "CREATED", "RETIRED"}, tbl)
	if st.Resealing {
		fmt.Fprintf(env.Stdout, "Re-encrypting with key %d: %s still sealed with an older key, which is destroyed once none is left.\n",
			st.CurrentTerm, rowCount(st.PendingRows))
		switch j := st.Job; {
		case j == nil || j.Status == "dead":
			fmt.Fprintln(env.Stdout, "The re-encryption has stopped: run \"coffer projects rotate-key\" to restart it.")
		case j.Kind == "project.key_retire":
			fmt.Fprintf(env.Stdout, "The older key is destroyed at %s.\n", j.RunAt.UTC().Format(time.RFC3339))
		}
		if j := st.Job; j != nil && j.LastError != "" {
			fmt.Fprintf(env.Stdout, "The last attempt failed: %s\n", j.LastError)
		}
	}
	return nil
}

// rowCount says "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}
