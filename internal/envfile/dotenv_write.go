package envfile

import "strings"

// marshalDotenv renders entries as KEY=value lines, with "export " in front when export is set.
//
// It mirrors Infisical CLI v0.43.x, packages/cmd/export.go:
//
//	func formatAsDotEnv(envs []models.SingleEnvironmentVariable) string {
//		var dotenv string
//		for _, env := range envs {
//			dotenv += fmt.Sprintf("%s='%s'\n", env.Key, escapeNewLinesIfRequired(env))
//		}
//		return dotenv
//	}
//
// and formatAsDotEnvExport, the same with "export %s='%s'\n". Infisical puts the value between
// single quotes as it is, which breaks on a value holding a single quote; quoteDotenv keeps
// Infisical's bytes wherever they round-trip and picks another quoting elsewhere.
func marshalDotenv(entries []Entry, export bool) ([]byte, error) {
	if err := checkEntries(entries, false); err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, e := range entries {
		if export {
			b.WriteString("export ")
		}
		b.WriteString(e.Key)
		b.WriteByte('=')
		b.WriteString(quoteDotenv(e.Value, export))
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// quoteDotenv quotes one value. The rules, in order:
//
//  1. No ' and no CR: 'value', exactly as Infisical. A line feed stays raw inside the quotes:
//     python-dotenv, the npm dotenv package, docker compose and bash all read multi-line
//     single-quoted values, and nothing inside single quotes is expanded.
//  2. dotenv: "value" with \ " $ ` escaped by a backslash, LF and CR written as \n and \r.
//  3. dotenv-export without CR: "value" with \ " $ ` escaped and LF raw, exact in any POSIX
//     shell.
//  4. dotenv-export with CR: bash's $'value' with \\ \' \n \r escapes; no POSIX quoting holds
//     a carriage return that survives a CRLF conversion of the file.
//
// A raw CR is never written: readers (this one too) turn CRLF into LF. Bash 5.2 sourcing the
// dotenv-export output sees every value exactly (TestDotenvExportInBash). Measured on the test
// corpus, other loaders read every value exactly except: python-dotenv 1.2 keeps the backslash
// of \$ and \` (rule 2), expands ${VAR} even in single quotes unless interpolate=False, and
// takes a value ending in a backslash (rule 1: Infisical's bytes, kept for compatibility) as an
// escaped closing quote, as the parser of docker compose (compose-go dotenv) also does by its
// code; the npm dotenv package 16 decodes only \n and \r in double quotes (rule 2); none of
// them reads $'…' (rule 4).
func quoteDotenv(v string, export bool) string {
	if !strings.ContainsAny(v, "'\r") {
		return "'" + v + "'"
	}
	var b strings.Builder
	if export && strings.IndexByte(v, '\r') >= 0 {
		b.WriteString("$'")
		for i := 0; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\', '\'':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('\'')
		return b.String()
	}
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"', '$', '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			if export {
				b.WriteByte('\n')
			} else {
				b.WriteString(`\n`)
			}
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
