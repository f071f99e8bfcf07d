package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/cofferhq/coffer"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultPasswordParams are OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const argonKeyLen = 32

// Limits of a password.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// ValidatePassword checks a new password's length; the message never includes the password.
func ValidatePassword(field, password string) error {
	if !utf8.ValidString(password) {
		return coffer.Errorf(coffer.EVALIDATION, "%s: must be valid UTF-8 text", field)
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		return coffer.Errorf(coffer.EVALIDATION, "%s: must be at least %d characters", field, MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return coffer.Errorf(coffer.EVALIDATION, "%s: must be at most %d characters", field, MaxPasswordLen)
	}
	return nil
}

// HashPassword returns an argon2id hash with the default parameters in the PHC string format.
func HashPassword(password string) (string, error) { return DefaultPasswordParams.Hash(password) }

// Hash returns an argon2id hash of password with p in the PHC string format.
func (p PasswordParams) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// parseHash splits a PHC argon2id hash into its parameters, salt and key.
func parseHash(hash string) (p PasswordParams, salt, key []byte, ok bool) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, false
	}
	// Refuse parameters no sane configuration makes: a hash row must not be able to make a
	// sign-in allocate gigabytes.
	if p.MemoryKiB == 0 || p.MemoryKiB > 4<<20 || p.Iterations == 0 || p.Iterations > 100 || p.Parallelism == 0 {
		return p, nil, nil, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return p, nil, nil, false
	}
	return p, salt, key, true
}

// CheckPassword reports whether password matches a hash made by HashPassword (with any
// parameters), in constant time with respect to the password.
func CheckPassword(hash, password string) bool {
	p, salt, want, ok := parseHash(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// needsRehash reports whether a hash was made with parameters other than p.
func (p PasswordParams) needsRehash(hash string) bool {
	hp, _, _, ok := parseHash(hash)
	return !ok || hp != p
}

// dummyHashes are checked against when no user matches, so that an unknown e-mail costs the
// same time as a wrong password. Each is made on first use, not at start-up: every coffer
// command (coffer run included) links this package, and an argon2id hash costs tens of
// milliseconds.
var dummyHashes sync.Map // PasswordParams → func() string

func dummyHash(p PasswordParams) string {
	f, _ := dummyHashes.LoadOrStore(p, sync.OnceValue(func() string {
		h, _ := p.Hash("coffer-dummy-password")
		return h
	}))
	return f.(func() string)()
}
