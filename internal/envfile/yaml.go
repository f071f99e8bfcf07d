package envfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"
)

// marshalYAML renders entries as Infisical CLI v0.43.x does, packages/cmd/export.go:
//
//	func formatAsYaml(envs []models.SingleEnvironmentVariable) (string, error) {
//		m := make(map[string]string)
//		for _, env := range envs {
//			m[env.Key] = escapeNewLinesIfRequired(env)
//		}
//		yamlBytes, err := yaml.Marshal(m) // gopkg.in/yaml.v2 v2.4.0
//		...
//
// with the same library (go.yaml.in/yaml/v2 is its maintained continuation), so the bytes are
// Infisical's: keys sorted as yaml.v2 sorts them, the last of duplicate keys winning as in a Go
// map, lines folded at 80 columns, "{}\n" for no entries. libyaml's output is lossy for a few
// values (some starting with a line break other than LF): those entries, found by reading the
// text back, are written as JSON-quoted scalars, which YAML reads exactly.
func marshalYAML(entries []Entry) ([]byte, error) {
	if err := checkEntries(entries, true); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		m[e.Key] = e.Value
	}
	out, err := yaml2.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("envfile: yaml: %w", err)
	}
	back, err := parseYAML(string(out))
	if err == nil && sameEntries(back, m) {
		return out, nil
	}
	// Rare: render entry by entry in yaml.v2's key order, JSON-quoting the lossy ones.
	var order yaml2.MapSlice
	if err := yaml2.Unmarshal(out, &order); err != nil {
		return nil, fmt.Errorf("envfile: yaml: %w", err)
	}
	var buf bytes.Buffer
	for _, item := range order {
		k := fmt.Sprint(item.Key)
		one, err := yaml2.Marshal(map[string]string{k: m[k]})
		if err != nil {
			return nil, fmt.Errorf("envfile: yaml: key %s: %w", k, err)
		}
		if got, err := parseYAML(string(one)); err != nil || !sameEntries(got, map[string]string{k: m[k]}) {
			kq, _ := json.Marshal(k)
			vq, _ := json.Marshal(m[k])
			one = append(append(append(kq, ": "...), vq...), '\n')
		}
		buf.Write(one)
	}
	return buf.Bytes(), nil
}

// sameEntries reports whether entries hold exactly the pairs of m.
func sameEntries(entries []Entry, m map[string]string) bool {
	if len(entries) != len(m) {
		return false
	}
	for _, e := range entries {
		if v, ok := m[e.Key]; !ok || v != e.Value {
			return false
		}
	}
	return true
}

// parseYAML accepts one YAML document holding a mapping of keys to scalars. Numbers and
// booleans keep their text; null (~, null or nothing) is the empty string.
func parseYAML(src string) ([]Entry, error) {
	dec := yaml.NewDecoder(strings.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlSyntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{Format: YAML, Line: extra.Line, Reason: "more than one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Format: YAML, Line: root.Line, Reason: "expected a mapping of KEY: value"}
	}
	entries := make([]Entry, 0, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || !validKey(k.Value) {
			return nil, &Error{Format: YAML, Line: k.Line, Column: k.Column, Reason: errInvalidKeyReason}
		}
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			return nil, &Error{Format: YAML, Line: v.Line, Column: v.Column, Reason: "value of " + k.Value + " is not a string"}
		}
		value := v.Value
		switch v.ShortTag() {
		case "!!null":
			value = ""
		case "!!str", "!!int", "!!float", "!!bool", "!!timestamp", "!!merge": // "<<" is text here
		default:
			return nil, &Error{Format: YAML, Line: v.Line, Column: v.Column, Reason: "value of " + k.Value + " has an unsupported tag"}
		}
		entries = append(entries, Entry{Key: k.Value, Value: value})
	}
	return entries, nil
}

var yamlErrLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlSyntaxError keeps the line and, when it quotes nothing, the reason of a yaml.v3 error.
func yamlSyntaxError(err error) *Error {
	e := &Error{Format: YAML, Reason: "invalid YAML"}
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		if !strings.ContainsAny(m[2], "\"'`") {
			e.Reason = "invalid YAML: " + m[2]
		}
	}
	return e
}
