package audit

import (
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func katRow() *store.AuditRow {
	return &store.AuditRow{AuditEvent: coffer.AuditEvent{ID: "ev-1", Seq: 7, Time: time.UnixMilli(1700000000123).UTC(),
		ActorType: "identity", ActorID: "id-1", ActorName: "ci", IP: "192.0.2.1", UserAgent: "ua", Action: "secret.read",
		OrgID: "org", ProjectID: "proj", Environment: "dev", SecretPath: "/", Outcome: "success", RequestID: "req-1",
		Node: "n1", PrevHash: "00"}, KeysJSON: `["A"]`, MetadataJSON: `{}`}
}

// TestHashKnownAnswer pins the canonical encoding (checked against an independent
// implementation): a change to it would break every stored chain.
func TestHashKnownAnswer(t *testing.T) {
	const want = "16ea460a42e71bf79ea4de20de8c48099bc5689e0c56354244c875febea0298c" // computed apart, in Python: sha256 of 8-byte big-endian lengths and bytes
	if got := Hash(katRow()); got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
}

// TestHashCoversEveryField changes each field in turn, and moves bytes between neighbours
// (which a plain concatenation would not notice).
func TestHashCoversEveryField(t *testing.T) {
	base := Hash(katRow())
	changes := map[string]func(r *store.AuditRow){
		"id": func(r *store.AuditRow) { r.ID = "ev-2" }, "seq": func(r *store.AuditRow) { r.Seq = 8 },
		"time":  func(r *store.AuditRow) { r.Time = r.Time.Add(time.Millisecond) },
		"actor": func(r *store.AuditRow) { r.ActorType = "user" }, "actor id": func(r *store.AuditRow) { r.ActorID = "id-2" },
		"name": func(r *store.AuditRow) { r.ActorName = "cd" }, "ip": func(r *store.AuditRow) { r.IP = "192.0.2.2" },
		"ua": func(r *store.AuditRow) { r.UserAgent = "ub" }, "action": func(r *store.AuditRow) { r.Action = "secret.update" },
		"org": func(r *store.AuditRow) { r.OrgID = "org2" }, "project": func(r *store.AuditRow) { r.ProjectID = "proj2" },
		"env": func(r *store.AuditRow) { r.Environment = "prod" }, "path": func(r *store.AuditRow) { r.SecretPath = "/a" },
		"keys": func(r *store.AuditRow) { r.KeysJSON = `["B"]` }, "outcome": func(r *store.AuditRow) { r.Outcome = "denied" },
		"request": func(r *store.AuditRow) { r.RequestID = "req-2" }, "metadata": func(r *store.AuditRow) { r.MetadataJSON = `{"a":1}` },
		"node": func(r *store.AuditRow) { r.Node = "n2" }, "prev": func(r *store.AuditRow) { r.PrevHash = "01" },
		"bytes moved between fields": func(r *store.AuditRow) { r.OrgID, r.ProjectID = "orgp", "roj" },
	}
	for name, change := range changes {
		r := katRow()
		change(r)
		if Hash(r) == base {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}
