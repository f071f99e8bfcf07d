package httpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/cofferhq/coffer"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is not set.
const DefaultMaxBodyBytes int64 = 4 << 20

// maxPooledBuffer keeps the pool from holding on to the occasional huge buffer.
const maxPooledBuffer = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		bufPool.Put(b)
	}
}

// WriteJSON writes v as JSON with the given status and Content-Type application/json;
// charset=utf-8. For a GET or HEAD answered 200 it sets a strong ETag (the quoted hex of the
// first 16 bytes of the SHA-256 of the body) and answers 304 with no body when If-None-Match
// matches it. A value that cannot be encoded is a programming error and gets a bare 500 body.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := encodeJSON(buf, v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}` + "\n")
	}
	etag := ""
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		etag = etagOf(buf.Bytes())
	}
	writeBody(w, r, status, buf.Bytes(), etag)
}

// Body is a JSON response body encoded once, with its ETag (a quoted digest of Data, as
// WriteJSON makes it), to be written many times (from a cache). Its bytes are shared: never
// modify them.
type Body struct {
	Data []byte
	ETag string
}

// MarshalJSON encodes v as WriteJSON would.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteBody writes b as WriteJSON writes a value: with its ETag on a 200 to a GET or HEAD, and
// 304 when If-None-Match matches it.
func WriteBody(w http.ResponseWriter, r *http.Request, status int, b *Body) {
	etag := ""
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		etag = b.ETag
	}
	writeBody(w, r, status, b.Data, etag)
}

func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // values go out as stored, as Infisical's JSON.stringify sends them
	return enc.Encode(v)
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// writeBody writes a JSON body; etag, when set, is sent and matched against If-None-Match.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte, etag string) {
	h := w.Header()
	if etag != "" {
		h["Etag"] = []string{etag}
		if etagMatch(r.Header.Values("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away; nothing to do
	}
}

var jsonContentType = []string{"application/json; charset=utf-8"}

// etagMatch reports whether an If-None-Match field (possibly repeated) lists etag, by the weak
// comparison of RFC 9110 section 8.8.3.2: W/ prefixes are ignored, "*" matches anything.
func etagMatch(fields []string, etag string) bool {
	for _, f := range fields {
		for {
			f = strings.TrimLeft(f, " \t,")
			if f == "" {
				break
			}
			if f[0] == '*' {
				return true
			}
			f = strings.TrimPrefix(f, "W/")
			if f == "" || f[0] != '"' {
				break // malformed: ignore the rest of this field
			}
			end := strings.IndexByte(f[1:], '"')
			if end < 0 {
				break
			}
			if f[:end+2] == etag {
				return true
			}
			f = f[end+2:]
		}
	}
	return false
}

type maxBodyKey struct{}

// withMaxBody returns ctx carrying the body limit DecodeJSON applies.
func withMaxBody(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, maxBodyKey{}, n)
}

func maxBody(ctx context.Context) int64 {
	if n, ok := ctx.Value(maxBodyKey{}).(int64); ok && n > 0 {
		return n
	}
	return DefaultMaxBodyBytes
}

// DecodeJSON decodes the request body, which must be a JSON object, into dst. The body is
// limited to Options.MaxBodyBytes (DefaultMaxBodyBytes outside the middleware). It returns
// ETOOLARGE for an oversized body, EVALIDATION for an empty body, a body that is not an object
// or a field of the wrong type (naming the field and the types), and EINVALID for malformed
// JSON or data after the object. Unknown fields are ignored. Messages never quote the body.
func DecodeJSON(r *http.Request, dst any) error {
	return decode(r, dst, false)
}

// DecodeOptionalJSON is DecodeJSON, except that an empty body leaves dst unchanged.
func DecodeOptionalJSON(r *http.Request, dst any) error {
	return decode(r, dst, true)
}

func decode(r *http.Request, dst any, optional bool) error {
	buf := getBuffer()
	defer putBuffer(buf)
	if r.Body != nil {
		limit := maxBody(r.Context())
		if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit)); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return coffer.Errorf(coffer.ETOOLARGE, "request body is larger than %d bytes", limit)
			}
			return fmt.Errorf("%w: %w", coffer.Errorf(coffer.EINVALID, "request body could not be read"), err)
		}
	}
	body := bytes.TrimSpace(buf.Bytes())
	if len(body) == 0 {
		if optional {
			return nil
		}
		return coffer.Errorf(coffer.EVALIDATION, "request body is required")
	}
	if body[0] != '{' {
		if json.Valid(body) {
			return coffer.Errorf(coffer.EVALIDATION, "request body must be a JSON object")
		}
		var v any
		return decodeError(json.Unmarshal(body, &v), len(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, len(body))
	}
	if off := dec.InputOffset(); off < int64(len(body)) {
		return coffer.Errorf(coffer.EINVALID, "malformed JSON: unexpected data after the object at byte offset %d", off)
	}
	return nil
}

// decodeError turns an encoding/json error into a domain error whose message names at most a
// field and types, never content of the body.
func decodeError(err error, n int) error {
	if err == nil {
		return coffer.Errorf(coffer.EINVALID, "malformed JSON")
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		off := e.Offset // bytes read, including an offending character
		if strings.HasPrefix(e.Error(), "invalid character") {
			off--
		}
		return coffer.Errorf(coffer.EINVALID, "malformed JSON: %s at byte offset %d", syntaxReason(e.Error()), max(off, 0))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return coffer.Errorf(coffer.EINVALID, "malformed JSON: unexpected end of input at byte offset %d", n)
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := e.Field
		if field == "" {
			field = "request body"
		}
		got, _, _ := strings.Cut(e.Value, " ") // "number -5" would echo the value
		return coffer.Errorf(coffer.EVALIDATION, "%s: expected %s, got %s", field, jsonType(e.Type), got)
	}
	if _, ok := errors.AsType[*coffer.Error](err); ok {
		return err // from a field's own UnmarshalJSON
	}
	if _, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
		return err // a programming error: a 500
	}
	return fmt.Errorf("%w: %w", coffer.Errorf(coffer.EVALIDATION, "request body has a field with an invalid value"), err)
}

// syntaxReason strips the offending character from a scanner message such as
// "invalid character 'x' looking for beginning of value".
func syntaxReason(msg string) string {
	const prefix = "invalid character "
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok || len(rest) < 2 || rest[0] != '\'' {
		if strings.Contains(msg, "'") {
			return "invalid syntax"
		}
		return msg
	}
	if i := strings.Index(rest[1:], "' "); i >= 0 {
		return "invalid character " + rest[i+3:]
	}
	return "invalid character"
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return t.String()
	}
}
