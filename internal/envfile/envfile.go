// Package envfile reads and writes secrets as dotenv, shell exports, JSON, YAML and CSV,
// round-tripping every value exactly.
//
// Write produces the formats of `coffer export`; for ordinary values (letters, digits and
// punctuation without quotes or line breaks) the bytes are the same as those of the Infisical
// CLI v0.43.x `infisical export`, so scripts written for it keep working. Read parses the same
// formats for `coffer secrets import`, plus what people really keep in .env files. For every
// format, Read(Write(entries)) gives back every value byte for byte; see the per-format notes
// on Format for the rules that make that hold.
//
// The package never puts a secret value into an error: read errors name the line (and column
// where useful) and a fixed reason, never text from the file; write errors name the entry and
// its key, never its value.
package envfile

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Entry is one secret: a key and its value. Slices of entries keep their order.
type Entry struct {
	Key, Value string
}

// Format names a file format for Write and Read.
type Format string

// The supported formats.
//
// Dotenv writes KEY='value' per line (Infisical's format). A value holding a single quote or a
// carriage return cannot be written that way, so it is written "double-quoted" with \\ \" \$ \`
// escaped and line breaks as \n and \r, which docker compose decodes exactly.
//
// DotenvExport writes export KEY='value' per line (Infisical's format), meant for `source` or
// `eval` in bash. A value holding a single quote is written "double-quoted" with \\ \" \$ \`
// escaped and line feeds kept raw; a value holding a carriage return is written as bash's
// $'…' with \\ \' \n \r escapes.
//
// JSON writes Infisical's array of secret objects, without a trailing newline (Infisical prints
// it with fmt.Print). Read also accepts a plain {"KEY": "value"} object.
//
// YAML writes a mapping as Infisical does (yaml.v2 v2.4.0 marshalling a map[string]string): keys
// in yaml.v2's sorted order, duplicate keys collapsed to the last value, long lines folded at
// 80 columns.
//
// CSV writes a Key,Value header and one record per entry with encoding/csv, as Infisical does.
const (
	Dotenv       Format = "dotenv"
	DotenvExport Format = "dotenv-export"
	JSON         Format = "json"
	YAML         Format = "yaml"
	CSV          Format = "csv"
)

// formats lists the formats in the order error messages name them.
var formats = []Format{Dotenv, DotenvExport, JSON, YAML, CSV}

// ParseFormat returns the format named s (case-insensitive). Its error names the allowed formats.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range formats {
		if f == known {
			return f, nil
		}
	}
	names := make([]string, len(formats))
	for i, known := range formats {
		names[i] = string(known)
	}
	return "", fmt.Errorf("envfile: unknown format %q (allowed: %s)", s, strings.Join(names, ", "))
}

// FormatFromFilename guesses the format from a file name: .json, .yaml/.yml, .csv, .sh
// (dotenv-export), and .env, .env.* or *.env (dotenv). The extension wins, so .env.json is JSON.
// It reports false when the name says nothing.
func FormatFromFilename(name string) (Format, bool) {
	base := strings.ToLower(filepath.Base(name))
	switch filepath.Ext(base) {
	case ".json":
		return JSON, true
	case ".yaml", ".yml":
		return YAML, true
	case ".csv":
		return CSV, true
	case ".sh":
		return DotenvExport, true
	case ".env":
		return Dotenv, true
	}
	if base == ".env" || strings.HasPrefix(base, ".env.") {
		return Dotenv, true
	}
	return "", false
}

// Write writes entries to w in format f. It checks every entry before writing anything, so a
// bad entry leaves w untouched. Keys must be letters, digits, '_', '.' or '-'; values must be
// valid UTF-8, and dotenv values must not hold a NUL byte (no environment variable can).
// Entries are written in the order given (YAML excepted, see YAML); a duplicate key is written
// twice, and Read keeps the last.
func Write(w io.Writer, f Format, entries []Entry) error {
	f, err := ParseFormat(string(f))
	if err != nil {
		return err
	}
	var out []byte
	switch f {
	case Dotenv:
		out, err = marshalDotenv(entries, false)
	case DotenvExport:
		out, err = marshalDotenv(entries, true)
	case JSON:
		return WriteJSONDetailed(w, entries, JSONDetail{})
	case YAML:
		out, err = marshalYAML(entries)
	case CSV:
		out, err = marshalCSV(entries)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// Read parses r as format f. It accepts comments, blank lines, CRLF line endings and a leading
// UTF-8 byte order mark where the format allows them. When a key appears more than once the
// last value wins and the entry keeps the place of the first (as a later assignment in a
// shell script or a Python dict would). Errors are *Error values and never quote the input.
func Read(r io.Reader, f Format) ([]Entry, error) {
	f, err := ParseFormat(string(f))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("envfile: read %s: %w", f, err)
	}
	src := strings.TrimPrefix(string(data), "\uFEFF")
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, errorAt(f, src, off, "invalid UTF-8")
	}
	var entries []Entry
	switch f {
	case Dotenv, DotenvExport:
		entries, err = parseDotenv(src, f)
	case JSON:
		entries, err = parseJSON(src)
	case YAML:
		entries, err = parseYAML(src)
	case CSV:
		entries, err = parseCSV(src)
	}
	if err != nil {
		return nil, err
	}
	return dedupe(entries), nil
}

// Error is a read error. It carries a position and a fixed reason and never any text of the
// input, which holds secrets.
type Error struct {
	Format Format
	Line   int // 1-based; 0 when unknown
	Column int // 1-based, in characters; 0 when not useful
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("envfile: ")
	b.WriteString(string(e.Format))
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// errorAt builds an *Error for byte offset off of src, computing line and column.
func errorAt(f Format, src string, off int, reason string) *Error {
	line, col := position(src, off)
	return &Error{Format: f, Line: line, Column: col, Reason: reason}
}

// position turns a byte offset of src into a 1-based line and character column.
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	before := src[:off]
	line = strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[lineStart:]) + 1
}

// validKey reports whether k is a non-empty run of letters, digits, '_', '.' and '-'.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isKeyByte(k[i]) {
			return false
		}
	}
	return true
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

// errInvalidKeyReason is the reason given for a key outside the allowed alphabet.
const errInvalidKeyReason = "invalid key (allowed: letters, digits, '_', '.', '-')"

// checkEntries validates entries for writing. Keys are names, not secrets, so the error
// quotes the key; it never quotes the value.
func checkEntries(entries []Entry, allowNUL bool) error {
	for i, e := range entries {
		if !validKey(e.Key) {
			return fmt.Errorf("envfile: entry %d: %s: %q", i+1, errInvalidKeyReason, e.Key)
		}
		if !utf8.ValidString(e.Value) {
			return fmt.Errorf("envfile: entry %d (key %s): value is not valid UTF-8", i+1, e.Key)
		}
		if !allowNUL && strings.IndexByte(e.Value, 0) >= 0 {
			return fmt.Errorf("envfile: entry %d (key %s): value holds a NUL byte, which no environment variable can", i+1, e.Key)
		}
	}
	return nil
}

// dedupe keeps one entry per key: the last value, at the place of the first occurrence.
func dedupe(entries []Entry) []Entry {
	index := make(map[string]int, len(entries))
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if i, ok := index[e.Key]; ok {
			out[i].Value = e.Value
			continue
		}
		index[e.Key] = len(out)
		out = append(out, e)
	}
	return out
}
