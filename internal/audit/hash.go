package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// hashVersion starts every canonical encoding, so that a future encoding cannot be confused
// with this one.
const hashVersion = "coffer-audit-v1"

// Hash returns the hex SHA-256 of a row's canonical encoding: every column but hash itself,
// prev_hash included, each as an 8-byte big-endian length followed by its bytes (numbers in
// decimal, times in Unix milliseconds, keys and metadata as the stored JSON text). Length
// prefixes make the encoding unambiguous: no two different rows encode alike.
func Hash(r *store.AuditRow) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{
		hashVersion, r.ID, strconv.FormatInt(r.Seq, 10), strconv.FormatInt(r.Time.UnixMilli(), 10),
		r.ActorType, r.ActorID, r.ActorName, r.IP, r.UserAgent, r.Action, r.OrgID, r.ProjectID, r.Environment,
		r.SecretPath, r.KeysJSON, r.Outcome, r.RequestID, r.MetadataJSON, r.Node, r.PrevHash,
	} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// toRow encodes an event's keys and metadata as the JSON text that is stored and hashed.
func toRow(ev *coffer.AuditEvent) (*store.AuditRow, error) {
	keys := ev.SecretKeys
	if keys == nil {
		keys = []string{}
	}
	k, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	md := ev.Metadata
	if md == nil {
		md = map[string]any{}
	}
	m, err := json.Marshal(md) // map keys sorted: the same metadata always encodes alike
	if err != nil {
		return nil, err
	}
	return &store.AuditRow{AuditEvent: *ev, KeysJSON: string(k), MetadataJSON: string(m)}, nil
}

// fromRow decodes a stored row's keys and metadata.
func fromRow(r *store.AuditRow) *coffer.AuditEvent {
	ev := r.AuditEvent
	ev.SecretKeys, ev.Metadata = []string{}, map[string]any{}
	json.Unmarshal([]byte(r.KeysJSON), &ev.SecretKeys)   //nolint:errcheck // a tampered row still lists
	json.Unmarshal([]byte(r.MetadataJSON), &ev.Metadata) //nolint:errcheck
	return &ev
}
