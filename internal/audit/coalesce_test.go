package audit

import (
	"testing"
	"time"

	"github.com/cofferhq/coffer"
)

func TestCoalesceMergesOnlyExactRepeatsOfReads(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	read := func(i int, keys ...string) *coffer.AuditEvent {
		return &coffer.AuditEvent{Time: t0.Add(time.Duration(i) * time.Millisecond), Action: coffer.ActionSecretsList,
			ActorType: coffer.AuditActorIdentity, ActorID: "id-1", IP: "10.0.0.1", UserAgent: "sdk", ProjectID: "p",
			Environment: "dev", SecretPath: "/", SecretKeys: keys, Outcome: "success", RequestID: "r" + string(rune('a'+i)),
			Metadata: map[string]any{"recursive": false, "count": len(keys)}}
	}
	change := func(i int) *coffer.AuditEvent {
		ev := read(i, "A")
		ev.Action = coffer.ActionSecretUpdate
		return ev
	}
	otherIP := read(3, "A", "B")
	otherIP.IP = "10.0.0.2"
	batch := []*coffer.AuditEvent{read(0, "A", "B"), change(1), read(2, "A", "B"), otherIP, change(4), read(5, "A"), read(6, "A", "B")}
	out := coalesce(batch)
	if len(out) != 5 {
		t.Fatalf("coalesced to %d events, want 5 (one merged read, two changes, the other IP, the other keys)", len(out))
	}
	wantActions := []string{coffer.ActionSecretsList, coffer.ActionSecretUpdate, coffer.ActionSecretsList, coffer.ActionSecretUpdate, coffer.ActionSecretsList}
	for i, ev := range out {
		if ev.Action != wantActions[i] {
			t.Fatalf("event %d is %s, want %s (order must be kept)", i, ev.Action, wantActions[i])
		}
	}
	first := out[0]
	if first.RequestID != "ra" || !first.Time.Equal(t0) {
		t.Errorf("the merged event keeps request %s at %s, want the first read's", first.RequestID, first.Time)
	}
	if first.Metadata["reads"] != 3 || first.Metadata["lastRequestId"] != "rg" || first.Metadata["lastTime"] != t0.Add(6*time.Millisecond).Format(time.RFC3339Nano) {
		t.Errorf("merged metadata = %v; want reads 3, lastRequestId rg and the last read's time", first.Metadata)
	}
	for _, ev := range out[1:] {
		if _, ok := ev.Metadata["reads"]; ok {
			t.Errorf("%s %v was merged with something", ev.Action, ev.Metadata)
		}
	}
	if out[1].RequestID != "rb" || out[3].RequestID != "re" {
		t.Error("two identical changes were merged; changes are never merged")
	}
}
