package jobs

import (
	"fmt"

	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// sealPurpose is the keyring purpose of job payloads.
const sealPurpose = "job-payload"

// Sealed returns j with its payload sealed by the keyring (keyring.SealSystem), bound to the
// job's id and kind, so the job table holds only ciphertext; the worker opens it before the
// handler runs. It gives j an id when it has none. Use it for payloads that carry anything
// secret, such as a password-reset link.
func Sealed(keys *keyring.Keyring, j store.Job) (store.Job, error) {
	if j.Sealed {
		return j, fmt.Errorf("jobs: seal %s: the payload is sealed already", j.Kind)
	}
	if j.ID == "" {
		j.ID = store.NewID()
	}
	ct, err := keys.SealSystem(sealPurpose, payloadAAD(j.ID, j.Kind), j.Payload)
	if err != nil {
		return j, fmt.Errorf("jobs: seal %s: %w", j.Kind, err)
	}
	j.Payload, j.Sealed = ct, true
	return j, nil
}

// open returns the plaintext of a sealed payload.
func open(keys *keyring.Keyring, j store.Job) ([]byte, error) {
	if keys == nil {
		return nil, fmt.Errorf("jobs: job %s of kind %s has a sealed payload and this worker has no keyring", j.ID, j.Kind)
	}
	pt, err := keys.OpenSystem(sealPurpose, payloadAAD(j.ID, j.Kind), j.Payload)
	if err != nil {
		return nil, fmt.Errorf("jobs: open the payload of job %s: %w", j.ID, err)
	}
	return pt, nil
}

// Reseal re-seals a sealed payload with the keyring's current root key (root-key rotation).
func Reseal(keys *keyring.Keyring, j store.Job) ([]byte, error) {
	return keys.ResealSystem(sealPurpose, payloadAAD(j.ID, j.Kind), j.Payload)
}

// payloadAAD binds a payload to its job: the id's length, the id, then the kind.
func payloadAAD(id, kind string) []byte {
	return fmt.Appendf(nil, "%d:%s%s", len(id), id, kind)
}
