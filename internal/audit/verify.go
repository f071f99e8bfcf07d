package audit

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/store"
)

// Broken describes the first link of the chain that does not hold.
type Broken struct {
	ID       string // the event found broken ("" when the break is a missing event at the end)
	Seq      int64
	Reason   string
	Expected string // the hash the chain expects there
	Found    string // the hash found
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Checked int   // events whose hash was recomputed
	From    int64 // the anchor: verification starts after this sequence number
	Head    int64 // the last sequence number of the chain
	Broken  *Broken
}

// OK reports whether the chain holds.
func (r *VerifyResult) OK() bool { return r.Broken == nil }

// verifyPage is how many events Verify reads per query.
const verifyPage = 1000

// Verify recomputes the chain from the anchor (the last event removed by retention, or the
// start) to the head, and reports the first event whose recomputed hash differs from the
// stored one, whose prev_hash is not its predecessor's hash, or that is missing.
func Verify(ctx context.Context, db *store.DB) (*VerifyResult, error) {
	head, anchor, err := db.AuditChainState(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the audit chain: %w", err)
	}
	res := &VerifyResult{From: anchor.Seq, Head: head.Seq}
	prev := anchor
	for prev.Seq < head.Seq {
		rows, err := db.AuditChain(ctx, prev.Seq, verifyPage)
		if err != nil {
			return nil, fmt.Errorf("read audit events: %w", err)
		}
		if len(rows) == 0 {
			res.Broken = &Broken{Seq: prev.Seq + 1, Reason: "events missing at the end of the chain",
				Expected: head.Hash, Found: prev.Hash}
			return res, nil
		}
		for _, r := range rows {
			if r.Seq > head.Seq {
				break // appended after we read the head
			}
			if b := checkLink(prev, r); b != nil {
				res.Broken = b
				return res, nil
			}
			res.Checked++
			prev = store.ChainPoint{Seq: r.Seq, Hash: r.Hash}
		}
		if rows[len(rows)-1].Seq > head.Seq {
			break
		}
	}
	if prev.Seq == head.Seq && prev.Hash != head.Hash {
		res.Broken = &Broken{Seq: head.Seq, Reason: "the chain head does not match the last event", Expected: head.Hash, Found: prev.Hash}
	}
	return res, nil
}

// checkLink checks one event against its predecessor.
func checkLink(prev store.ChainPoint, r *store.AuditRow) *Broken {
	switch want := Hash(r); {
	case r.Seq != prev.Seq+1:
		return &Broken{ID: r.ID, Seq: r.Seq, Reason: fmt.Sprintf("events %d to %d are missing", prev.Seq+1, r.Seq-1),
			Expected: prev.Hash, Found: r.PrevHash}
	case r.PrevHash != prev.Hash:
		return &Broken{ID: r.ID, Seq: r.Seq, Reason: "prev_hash is not the previous event's hash", Expected: prev.Hash, Found: r.PrevHash}
	case want != r.Hash:
		return &Broken{ID: r.ID, Seq: r.Seq, Reason: "the event's content does not match its hash", Expected: want, Found: r.Hash}
	}
	return nil
}
