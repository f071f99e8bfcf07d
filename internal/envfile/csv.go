package envfile

import (
	"encoding/csv"
	"strconv"
	"strings"
)

// marshalCSV renders entries as Infisical CLI v0.43.x does, packages/cmd/export.go:
//
//	func formatAsCSV(envs []models.SingleEnvironmentVariable) string {
//		csvString := &strings.Builder{}
//		writer := csv.NewWriter(csvString)
//		writer.Write([]string{"Key", "Value"})
//		for _, env := range envs {
//			writer.Write([]string{env.Key, escapeNewLinesIfRequired(env)})
//		}
//		writer.Flush()
//		return csvString.String()
//	}
//
// encoding/csv quotes a field holding a comma, a quote, CR or LF, or starting with a space,
// doubles quotes, and keeps CR and LF raw inside the quotes.
func marshalCSV(entries []Entry) ([]byte, error) {
	if err := checkEntries(entries, true); err != nil {
		return nil, err
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	records := make([][]string, 0, len(entries)+1)
	records = append(records, []string{"Key", "Value"})
	for _, e := range entries {
		records = append(records, []string{e.Key, e.Value})
	}
	if err := w.WriteAll(records); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// parseCSV reads RFC 4180 CSV whose header names a Key and a Value column (any case, any
// order; other columns are ignored). It is its own parser because encoding/csv turns CRLF
// inside a quoted field into LF, which would change values. Records end at LF or CRLF outside
// quotes; empty lines are skipped; a quote inside an unquoted field is kept as it is.
func parseCSV(src string) ([]Entry, error) {
	records, lines, err := splitCSV(src)
	if err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, nil
	}
	keyCol, valueCol := -1, -1
	for i, name := range records[0] {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "key":
			keyCol = i
		case "value":
			valueCol = i
		}
	}
	if keyCol < 0 || valueCol < 0 {
		return nil, &Error{Format: CSV, Line: lines[0], Reason: "the header must name a Key and a Value column"}
	}
	entries := make([]Entry, 0, len(records)-1)
	for i, rec := range records[1:] {
		line := lines[i+1]
		if len(rec) != len(records[0]) {
			return nil, &Error{Format: CSV, Line: line, Reason: "expected " + strconv.Itoa(len(records[0])) + " fields, found " + strconv.Itoa(len(rec))}
		}
		if !validKey(rec[keyCol]) {
			return nil, &Error{Format: CSV, Line: line, Reason: errInvalidKeyReason}
		}
		entries = append(entries, Entry{Key: rec[keyCol], Value: rec[valueCol]})
	}
	return entries, nil
}

// splitCSV splits src into records, with the line on which each record starts.
func splitCSV(src string) (records [][]string, lines []int, err error) {
	line := 1
	var rec []string
	var field strings.Builder
	recLine := 1
	endRecord := func() {
		rec = append(rec, field.String())
		field.Reset()
		if !(len(rec) == 1 && rec[0] == "") { // an empty line
			records = append(records, rec)
			lines = append(lines, recLine)
		}
		rec = nil
	}
	i := 0
	atFieldStart := true
	for i < len(src) {
		c := src[i]
		switch {
		case atFieldStart && c == '"':
			open := i
			i++
			for {
				if i >= len(src) {
					return nil, nil, errorAt(CSV, src, open, "unterminated quoted field")
				}
				if src[i] == '"' {
					if i+1 < len(src) && src[i+1] == '"' {
						field.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				if src[i] == '\n' {
					line++
				}
				field.WriteByte(src[i])
				i++
			}
			if i < len(src) && src[i] != ',' && src[i] != '\n' && !strings.HasPrefix(src[i:], "\r\n") {
				return nil, nil, errorAt(CSV, src, i, "unexpected text after a closing quote")
			}
			atFieldStart = false
		case c == ',':
			rec = append(rec, field.String())
			field.Reset()
			atFieldStart = true
			i++
		case c == '\n' || c == '\r' && i+1 < len(src) && src[i+1] == '\n':
			endRecord()
			if c == '\r' {
				i++
			}
			i++
			line++
			recLine = line
			atFieldStart = true
		default:
			field.WriteByte(c)
			atFieldStart = false
			i++
		}
	}
	if len(rec) > 0 || field.Len() > 0 || !atFieldStart {
		endRecord()
	}
	return records, lines, nil
}
