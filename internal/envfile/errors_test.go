package envfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// marker stands for a secret value; no error may contain any part of it.
const marker = "S3CR3T-MARKER-x9Q"

func assertNoMarker(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, part := range []string{marker, "S3CR3T", "MARKER", "x9Q"} {
		if strings.Contains(msg, part) {
			t.Errorf("error %q leaks the value", msg)
		}
	}
}

func TestReadErrorsNameTheLineNeverTheValue(t *testing.T) {
	tests := []struct {
		name      string
		format    Format
		src       string
		line, col int
	}{
		{"unterminated single quote", Dotenv, "A=1\nB='" + marker + "\nC=3\n", 2, 3},
		{"unterminated double quote", Dotenv, "A=1\n\nB=\"" + marker + "\\\"\n", 3, 3},
		{"unterminated ansi quote", DotenvExport, "export B=$'" + marker + "\\'\n", 1, 10},
		{"text after a quoted value", Dotenv, "A='x' " + marker + "\n", 1, 7},
		{"bad key character", Dotenv, "A=1\n" + marker + "!=x\n", 2, 18},
		{"value line without a key", Dotenv, "A=1\n=" + marker + "\n", 2, 1},
		{"missing =", Dotenv, "A=1\nB " + marker + "\n", 2, 3},
		{"space in key", Dotenv, "MY KEY=" + marker + "\n", 1, 4},
		{"NUL byte", Dotenv, "A=" + marker + "\x00\n", 1, 20},
		{"invalid UTF-8", Dotenv, "A=" + marker + "\xff\n", 1, 20},
		{"NUL once unescaped", DotenvExport, "export A=$'" + marker + "\\0'\n", 1, 10},
		{"json syntax", JSON, "[{\"key\":\"A\",\"value\":\"" + marker + "\x01\"}]", 1, 38},
		{"json truncated", JSON, "{\"A\": \"" + marker, 1, 25},
		{"json value not a string", JSON, "{\n  \"A\": [\"" + marker + "\"]\n}", 2, 3},
		{"json array of strings", JSON, "[\"" + marker + "\"]", 1, 2},
		{"json missing value", JSON, "[{\"key\":\"A\",\"val\":\"" + marker + "\"}]", 1, 2},
		{"json bad key", JSON, "{\"A B\": \"" + marker + "\"}", 1, 2},
		{"json trailing data", JSON, "{\"A\": \"x\"} \"" + marker + "\"", 1, 12},
		{"yaml syntax", YAML, "A: ok\nB: \"" + marker + "\n", 0, 0},
		{"yaml nested value", YAML, "A:\n  - " + marker + "\n", 2, 3},
		{"yaml list", YAML, "- " + marker + "\n", 1, 0},
		{"yaml bad key", YAML, "A: 1\n" + marker + " x: y\n", 2, 1},
		{"yaml two documents", YAML, "A: 1\n---\nB: " + marker + "\n", 2, 0},
		{"yaml tab indent", YAML, "A: 1\n\tB: " + marker + "\n", 0, 0},
		{"yaml unknown alias", YAML, "A: *" + marker + "\n", 0, 0},
		{"json invalid UTF-8", JSON, "{\"A\": \"" + marker + "\xff\"}", 1, 25},
		{"csv unterminated", CSV, "Key,Value\nA,\"" + marker + "\n", 2, 3},
		{"csv text after quote", CSV, "Key,Value\nA,\"x\"" + marker + "\n", 2, 6},
		{"csv field count", CSV, "Key,Value\nA," + marker + ",extra\n", 2, 0},
		{"csv no header", CSV, "A," + marker + "\n", 1, 0},
		{"csv bad key", CSV, "Key,Value\nA B," + marker + "\n", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.src), tt.format)
			if err == nil {
				t.Fatal("Read succeeded")
			}
			assertNoMarker(t, err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Format != tt.format {
				t.Errorf("Format = %q, want %q", e.Format, tt.format)
			}
			if tt.line != 0 && (e.Line != tt.line || e.Column != tt.col) {
				t.Errorf("error %q at line %d, column %d; want line %d, column %d", err, e.Line, e.Column, tt.line, tt.col)
			}
			if tt.line == 0 && e.Line == 0 && !strings.HasPrefix(tt.name, "yaml") {
				t.Errorf("error %q names no line", err)
			}
		})
	}
}

func TestWriteErrorsNeverTheValue(t *testing.T) {
	tests := []struct {
		name    string
		formats []Format
		entry   Entry
	}{
		{"invalid UTF-8", formats, Entry{"A", marker + "\xff"}},
		{"NUL in dotenv", []Format{Dotenv, DotenvExport}, Entry{"A", marker + "\x00"}},
		{"bad key", formats, Entry{"A B", marker}},
		{"empty key", formats, Entry{"", marker}},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			var buf bytes.Buffer
			err := Write(&buf, f, []Entry{{"OK", "fine"}, tt.entry})
			if err == nil {
				t.Errorf("%s: Write(%s) succeeded", tt.name, f)
				continue
			}
			assertNoMarker(t, err)
			if buf.Len() != 0 {
				t.Errorf("%s: Write(%s) wrote %d bytes before failing", tt.name, f, buf.Len())
			}
			if !strings.Contains(err.Error(), "entry 2") {
				t.Errorf("%s: Write(%s) error %q does not name the entry", tt.name, f, err)
			}
		}
	}
	// JSON, YAML and CSV carry a NUL byte; only environment formats refuse it.
	for _, f := range []Format{JSON, YAML, CSV} {
		roundTrip(t, f, []Entry{{"A", "nul\x00byte"}})
	}
}
