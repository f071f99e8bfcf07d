package envfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// JSONDetail holds the fields other than key and value that Infisical's JSON export prints for
// every secret. One detail applies to all entries of an export (one project, environment and
// folder).
type JSONDetail struct {
	Workspace  string // project id, printed as "workspace"
	Type       string // "shared" or "personal"; empty means "shared"
	SecretPath string // folder of the secrets, printed as "secretPath"; empty means "/"
}

// jsonSecret has the fields, names and order of Infisical CLI v0.43.x
// packages/models/cli.go SingleEnvironmentVariable:
//
//	Key                   string `json:"key"`
//	WorkspaceId           string `json:"workspace"`
//	Value                 string `json:"value"`
//	Type                  string `json:"type"`
//	ID                    string `json:"_id"`
//	SecretPath            string `json:"secretPath"`
//	Tags                  []Tag  `json:"tags"`
//	Comment               string `json:"comment"`
//	Etag                  string `json:"Etag"`
//	SkipMultilineEncoding bool   `json:"skipMultilineEncoding"`
//
// `infisical export` leaves _id, comment and Etag empty (the raw-secrets list it reads does not
// fill them); coffer has no tags, so tags is always [].
type jsonSecret struct {
	Key                   string     `json:"key"`
	Workspace             string     `json:"workspace"`
	Value                 string     `json:"value"`
	Type                  string     `json:"type"`
	ID                    string     `json:"_id"`
	SecretPath            string     `json:"secretPath"`
	Tags                  []struct{} `json:"tags"`
	Comment               string     `json:"comment"`
	Etag                  string     `json:"Etag"`
	SkipMultilineEncoding bool       `json:"skipMultilineEncoding"`
}

// WriteJSONDetailed writes entries as Infisical's JSON export with the given detail. It mirrors
// Infisical CLI v0.43.x packages/cmd/export.go, which prints json.Marshal(envs) with fmt.Print:
// compact, HTML characters escaped (\u003c), no trailing newline. Write(w, JSON, entries) is
// WriteJSONDetailed(w, entries, JSONDetail{}).
func WriteJSONDetailed(w io.Writer, entries []Entry, d JSONDetail) error {
	if err := checkEntries(entries, true); err != nil {
		return err
	}
	if d.Type == "" {
		d.Type = "shared"
	}
	if d.SecretPath == "" {
		d.SecretPath = "/"
	}
	secrets := make([]jsonSecret, len(entries))
	for i, e := range entries {
		secrets[i] = jsonSecret{
			Key: e.Key, Workspace: d.Workspace, Value: e.Value, Type: d.Type,
			SecretPath: d.SecretPath, Tags: []struct{}{},
		}
	}
	out, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("envfile: json: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// parseJSON accepts Infisical's array of {"key": …, "value": …} objects (other fields are
// ignored) or a plain {"KEY": "value"} object. Values may be strings, numbers or booleans
// (numbers keep their text); null, arrays and objects are errors.
func parseJSON(src string) ([]Entry, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	fail := func(err error) error { return jsonError(src, dec, err) }
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(err)
	}
	var entries []Entry
	switch tok {
	case json.Delim('['):
		for dec.More() {
			at := skipSpace(src, int(dec.InputOffset()))
			var obj map[string]json.RawMessage
			if err := dec.Decode(&obj); err != nil {
				var typeErr *json.UnmarshalTypeError
				if errors.As(err, &typeErr) {
					return nil, jsonErrorAt(src, at, "each secret must be a JSON object")
				}
				return nil, fail(err)
			}
			e, reason := secretFromObject(obj)
			if reason != "" {
				return nil, jsonErrorAt(src, at, reason)
			}
			entries = append(entries, e)
		}
	case json.Delim('{'):
		for dec.More() {
			at := skipSpace(src, int(dec.InputOffset()))
			tok, err := dec.Token()
			if err != nil {
				return nil, fail(err)
			}
			key := tok.(string) // object keys are always strings
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fail(err)
			}
			if !validKey(key) {
				return nil, jsonErrorAt(src, at, errInvalidKeyReason)
			}
			v, reason := jsonScalar(raw)
			if reason != "" {
				return nil, jsonErrorAt(src, at, "value of "+key+" "+reason)
			}
			entries = append(entries, Entry{Key: key, Value: v})
		}
	default:
		return nil, jsonErrorAt(src, 0, "expected an array of secrets or an object of KEY: value")
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return nil, fail(err)
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, jsonErrorAt(src, skipSpace(src, end), "unexpected data after the JSON value")
	}
	return entries, nil
}

// secretFromObject takes key and value out of one element of Infisical's array.
func secretFromObject(obj map[string]json.RawMessage) (Entry, string) {
	rawKey, ok := obj["key"]
	if !ok {
		return Entry{}, `secret has no "key"`
	}
	var key string
	if err := json.Unmarshal(rawKey, &key); err != nil {
		return Entry{}, `"key" is not a string`
	}
	if !validKey(key) {
		return Entry{}, errInvalidKeyReason
	}
	rawValue, ok := obj["value"]
	if !ok {
		return Entry{}, `secret ` + key + ` has no "value"`
	}
	v, reason := jsonScalar(rawValue)
	if reason != "" {
		return Entry{}, "value of " + key + " " + reason
	}
	return Entry{Key: key, Value: v}, ""
}

// jsonScalar turns a JSON string, number or boolean into its text.
func jsonScalar(raw json.RawMessage) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "is not a valid string"
		}
		return s, ""
	}
	switch s := string(raw); {
	case s == "true" || s == "false":
		return s, ""
	case s == "null" || s == "" || s[0] == '[' || s[0] == '{':
		return "", "is not a string, number or boolean"
	default:
		return s, "" // a number, already validated by the decoder
	}
}

// jsonError turns a decoder error into an *Error without the decoder's text, which can quote
// the input.
func jsonError(src string, dec *json.Decoder, err error) *Error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return jsonErrorAt(src, int(syntax.Offset)-1, "invalid JSON syntax")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return jsonErrorAt(src, len(src), "unexpected end of JSON")
	default:
		return jsonErrorAt(src, int(dec.InputOffset()), "invalid JSON")
	}
}

func jsonErrorAt(src string, off int, reason string) *Error {
	if off < 0 {
		off = 0
	}
	return errorAt(JSON, src, off, reason)
}

// skipSpace moves off past JSON whitespace and one separating comma.
func skipSpace(src string, off int) int {
	for off < len(src) && strings.IndexByte(" \t\r\n,:", src[off]) >= 0 {
		off++
	}
	return off
}
