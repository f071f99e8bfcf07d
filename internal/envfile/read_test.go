package envfile

import (
	"reflect"
	"strings"
	"testing"
)

func mustRead(t *testing.T, f Format, src string) []Entry {
	t.Helper()
	got, err := Read(strings.NewReader(src), f)
	if err != nil {
		t.Fatalf("Read(%s): %v", f, err)
	}
	return got
}

func assertEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %q\nwant %q", got, want)
	}
}

func TestReadRealisticDotenv(t *testing.T) {
	src := "\uFEFF# Application settings\r\n" +
		"\r\n" +
		"APP_NAME=My App   # the display name\r\n" +
		"export PORT=8080\r\n" +
		"  DEBUG = true\r\n" +
		"HASH=abc#def\r\n" +
		"EMPTY=\r\n" +
		"EMPTY_COMMENT= # nothing here\r\n" +
		"SINGLE='literal $HOME \\n # not a comment' # a comment\r\n" +
		"DOUBLE=\"line1\\nline2\\t\\\"q\\\" \\\\ \\$HOME\"\r\n" +
		"REF=${OTHER}/path\r\n" +
		"PEM=\"-----BEGIN KEY-----\r\nMIIB\r\n-----END KEY-----\"\r\n" +
		"SQ_MULTI='a\r\nb'\r\n" +
		"\t# indented comment\r\n" +
		"DOTTED.KEY-NAME=x\r\n" +
		"PORT=9090\r\n" + // the last assignment wins, at the first one's place
		"URL=https://example.com/?a=1&b=2\r\n" +
		"TIGHT=\"x\"# comment right after the quote\r\n" +
		"LAST=no newline at end"
	want := []Entry{
		{"APP_NAME", "My App"},
		{"PORT", "9090"},
		{"DEBUG", "true"},
		{"HASH", "abc#def"},
		{"EMPTY", ""},
		{"EMPTY_COMMENT", ""},
		{"SINGLE", `literal $HOME \n # not a comment`},
		{"DOUBLE", "line1\nline2\t\"q\" \\ $HOME"},
		{"REF", "${OTHER}/path"},
		{"PEM", "-----BEGIN KEY-----\nMIIB\n-----END KEY-----"},
		{"SQ_MULTI", "a\nb"},
		{"DOTTED.KEY-NAME", "x"},
		{"URL", "https://example.com/?a=1&b=2"},
		{"TIGHT", "x"},
		{"LAST", "no newline at end"},
	}
	assertEntries(t, mustRead(t, Dotenv, src), want)
	assertEntries(t, mustRead(t, DotenvExport, src), want)
}

func TestReadShellExports(t *testing.T) {
	src := `#!/usr/bin/env bash
export A='it'\''s'
export	B="say \"hi\" for \$5 and \` + "`" + `cmd\` + "`" + `"
export C=$'tab\there\r\nnew \'q\' \\ \x41\101\u263A'
export D='glued'"together"\!
export E=""  # empty
`
	want := []Entry{
		{"A", "it's"},
		{"B", "say \"hi\" for $5 and `cmd`"},
		{"C", "tab\there\r\nnew 'q' \\ AA☺"},
		{"D", "gluedtogether!"},
		{"E", ""},
	}
	assertEntries(t, mustRead(t, DotenvExport, src), want)
}

func TestReadJSON(t *testing.T) {
	infisical := `[{"key":"A","workspace":"6f1c","value":"1","type":"shared","_id":"","secretPath":"/","tags":[{"id":"t","slug":"x"}],"comment":"","Etag":"","skipMultilineEncoding":false},
	 {"key":"B","value":"two\nlines"},{"key":"A","value":"again"}]`
	assertEntries(t, mustRead(t, JSON, infisical), []Entry{{"A", "again"}, {"B", "two\nlines"}})

	object := "\uFEFF" + `{ "Z": "last", "PORT": 8080, "DEBUG": true, "RATIO": 1.5e3, "A": "\u00e9" }`
	assertEntries(t, mustRead(t, JSON, object), []Entry{{"Z", "last"}, {"PORT", "8080"}, {"DEBUG", "true"}, {"RATIO", "1.5e3"}, {"A", "é"}})
	assertEntries(t, mustRead(t, JSON, "  "), nil)
	assertEntries(t, mustRead(t, JSON, "[]"), nil)
	assertEntries(t, mustRead(t, JSON, "{}"), nil)
}

func TestReadYAML(t *testing.T) {
	src := `# secrets
DATABASE_URL: postgres://localhost/app
PORT: 8080
DEBUG: yes
EMPTY:
NULL_VALUE: ~
QUOTED: "line1\nline2"
SINGLE: 'it''s'
BLOCK: |
  first
  second
FOLDED: >-
  one
  two
anchor: &a shared
alias: *a
`
	want := []Entry{
		{"DATABASE_URL", "postgres://localhost/app"},
		{"PORT", "8080"},
		{"DEBUG", "yes"},
		{"EMPTY", ""},
		{"NULL_VALUE", ""},
		{"QUOTED", "line1\nline2"},
		{"SINGLE", "it's"},
		{"BLOCK", "first\nsecond\n"},
		{"FOLDED", "one two"},
		{"anchor", "shared"},
		{"alias", "shared"},
	}
	assertEntries(t, mustRead(t, YAML, src), want)
	assertEntries(t, mustRead(t, YAML, ""), nil)
	assertEntries(t, mustRead(t, YAML, "{}\n"), nil)
}

func TestReadCSV(t *testing.T) {
	src := "\uFEFFValue,Comment,KEY\r\n" +
		"\"a,b\",first,A\r\n" +
		"\r\n" +
		"\"multi\r\nline \"\"quoted\"\"\",,B\r\n" +
		"plain \"inner\" quote,x,C\r\n" +
		",,EMPTY"
	want := []Entry{{"A", "a,b"}, {"B", "multi\r\nline \"quoted\""}, {"C", `plain "inner" quote`}, {"EMPTY", ""}}
	assertEntries(t, mustRead(t, CSV, src), want)
	assertEntries(t, mustRead(t, CSV, ""), nil)
	assertEntries(t, mustRead(t, CSV, "Key,Value\n"), nil)
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"dotenv", "DOTENV", "dotenv-export", "json", "Yaml", " csv "} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), "dotenv, dotenv-export, json, yaml, csv") {
		t.Errorf("ParseFormat(xml) error %v does not name the allowed formats", err)
	}
	if err := Write(&strings.Builder{}, Format("toml"), nil); err == nil {
		t.Error("Write accepted an unknown format")
	}
	if _, err := Read(strings.NewReader(""), Format("toml")); err == nil {
		t.Error("Read accepted an unknown format")
	}
}

func TestFormatFromFilename(t *testing.T) {
	tests := []struct {
		name string
		want Format
		ok   bool
	}{
		{".env", Dotenv, true},
		{"/app/.env.local", Dotenv, true},
		{".env.production", Dotenv, true},
		{"prod.env", Dotenv, true},
		{"secrets.json", JSON, true},
		{".env.json", JSON, true},
		{"secrets.yaml", YAML, true},
		{"SECRETS.YML", YAML, true},
		{"secrets.csv", CSV, true},
		{"env.sh", DotenvExport, true},
		{"secrets.txt", "", false},
		{"environment", "", false},
	}
	for _, tt := range tests {
		got, ok := FormatFromFilename(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FormatFromFilename(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
