package envfile

import (
	"bytes"
	"strings"
	"testing"
)

// The golden strings below pin byte-for-byte compatibility with `infisical export` of the
// Infisical CLI v0.43.x (github.com/Infisical/cli, packages/cmd/export.go) for ordinary values:
// letters, digits and punctuation without quotes or line breaks. The YAML cases were checked
// against gopkg.in/yaml.v2 v2.4.0, the library Infisical marshals with; the first YAML cases are
// Infisical's own TestFormatAsYaml (packages/cmd/export_test.go).

var ordinary = []Entry{
	{"DATABASE_URL", "postgres://app:s3cr3t@db.internal:5432/app?sslmode=disable"},
	{"EMPTY", ""},
	{"GREETING", "hello world"},
	{"PASSWORD", "p@ss:w0rd!$%^*()-_=+[]{};:,.<>/?#~&|"},
}

func TestGoldenDotenv(t *testing.T) {
	// formatAsDotEnv: dotenv += fmt.Sprintf("%s='%s'\n", env.Key, escapeNewLinesIfRequired(env))
	want := "DATABASE_URL='postgres://app:s3cr3t@db.internal:5432/app?sslmode=disable'\n" +
		"EMPTY=''\n" +
		"GREETING='hello world'\n" +
		"PASSWORD='p@ss:w0rd!$%^*()-_=+[]{};:,.<>/?#~&|'\n"
	assertWrite(t, Dotenv, ordinary, want)
	assertWrite(t, Dotenv, nil, "")
}

func TestGoldenDotenvExport(t *testing.T) {
	// formatAsDotEnvExport: dotenv += fmt.Sprintf("export %s='%s'\n", env.Key, escapeNewLinesIfRequired(env))
	want := "export DATABASE_URL='postgres://app:s3cr3t@db.internal:5432/app?sslmode=disable'\n" +
		"export EMPTY=''\n" +
		"export GREETING='hello world'\n" +
		"export PASSWORD='p@ss:w0rd!$%^*()-_=+[]{};:,.<>/?#~&|'\n"
	assertWrite(t, DotenvExport, ordinary, want)
}

func TestGoldenJSON(t *testing.T) {
	// formatAsJson: json, err := json.Marshal(envs) … return string(json), printed with fmt.Print.
	// The fields are those of models.SingleEnvironmentVariable, in its order.
	const rest = `"_id":"","secretPath":"/","tags":[],"comment":"","Etag":"","skipMultilineEncoding":false}`
	want := `[{"key":"DATABASE_URL","workspace":"","value":"postgres://app:s3cr3t@db.internal:5432/app?sslmode=disable","type":"shared",` + rest +
		`,{"key":"EMPTY","workspace":"","value":"","type":"shared",` + rest +
		`,{"key":"GREETING","workspace":"","value":"hello world","type":"shared",` + rest +
		`,{"key":"PASSWORD","workspace":"","value":"p@ss:w0rd!$%^*()-_=+[]{};:,.\u003c\u003e/?#~\u0026|","type":"shared",` + rest + `]`
	assertWrite(t, JSON, ordinary, want)
	assertWrite(t, JSON, nil, "[]")

	var buf bytes.Buffer
	err := WriteJSONDetailed(&buf, []Entry{{"A", "1"}}, JSONDetail{Workspace: "6f1c", Type: "personal", SecretPath: "/api"})
	if err != nil {
		t.Fatal(err)
	}
	want = `[{"key":"A","workspace":"6f1c","value":"1","type":"personal","_id":"","secretPath":"/api","tags":[],"comment":"","Etag":"","skipMultilineEncoding":false}]`
	if buf.String() != want {
		t.Errorf("WriteJSONDetailed:\n got %s\nwant %s", buf.String(), want)
	}
}

func TestGoldenYAML(t *testing.T) {
	// formatAsYaml: m[env.Key] = escapeNewLinesIfRequired(env); yamlBytes, err := yaml.Marshal(m)
	tests := []struct {
		name    string
		entries []Entry
		want    string
	}{
		// Infisical's TestFormatAsYaml cases.
		{"empty input", nil, "{}\n"},
		{"single", []Entry{{"KEY1", "VALUE1"}}, "KEY1: VALUE1\n"},
		{"multiple", []Entry{{"KEY1", "VALUE1"}, {"KEY2", "VALUE2"}, {"KEY3", "VALUE3"}}, "KEY1: VALUE1\nKEY2: VALUE2\nKEY3: VALUE3\n"},
		{"duplicate keys keep the last", []Entry{{"KEY1", "VALUE1"}, {"KEY1", "VALUE2"}}, "KEY1: VALUE2\n"},
		{"special characters", []Entry{{"KEY1", "Value with spaces"}, {"KEY2", "Value:with:colons"}, {"KEY3", "Value\nwith\nnewlines"}},
			"KEY1: Value with spaces\nKEY2: Value:with:colons\nKEY3: |-\n  Value\n  with\n  newlines\n"},
		// yaml.v2's key order: other characters before letters, digit runs by value.
		{"key order", []Entry{{"B", "x"}, {"a", "x"}, {"A10", "x"}, {"A9", "x"}, {"_X", "x"}, {"1", "x"}, {"a.b", "x"}, {"a-b", "x"}, {"a_b", "x"}},
			"_X: x\n\"1\": x\nA9: x\nA10: x\nB: x\na: x\na-b: x\na.b: x\na_b: x\n"},
		// Quoting decided by yaml.v2: text that would read back as another type is double-quoted
		// (YAML 1.1 booleans such as N and Y included), indicators force single quotes.
		{"quoting", []Entry{{"K", "true"}, {"L", "yes"}, {"M", "123"}, {"N", "0x1F"}, {"O", "1:20"}, {"P", "2001-12-14"},
			{"R", "- item"}, {"S", "a #b"}, {"T", "#c"}, {"U", "x: y"}, {"V", ""}, {"W", " pad "}, {"X", "&<>"},
			{"Y", "https://example.com/a?b=c&d=e#f"}, {"Z", "p@ss:w0rd!$%^*()"}},
			"K: \"true\"\nL: \"yes\"\nM: \"123\"\n\"N\": \"0x1F\"\nO: \"1:20\"\nP: \"2001-12-14\"\nR: '- item'\nS: 'a #b'\n" +
				"T: '#c'\nU: 'x: y'\nV: \"\"\nW: ' pad '\nX: '&<>'\n\"Y\": https://example.com/a?b=c&d=e#f\nZ: p@ss:w0rd!$%^*()\n"},
		// yaml.v2 v2.4.0 folds lines at 80 columns (yaml.v3 does not).
		{"plain folded", []Entry{{"LONG", strings.TrimSpace(strings.Repeat("abcd ", 20))}},
			"LONG: abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd\n  abcd abcd abcd abcd\n"},
		{"double-quoted folded", []Entry{{"D", strings.TrimSpace(strings.Repeat(`null\ `, 20))}},
			"D: null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\ null\\\n  null\\ null\\ null\\ null\\ null\\ null\\\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertWrite(t, YAML, tt.entries, tt.want) })
	}
}

func TestGoldenCSV(t *testing.T) {
	// formatAsCSV: writer := csv.NewWriter(csvString); writer.Write([]string{"Key", "Value"}); …
	want := "Key,Value\n" +
		"DATABASE_URL,postgres://app:s3cr3t@db.internal:5432/app?sslmode=disable\n" +
		"EMPTY,\n" +
		"GREETING,hello world\n" +
		"PASSWORD,\"p@ss:w0rd!$%^*()-_=+[]{};:,.<>/?#~&|\"\n" // encoding/csv quotes the comma
	assertWrite(t, CSV, ordinary, want)
	assertWrite(t, CSV, nil, "Key,Value\n")
}

// TestQuotingBeyondInfisical pins the quoting chosen where Infisical's 'value' cannot hold the
// value (see quoteDotenv).
func TestQuotingBeyondInfisical(t *testing.T) {
	tests := []struct {
		value, dotenv, export string
	}{
		{"it's", `"it's"`, `"it's"`},
		{`it's "$HOME" \ ` + "`x`", `"it's \"\$HOME\" \\ \` + "`x\\`\"", `"it's \"\$HOME\" \\ \` + "`x\\`\""},
		{"it's\nok", `"it's\nok"`, "\"it's\nok\""},
		{"crlf\r\nline", `"crlf\r\nline"`, `$'crlf\r\nline'`},
		{"it's\r", `"it's\r"`, `$'it\'s\r'`},
		{"multi\nline", "'multi\nline'", "'multi\nline'"}, // Infisical's bytes
	}
	for _, tt := range tests {
		assertWrite(t, Dotenv, []Entry{{"K", tt.value}}, "K="+tt.dotenv+"\n")
		assertWrite(t, DotenvExport, []Entry{{"K", tt.value}}, "export K="+tt.export+"\n")
	}
}

func assertWrite(t *testing.T, f Format, entries []Entry, want string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, entries); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	if buf.String() != want {
		t.Errorf("Write(%s):\n got %q\nwant %q", f, buf.String(), want)
	}
}
