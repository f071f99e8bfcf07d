package identity

import (
	"strings"
	"testing"
)

func TestPasswordParams(t *testing.T) {
	cheap := PasswordParams{MemoryKiB: 8192, Iterations: 1, Parallelism: 2}
	h, err := cheap.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=8192,t=1,p=2$") {
		t.Fatalf("hash %s does not carry its parameters", h)
	}
	// A hash made with other parameters keeps verifying, and is due for a rehash.
	if !CheckPassword(h, "correct horse battery staple") || CheckPassword(h, "wrong") {
		t.Error("a hash with other parameters does not verify")
	}
	if !DefaultPasswordParams.needsRehash(h) || cheap.needsRehash(h) {
		t.Error("needsRehash is wrong")
	}
	// A stored hash cannot make a check allocate without bound.
	for _, bad := range []string{"$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=8192,t=1000,p=1$AAAA$AAAA", "$argon2id$v=19$m=8192,t=1,p=0$AAAA$AAAA"} {
		if _, _, _, ok := parseHash(bad); ok {
			t.Errorf("parseHash accepted %s", bad)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Errorf("code %q", c)
		}
		seen[c] = true
		if string(hashRecoveryCode(strings.ToUpper(strings.ReplaceAll(c, "-", "")))) != string(hashes[i]) {
			t.Errorf("code %q does not match its hash when typed without the dash in upper case", c)
		}
	}
	if len(codes) != 10 {
		t.Errorf("%d codes", len(codes))
	}
}
