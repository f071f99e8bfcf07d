package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Kinds of Reference.
const (
	RefSSM            = "ssm"            // an SSM Parameter Store parameter, read decrypted
	RefSecretsManager = "secretsmanager" // a Secrets Manager secret's SecretString, or one key of it
	RefFile           = "file"           // a file's content
)

// Reference is a secret setting whose value is kept elsewhere: ssm:NAME, secretsmanager:ID,
// secretsmanager:ID#KEY or file:PATH. A reference names where the secret is, never the secret,
// so it may be printed.
type Reference struct {
	Kind string // RefSSM, RefSecretsManager or RefFile
	Name string // parameter name or ARN, secret name or ARN, or file path
	Key  string // for secretsmanager: the key of the JSON object SecretString holds; "" for all of it
}

// String returns the reference as it is written in a setting.
func (r Reference) String() string {
	s := r.Kind + ":" + r.Name
	if r.Key != "" {
		s += "#" + r.Key
	}
	return s
}

// ParseReference reports whether v, the value of a secret setting, is a reference, and returns
// it. A value with a reference prefix but nothing after it is an error. Its errors never quote v.
func ParseReference(v string) (ref Reference, ok bool, err error) {
	kind, rest, found := strings.Cut(v, ":")
	if !found || (kind != RefSSM && kind != RefSecretsManager && kind != RefFile) {
		return Reference{}, false, nil
	}
	ref = Reference{Kind: kind, Name: rest}
	if kind == RefSecretsManager {
		if name, key, hasKey := strings.Cut(rest, "#"); hasKey {
			if key == "" {
				return Reference{}, true, errors.New("secretsmanager: reference has an empty #key")
			}
			ref.Name, ref.Key = name, key
		}
	}
	if strings.TrimSpace(ref.Name) == "" {
		return Reference{}, true, fmt.Errorf("%s: reference names nothing after %q", kind, kind+":")
	}
	return ref, true, nil
}

// A Resolver returns the value an ssm: or secretsmanager: reference names (file: references
// Resolve reads itself). Its errors must never quote the value it read.
type Resolver interface {
	Resolve(ctx context.Context, ref Reference) (string, error)
}

// ResolverFunc is a Resolver that is a function.
type ResolverFunc func(ctx context.Context, ref Reference) (string, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, ref Reference) (string, error) { return f(ctx, ref) }

// References returns the references Load found among the secret settings, keyed by variable
// name; Resolve replaces them by their values.
func (c *Config) References() map[string]Reference {
	out := make(map[string]Reference, len(c.refs))
	for env, r := range c.refs {
		out[env] = r.Reference
	}
	return out
}

// NeedsResolver reports whether some reference is neither resolved yet nor a file: reference,
// so that Resolve needs a Resolver: only then does the server load the AWS SDK.
func (c *Config) NeedsResolver() bool {
	for _, r := range c.refs {
		if !r.resolved && r.Kind != RefFile {
			return true
		}
	}
	return false
}

// Resolve sets every secret setting given as a reference to the value it names: file:
// references are read here (trailing white space trimmed, like COFFER_*_FILE), the others
// through r, which may be nil when NeedsResolver is false. It runs once, after Load and before
// Validate, and reports every failure at once; each error names the setting and the reference,
// never the value. A resolved value is used as it is: it is never itself taken as a reference.
// Dump and the logs keep showing the reference, not the value.
func (c *Config) Resolve(ctx context.Context, r Resolver) error {
	var errs []error
	for _, o := range table() {
		ref, ok := c.refs[o.Env]
		if !ok || ref.resolved {
			continue
		}
		v, err := resolveRef(ctx, r, ref.Reference)
		if err == nil && v == "" {
			err = errors.New("the value is empty")
		}
		if err == nil {
			err = o.parse(c, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", o.Env, ref.Reference, err))
			continue
		}
		ref.resolved = true
		c.refs[o.Env] = ref
	}
	return errors.Join(errs...)
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

func resolveRef(ctx context.Context, r Resolver, ref Reference) (string, error) {
	if ref.Kind == RefFile {
		b, err := os.ReadFile(ref.Name)
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		if err != nil {
			return "", fmt.Errorf("cannot read the file: %w", err)
		}
		if bytes.HasPrefix(b, sqliteMagic) {
			return "", fmt.Errorf("the file is an SQLite database: file: reads a value from a file; give an SQLite database as sqlite:%s", ref.Name)
		}
		return strings.TrimRight(string(b), " \t\r\n"), nil
	}
	if r == nil {
		return "", errors.New("no resolver for this kind of reference")
	}
	v, err := r.Resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(v, " \t\r\n"), nil
}

// setting is a reference found by Load, and whether Resolve has replaced it by its value.
type setting struct {
	Reference
	resolved bool
}

// recordReference notes that o was given as ref; its field stays at its default until Resolve.
func (c *Config) recordReference(o Option, ref Reference) {
	if c.refs == nil {
		c.refs = map[string]setting{}
	}
	c.refs[o.Env] = setting{Reference: ref}
}

// checkResolved returns an error for o if it was given as a reference that Resolve has not
// replaced; Validate then skips o's own check, which would only report it unset.
func (c *Config) checkResolved(o Option) (unresolved bool, err error) {
	if ref, ok := c.refs[o.Env]; ok && !ref.resolved {
		return true, fmt.Errorf("%s: the reference %s was not resolved (the server resolves it at start)", o.Env, ref.Reference)
	}
	return false, nil
}
