package envfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// hardValues are values that break naive quoting in at least one format.
func hardValues() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 10<<10)
	for i := range big {
		big[i] = byte(' ' + rng.IntN('~'-' '+1))
	}
	return []string{
		"", " ", "a b", "'", "\"", "\\", "a'b\"c", "line1\nline2", "line1\r\nline2",
		"trailing\n", "\n", "#not a comment", "a #b", "x=y", "$HOME", "${REF}", "\t",
		"unicode ☃ é 日本", "null", "true", "123", "0x1F", "- item", "key: value", "[a]",
		"{b}", ",", "a,b", "==", string(big),
		// More that each format's quoting has to get right.
		"\r", "\r\n", "\n\n", " lead", "trail ", "'quoted'", `"dq"`, `\'`, `\"`, `a\`, `\n`,
		"`cmd`", "$(cmd)", "it's $5", "a\tb\nc", "\u2028", "\u0085x", "\ufeffbom", "~",
		"yes", "1:20", "2001-12-14", ".inf", "-", "---", "...", "? x", "@at", "%pct",
		"&amp; <b>", "!tag", "*alias", "|pipe", ">fold", "a: b", "k:v", "\x01\x7f", "é\r",
		strings.Repeat("word ", 40), strings.Repeat("x", 200), strings.Repeat("a  b ", 30),
		strings.Repeat("it's ", 30), strings.Repeat(`say "hi" `, 20),
	}
}

// roundTrip writes entries in f, reads them back and reports every difference.
func roundTrip(t *testing.T, f Format, entries []Entry) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, entries); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()), f)
	if err != nil {
		t.Fatalf("Read(%s): %v\n--- written:\n%s", f, err, buf.String())
	}
	want := dedupe(entries)
	if len(got) != len(want) {
		t.Fatalf("Read(%s) gave %d entries, want %d\n--- written:\n%s", f, len(got), len(want), buf.String())
	}
	byKey := make(map[string]string, len(got))
	for _, e := range got {
		byKey[e.Key] = e.Value
	}
	for _, e := range want {
		if v, ok := byKey[e.Key]; !ok || v != e.Value {
			t.Errorf("%s: key %s: got %q, want %q\n--- written:\n%s", f, e.Key, v, e.Value, buf.String())
		}
	}
	if f != YAML { // YAML is a mapping written in yaml.v2's key order; the others keep order
		for i := range want {
			if got[i].Key != want[i].Key {
				t.Errorf("%s: entry %d is %s, want %s", f, i, got[i].Key, want[i].Key)
			}
		}
	}
}

func TestRoundTripHardValues(t *testing.T) {
	values := hardValues()
	var all []Entry
	for i, v := range values {
		all = append(all, Entry{Key: fmt.Sprintf("K_%d", i), Value: v})
	}
	for _, f := range formats {
		t.Run(string(f), func(t *testing.T) {
			roundTrip(t, f, all)       // all in one file
			for i, v := range values { // and each alone, first and last in its file
				roundTrip(t, f, []Entry{{Key: "ONLY", Value: v}})
				if t.Failed() {
					t.Fatalf("value %d failed alone", i)
				}
			}
		})
	}
}

func TestRoundTripKeys(t *testing.T) {
	keys := []string{"A", "a", "_", ".", "-", "1", "01", "true", "yes", "null", "~x", "a.b-c_d", "K10", "K9", "x-", "-x", ".env",
		strings.Repeat("K", 200)}
	keys[10] = "x.y" // '~' is not a key character
	var entries []Entry
	for i, k := range keys {
		entries = append(entries, Entry{Key: k, Value: fmt.Sprintf("v%d", i)})
	}
	for _, f := range formats {
		t.Run(string(f), func(t *testing.T) { roundTrip(t, f, entries) })
	}
}

func TestRoundTripDuplicatesAndEmpty(t *testing.T) {
	for _, f := range formats {
		t.Run(string(f), func(t *testing.T) {
			roundTrip(t, f, nil)
			roundTrip(t, f, []Entry{{"A", "1"}, {"B", "2"}, {"A", "3"}})
		})
	}
}

// FuzzRoundTrip checks Read(Write(entries)) == entries in every format for random keys from
// the key alphabet and random UTF-8 values.
func FuzzRoundTrip(f *testing.F) {
	for _, v := range hardValues() {
		if len(v) < 300 {
			f.Add("KEY", v, "other")
		}
	}
	f.Add("a.b-c", "it's\r\n", `"\$`)
	f.Fuzz(func(t *testing.T, rawKey, v1, v2 string) {
		if !utf8.ValidString(v1) || !utf8.ValidString(v2) {
			return
		}
		key := fuzzKey(rawKey)
		entries := []Entry{{Key: key, Value: v1}, {Key: key + "_2", Value: v2}}
		for _, f := range formats {
			if (f == Dotenv || f == DotenvExport) && strings.ContainsRune(v1+v2, 0) {
				if err := Write(&bytes.Buffer{}, f, entries); err == nil {
					t.Fatalf("Write(%s) accepted a NUL byte", f)
				}
				continue
			}
			roundTrip(t, f, entries)
		}
	})
}

// fuzzKey maps arbitrary bytes onto a non-empty key of the allowed alphabet.
func fuzzKey(raw string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
	if raw == "" {
		return "K"
	}
	var b strings.Builder
	for i := 0; i < len(raw) && i < 64; i++ {
		b.WriteByte(alphabet[int(raw[i])%len(alphabet)])
	}
	return b.String()
}
