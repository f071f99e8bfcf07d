package server

import (
	"context"
	"log/slog"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// RewrapKeys re-wraps every project data key that is not wrapped by the current root key (the
// first of COFFER_ROOT_KEY), in one transaction: the second step of a root-key rotation, after
// the new key was put first and the old one kept after it. Nodes keep serving meanwhile; once
// it reports no key left under an old root, the old root key can be removed. Job payloads and
// users' TOTP secrets, sealed by the root key itself, are re-sealed in the same transaction. It
// returns how many keys it re-wrapped out of how many exist.
func RewrapKeys(ctx context.Context, cfg *config.Config, log *slog.Logger) (rewrapped, total int, err error) {
	roots, err := rootKeys(ctx, cfg) // see rootkeys.go
	if err != nil {
		return 0, 0, err
	}
	defer clearKeys(roots) // the keyring keeps its own copy
	dialect, dsn := cfg.DatabaseDSN()
	db, err := store.Open(ctx, dialect, dsn, store.Options{MaxOpenConns: 2})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if err := db.Migrate(ctx, log); err != nil {
		return 0, 0, err
	}
	keys, err := keyring.New(db, roots...)
	if err != nil {
		return 0, 0, err
	}
	var resealed, totps int
	err = db.InTx(ctx, func(tx *store.Tx) error {
		all, err := tx.AllProjectKeys(ctx)
		if err != nil {
			return err
		}
		total = len(all)
		for _, w := range all {
			if keyring.WrappedBy(w) == keys.RootKeyID() {
				continue
			}
			nw, err := keys.Rewrap(w)
			if err != nil {
				return err
			}
			if err := tx.UpdateProjectKey(ctx, nw); err != nil {
				return err
			}
			rewrapped++
		}
		resealed, err = resealJobPayloads(ctx, tx, keys) // see runtime.go
		if err != nil {
			return err
		}
		totps, err = identity.ResealTOTPSecrets(ctx, tx, keys)
		return err
	})
	if err != nil {
		return 0, total, err
	}
	log.Info("re-wrapped project keys under the current root key", "root_key_id", keys.RootKeyID(), "rewrapped", rewrapped, "total", total,
		"job_payloads_resealed", resealed, "totp_secrets_resealed", totps)
	return rewrapped, total, nil
}
