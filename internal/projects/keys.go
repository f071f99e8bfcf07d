package projects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/jobs"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// Project key rotation.
//
// RotateKey makes a new data key for a project (the next term) and makes it the key every new
// ciphertext is sealed with, in one transaction that holds the project's row lock. Secret
// writes read the term under a lock that excludes it (store.LockKeyTerm), so once the rotation
// commits, nothing is sealed with an older key. The rotation enqueues a re-seal job
// (ResealJobKind): it opens every stored value and comment of the project that is sealed with
// an older term, secrets and their history, and seals it again with the current key, in
// batches, each replacing a row only if it is unchanged since it was read; a row that does not
// open is passed over and keeps the older key alive (the job fails naming it and retries).
// When none is left, RetireDelay later (a retirement job, so that requests under way and
// lagging read replicas still open what they read) and checked again under the project's row
// lock, the older keys are retired: their wrapped form is erased, so data sealed with them,
// wherever a copy survives (a replica's log, a dump taken since), can no longer be opened with
// this database's keys. An older backup still holds the older wrapped key: only rotating the
// root key protects those. Nodes drop a retired key from memory when they next reload the
// project's keys.

// ResealJobKind is the kind of the job that re-seals a project's data after a key rotation.
const ResealJobKind = "project.key_reseal"

// resealBatch is how many rows one re-seal transaction replaces.
const resealBatch = 200

// KeyStatus is the state of a project's data keys.
type KeyStatus struct {
	ProjectID   string
	CurrentTerm uint32
	Keys        []store.ProjectKeyInfo
	// Pending counts the stored rows (a secret or a kept version) still sealed with an older
	// key; the re-seal job brings it to 0, then retires the older keys.
	Pending int
	// Job is, while Resealing, the job that finishes the rotation: the re-seal job (its state,
	// attempts and last error) or, once everything is re-sealed, the retirement job (RunAt is
	// when the older key is destroyed). nil when none is queued, which RotateKey repairs.
	Job *store.Job
}

// Busy reports whether a job is finishing the last rotation: another is refused meanwhile.
func (k *KeyStatus) Busy() bool {
	return k.Resealing() && k.Job != nil && k.Job.Status != store.JobDead
}

// Resealing reports whether a rotation's re-seal is still under way: an older key is live.
func (k *KeyStatus) Resealing() bool {
	for _, info := range k.Keys {
		if info.Term < k.CurrentTerm && info.RetiredAt.IsZero() {
			return true
		}
	}
	return false
}

// KeyStatus returns the project's keys and how much data is still sealed with an older one.
// It needs read access to the project's settings.
func (s *Service) KeyStatus(ctx context.Context, projectID string) (*KeyStatus, error) {
	if _, err := s.grant(ctx, projectID, authz.Read, authz.Settings); err != nil {
		return nil, err
	}
	return s.keyStatus(ctx, s.db, projectID)
}

func (s *Service) keyStatus(ctx context.Context, c interface {
	KeyTerm(context.Context, string) (uint32, error)
	ProjectKeyInfos(context.Context, string) ([]store.ProjectKeyInfo, error)
	CountStaleCiphertexts(context.Context, string, uint32) (int, error)
	LatestJob(context.Context, string, string) (*store.Job, error)
}, projectID string) (*KeyStatus, error) {
	term, err := c.KeyTerm(ctx, projectID)
	if err != nil {
		return nil, err
	}
	infos, err := c.ProjectKeyInfos(ctx, projectID)
	if err != nil {
		return nil, err
	}
	st := &KeyStatus{ProjectID: projectID, CurrentTerm: term, Keys: infos}
	if st.Resealing() {
		if st.Pending, err = c.CountStaleCiphertexts(ctx, projectID, term); err != nil {
			return nil, err
		}
		for _, kind := range []string{ResealJobKind, RetireJobKind} {
			j, err := c.LatestJob(ctx, kind, projectID)
			if err != nil && coffer.ErrorCode(err) != coffer.ENOTFOUND {
				return nil, err
			}
			if j != nil && (st.Job == nil || st.Job.Status == store.JobDead) {
				j.Payload = nil
				st.Job = j
			}
		}
	}
	return st, nil
}

// RotateKey gives the project a new data key and starts re-sealing its data with it. It needs
// the right to edit the project's settings (project admins). While a rotation's re-seal has not
// finished another is refused with ECONFLICT; if its job is no longer queued (it died, or was
// pruned), a new one is queued first, so a project is never left half-rotated for good.
func (s *Service) RotateKey(ctx context.Context, projectID string) (*KeyStatus, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Settings)
	if err != nil {
		return nil, err
	}
	var st *KeyStatus
	var key keyring.WrappedKey
	var busy error // the refusal of a rotation while one is re-sealing, after a commit
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockProject(ctx, projectID); err != nil {
			return err
		}
		cur, err := s.keyStatus(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if cur.Resealing() {
			if cur.Busy() {
				return coffer.Errorf(coffer.ECONFLICT, "this project's data is still being re-encrypted after the last key rotation (%d left): try again when it has finished", cur.Pending)
			}
			busy = coffer.Errorf(coffer.ECONFLICT, "this project's data was still being re-encrypted after the last key rotation (%d left) and its job had stopped: it has been restarted; try again when it has finished", cur.Pending)
			return s.enqueueReseal(ctx, tx, projectID)
		}
		next := cur.CurrentTerm + 1
		if key, err = s.keys.NewProjectKey(projectID, next); err != nil {
			return err
		}
		now := s.now()
		if err := tx.AddProjectKeyTerm(ctx, key, now); err != nil {
			return err
		}
		if err := s.enqueueReseal(ctx, tx, projectID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, coffer.ActionProjectKeyRotate, g.Project.OrgID, projectID, map[string]any{"term": next, "previousTerm": cur.CurrentTerm}); err != nil {
			return err
		}
		st, err = s.keyStatus(ctx, tx, projectID)
		return err
	})
	if err != nil {
		s.keys.Forget(projectID) // the new key must not be used to seal if it was not stored
		return nil, err
	}
	if busy != nil {
		return nil, busy
	}
	return st, nil
}

// resealAttempts bounds the re-seal job's attempts: with the worker's backoff (capped at an
// hour) it keeps trying for weeks, so an operator can repair what stops it (the job's last
// error names the row) without rotating again.
const resealAttempts = 1000

// enqueueReseal queues the project's re-seal job, at most one live per project.
func (s *Service) enqueueReseal(ctx context.Context, tx *store.Tx, projectID string) error {
	_, err := tx.EnqueueJob(ctx, store.Job{Kind: ResealJobKind, Key: projectID, Payload: mustPayload(projectID), MaxAttempts: resealAttempts})
	return err
}

type resealPayload struct {
	ProjectID string `json:"projectId"`
}

// RetireJobKind is the kind of the job that destroys a project's older keys once its data is
// re-sealed, RetireDelay later.
const RetireJobKind = "project.key_retire"

// RegisterJobs registers the re-seal and retirement jobs' handlers on w.
func (s *Service) RegisterJobs(w *jobs.Worker) {
	w.Register(ResealJobKind, s.resealJob)
	w.Register(RetireJobKind, s.retireJob)
}

func jobProject(j store.Job) (string, error) {
	var p resealPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.ProjectID == "" {
		return "", jobs.Permanent(fmt.Errorf("%s job %s: bad payload", j.Kind, j.ID))
	}
	return p.ProjectID, nil
}

func (s *Service) resealJob(ctx context.Context, j store.Job) error {
	projectID, err := jobProject(j)
	if err != nil {
		return err
	}
	_, err = s.Reseal(ctx, projectID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil // the project was deleted, and its keys and data with it
	}
	return err
}

func (s *Service) retireJob(ctx context.Context, j store.Job) error {
	projectID, err := jobProject(j)
	if err != nil {
		return err
	}
	err = s.retireOldKeys(ctx, projectID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil
	}
	return err
}

// Reseal seals every value and comment of the project still sealed with an older key again with
// the current one, then retires the older keys: at once, or RetireDelay later through a
// retirement job. It is idempotent and safe to run on several nodes at once. A row that cannot
// be opened is passed over (the rest is re-sealed) and makes it fail, naming the rows, with the
// older keys kept. It returns how many rows it re-sealed.
func (s *Service) Reseal(ctx context.Context, projectID string) (int, error) {
	total := 0
	var bad []string
	for _, versions := range []bool{false, true} {
		after := ""
		for {
			n, last, unreadable, err := s.resealBatch(ctx, projectID, versions, after)
			total += n
			bad = append(bad, unreadable...)
			if err != nil {
				return total, err
			}
			if last == "" {
				break
			}
			after = last
		}
	}
	if len(bad) > 0 {
		shown := bad[:min(len(bad), 5)]
		return total, fmt.Errorf("%d stored entries of project %s cannot be opened, so its older key is kept (delete or repair them): %s",
			len(bad), projectID, strings.Join(shown, "; "))
	}
	if s.RetireDelay > 0 {
		return total, s.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.EnqueueJob(ctx, store.Job{Kind: RetireJobKind, Key: projectID, Payload: mustPayload(projectID),
				RunAt: s.now().Add(s.RetireDelay), MaxAttempts: resealAttempts})
			return err
		})
	}
	return total, s.retireOldKeys(ctx, projectID)
}

func mustPayload(projectID string) []byte {
	b, err := json.Marshal(resealPayload{ProjectID: projectID})
	if err != nil {
		panic(err) // a struct of one string always encodes
	}
	return b
}

// resealBatch re-seals up to resealBatch stale rows after the cursor, in one transaction that
// first takes the project's row lock like every write (so the order of locks is the same:
// project, then secrets). It returns the rows replaced, the rows that could not be opened (where
// they are, never what they hold) and the cursor to continue from ("" at the end).
func (s *Service) resealBatch(ctx context.Context, projectID string, versions bool, after string) (n int, last string, bad []string, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		n, last, bad = 0, "", nil
		term, err := tx.LockKeyTerm(ctx, projectID)
		if err != nil {
			return err
		}
		ctx := keyring.WithStore(ctx, tx) // keys loaded under the lock come through tx: no second connection
		rows, err := tx.StaleCiphertexts(ctx, projectID, term, versions, after, resealBatch)
		if err != nil {
			return err
		}
		for _, row := range rows {
			value, err := s.reseal(ctx, projectID, term, row, "value", row.Value)
			if err == nil {
				var comment []byte
				if comment, err = s.reseal(ctx, projectID, term, row, "comment", row.Comment); err == nil {
					var ok bool
					if ok, err = tx.ResealCiphertext(ctx, row, value, comment); ok {
						n++
					}
				}
			}
			switch {
			case errors.Is(err, keyring.ErrDecrypt):
				bad = append(bad, err.Error())
			case err != nil:
				return err
			}
		}
		if len(rows) == resealBatch {
			last = rows[len(rows)-1].ID
		}
		return nil
	})
	return n, last, bad, err
}

// reseal opens one field of a stale row and seals it with term; a field already sealed with
// term is kept as it is.
func (s *Service) reseal(ctx context.Context, projectID string, term uint32, row store.StaleCiphertext, field string, ct []byte) ([]byte, error) {
	if t, err := keyring.Term(ct); err == nil && t >= term {
		return ct, nil
	}
	aad := keyring.SecretAAD(projectID, row.EnvironmentID, row.SecretID, row.Version, field)
	pt, err := s.keys.Open(ctx, projectID, aad, ct)
	if err != nil {
		// Never the value: only where it is.
		what := "secret"
		if row.IsVersion {
			what = "kept version of secret"
		}
		return nil, fmt.Errorf("%s of %s %s v%d: %w", field, what, row.SecretID, row.Version, err)
	}
	defer clear(pt)
	return s.keys.SealTerm(ctx, projectID, term, aad, pt)
}

// retireOldKeys destroys the project's older keys once nothing is sealed with them, checked
// under the project's row lock, which no write holds at that moment. If something sealed with
// an older key is found (it cannot be, unless a row was restored), the re-seal job is queued
// again instead.
func (s *Service) retireOldKeys(ctx context.Context, projectID string) error {
	var retired []uint32
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockProject(ctx, projectID); err != nil {
			return err
		}
		term, err := tx.KeyTerm(ctx, projectID)
		if err != nil {
			return err
		}
		left, err := tx.CountStaleCiphertexts(ctx, projectID, term)
		if err != nil {
			return err
		}
		if left > 0 {
			return s.enqueueReseal(ctx, tx, projectID)
		}
		p, err := tx.FindProject(ctx, projectID)
		if err != nil {
			return err
		}
		if retired, err = tx.RetireProjectKeys(ctx, projectID, term, s.now()); err != nil || len(retired) == 0 {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionProjectKeyRetire, OrgID: p.OrgID, ProjectID: projectID,
			ActorType: coffer.AuditActorSystem, ActorName: "key re-seal job",
			Metadata: map[string]any{"retiredTerms": retired, "currentTerm": term}})
	})
	if err != nil {
		return err
	}
	if len(retired) > 0 {
		s.keys.Forget(projectID) // this node drops the destroyed keys now; others on next load
	}
	return nil
}
