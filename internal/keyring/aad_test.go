package keyring

import (
	"encoding/hex"
	"testing"
)

func TestSecretAAD(t *testing.T) {
	type tuple struct {
		project, env, secret string
		version              int
		field                string
	}
	// Tuples that a plain concatenation would confuse.
	tuples := []tuple{
		{"p", "e", "s", 1, "value"},
		{"pe", "", "s", 1, "value"},
		{"p", "es", "", 1, "value"},
		{"p", "e", "s1", 0, "value"},
		{"p", "e", "s", 1, "valu"},
		{"p", "e", "s", 2, "value"},
		{"p", "e", "s", -1, "value"},
		{"p", "e", "s", 1, "comment"},
		{"", "", "", 0, ""},
		{"", "", "", 0, "\x00"},
		{"\x00\x00\x00\x01p", "e", "s", 1, "value"},
	}
	seen := make(map[string]tuple)
	for _, tu := range tuples {
		b := string(SecretAAD(tu.project, tu.env, tu.secret, tu.version, tu.field))
		if prev, dup := seen[b]; dup {
			t.Errorf("SecretAAD%v == SecretAAD%v", tu, prev)
		}
		seen[b] = tu
	}

	// The format, hard-coded.
	want := "0000000d" + hex.EncodeToString([]byte("coffer secret")) +
		"00000001" + "70" + // p
		"00000002" + "6576" + // ev
		"00000003" + "736563" + // sec
		"0000000000000007" + // version 7
		"00000005" + hex.EncodeToString([]byte("value"))
	if got := hex.EncodeToString(SecretAAD("p", "ev", "sec", 7, "value")); got != want {
		t.Errorf("SecretAAD =\n%s\nwant\n%s", got, want)
	}
}
