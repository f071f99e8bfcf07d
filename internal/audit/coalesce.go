package audit

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
)

// coalescible reports whether an event is a machine's secret read, the one kind of event that
// may be merged with its repeats (changes, sign-ins and denials never are).
func coalescible(ev *coffer.AuditEvent) bool {
	return ev.Action == coffer.ActionSecretsList || ev.Action == coffer.ActionSecretRead
}

// coalesce merges the reads of a batch that repeat one another exactly (same action, actor,
// IP, user agent, organization, project, environment, path, keys, outcome and metadata) into
// the first of them, which keeps its time and request id and gains metadata "reads" (how many
// reads it stands for), "lastTime" and "lastRequestId". Every read is still accounted for; only
// the request ids between the first and the last of a run of identical reads are not kept. The
// order of the other events is unchanged. A batch spans at most the flush interval.
func coalesce(batch []*coffer.AuditEvent) []*coffer.AuditEvent {
	var firsts map[string]*coffer.AuditEvent
	var counts map[*coffer.AuditEvent]int
	out := batch[:0]
	for _, ev := range batch {
		if !coalescible(ev) {
			out = append(out, ev)
			continue
		}
		key, ok := readKey(ev)
		if !ok {
			out = append(out, ev)
			continue
		}
		if firsts == nil {
			firsts, counts = map[string]*coffer.AuditEvent{}, map[*coffer.AuditEvent]int{}
		}
		first, seen := firsts[key]
		if !seen {
			firsts[key], counts[ev] = ev, 1
			out = append(out, ev)
			continue
		}
		counts[first]++
		if first.Metadata == nil {
			first.Metadata = map[string]any{}
		}
		first.Metadata["lastTime"] = ev.Time.UTC().Format(time.RFC3339Nano)
		first.Metadata["lastRequestId"] = ev.RequestID
	}
	for ev, n := range counts {
		if n > 1 {
			ev.Metadata["reads"] = n
		}
	}
	return out
}

// readKey is what two reads must share to be merged.
func readKey(ev *coffer.AuditEvent) (string, bool) {
	md, err := json.Marshal(ev.Metadata) // maps encode with sorted keys
	if err != nil {
		return "", false
	}
	var b strings.Builder
	for _, s := range []string{ev.Action, ev.ActorType, ev.ActorID, ev.IP, ev.UserAgent, ev.OrgID, ev.ProjectID,
		ev.Environment, ev.SecretPath, ev.Outcome, string(md)} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, k := range ev.SecretKeys {
		b.WriteString(k)
		b.WriteByte(1)
	}
	return b.String(), true
}
