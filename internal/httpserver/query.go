package httpserver

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/cofferhq/coffer"
)

// Query reads query parameters with Infisical's semantics: an empty value means absent, and a
// parameter may be known under several names (includeImports / include_imports).
type Query struct {
	values url.Values
}

// NewQuery parses the query string of r once.
func NewQuery(r *http.Request) Query {
	return Query{values: r.URL.Query()}
}

// lookup returns the first non-empty value among names and the name it was found under.
func (q Query) lookup(names []string) (value, name string) {
	for _, n := range names {
		if v := q.values.Get(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

// String returns the first non-empty value among names, or "".
func (q Query) String(names ...string) string {
	v, _ := q.lookup(names)
	return v
}

// Bool returns the first non-empty value among names as a boolean, or def when there is none.
// Only "true" and "false" are accepted; anything else is EVALIDATION "<name>: must be true or
// false".
func (q Query) Bool(def bool, names ...string) (bool, error) {
	switch v, name := q.lookup(names); v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return def, coffer.Errorf(coffer.EVALIDATION, "%s: must be true or false", name)
	}
}

// Int returns the first non-empty value among names as an integer, or def when there is none;
// anything but a decimal integer is EVALIDATION "<name>: must be an integer".
func (q Query) Int(def int, names ...string) (int, error) {
	v, name := q.lookup(names)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def, coffer.Errorf(coffer.EVALIDATION, "%s: must be an integer", name)
	}
	return n, nil
}
