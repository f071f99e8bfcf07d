package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
)

// redacted is what a set secret prints as.
const redacted = "[REDACTED]"

// Dump writes every setting as COFFER_NAME=value, one a line in table order. A set secret prints
// as [REDACTED], an unset one as nothing, and the database URL with only its password redacted.
func (c *Config) Dump(w io.Writer) {
	for _, o := range table() {
		fmt.Fprintf(w, "%s=%s\n", o.Env, o.display(c))
	}
}

// LogValue implements slog.LogValuer: a group of every setting, redacted like Dump. It has a value
// receiver so that logging a Config, not only a *Config, is safe too.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, o := range table() {
		attrs = append(attrs, slog.String(logKey(o), o.display(&c)))
	}
	return slog.GroupValue(attrs...)
}

// String implements fmt.Stringer, redacted like Dump, so that %v never prints a secret.
func (c Config) String() string {
	var b strings.Builder
	for i, o := range table() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q", o.Env, o.display(&c))
	}
	return b.String()
}

// GoString implements fmt.GoStringer, so that %#v never prints a secret.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// MarshalJSON implements json.Marshaler, redacted like Dump, keyed like LogValue.
func (c Config) MarshalJSON() ([]byte, error) {
	m := map[string]string{}
	for _, o := range table() {
		m[logKey(o)] = o.display(&c)
	}
	return json.Marshal(m)
}

// logKey is the option's name in logs and JSON: COFFER_DATA_DIR becomes data_dir.
func logKey(o Option) string { return strings.ToLower(strings.TrimPrefix(o.Env, "COFFER_")) }

// MarkdownTable writes the README's table of settings.
func MarkdownTable(w io.Writer) {
	fmt.Fprintln(w, "| Variable | Flag | Default | Description |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, o := range table() {
		desc := o.Description
		if o.Secret {
			desc += " (secret; also `" + o.Env + "_FILE` or a reference)"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", o.Env, code("--"+o.Flag, o.Flag != ""),
			code(o.Default, o.Default != ""), strings.ReplaceAll(desc, "|", `\|`))
	}
}

func code(s string, ok bool) string {
	if !ok {
		return ""
	}
	return "`" + s + "`"
}

// redactDatabaseURL returns a database URL with its password, in the user info or a query
// parameter, replaced by [REDACTED]; anything it cannot parse safely is wholly redacted.
func redactDatabaseURL(v string) string {
	if dialect, path := (&Config{DatabaseURL: v}).DatabaseDSN(); dialect == "sqlite" && !strings.Contains(path, "@") {
		return v
	} else if dialect != "postgres" {
		return redacted
	}
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" || (u.User == nil && strings.Contains(v, "@")) {
		return redacted
	}
	const mark = "REDACTEDPASSWORD"
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), mark)
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err != nil || strings.Contains(strings.ToLower(k), "password") {
			parts[i] = key + "=" + redacted
		}
	}
	u.RawQuery = strings.Join(parts, "&")
	return strings.Replace(u.String(), ":"+mark+"@", ":"+redacted+"@", 1)
}
