package cli

import (
	"encoding/json"
	"io"

	pretty "github.com/jedib0t/go-pretty/v6/table"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints rows under a header in a box, with the style (and so byte for byte the output)
// of Infisical's CLI, whose tables CI scripts may capture.
func table(w io.Writer, header []string, rows [][]string) {
	t := pretty.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(pretty.StyleLight)
	t.AppendHeader(toRow(header))
	for _, r := range rows {
		t.AppendRow(toRow(r))
	}
	t.Render()
}

func toRow(cells []string) pretty.Row {
	r := make(pretty.Row, len(cells))
	for i, c := range cells {
		r[i] = c
	}
	return r
}
