package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// BindFlags registers on fs a flag for every option that has one. A secret setting gets only
// --NAME-file, taking a path: a value on a command line leaks through ps.
func BindFlags(fs *pflag.FlagSet) {
	for _, o := range table() {
		if o.Flag == "" {
			continue
		}
		v := &flagValue{kind: o.kind}
		usage := o.Description
		if o.Secret {
			usage = "File holding " + o.Env + ". " + usage
		} else {
			v.value, v.parse = o.Default, o.parse
		}
		f := fs.VarPF(v, o.Flag, "", usage)
		if o.kind == "bool" {
			f.NoOptDefVal = "true"
		}
	}
}

// Load returns the configuration from defaults, then the environment read through lookupEnv
// (os.LookupEnv in the server; nil means an empty environment), then the flags of fs that were
// set explicitly (fs may be nil). An empty variable counts as unset. COFFER_X_FILE names a file
// whose content, without trailing white space, is the value of COFFER_X. A secret setting may
// be a reference (ssm:, secretsmanager:, file:; see Reference), which Resolve replaces by its
// value. Load reports every problem at once; no error quotes a secret. Call Resolve, then
// Validate next.
func Load(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	c := &Config{}
	var errs []error
	for _, o := range table() {
		if err := loadOption(c, o, fs, lookupEnv); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// loadOption sets o in c from its default, then the environment, then an explicitly set flag.
func loadOption(c *Config, o Option, fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	if err := o.parse(c, o.Default); err != nil {
		return fmt.Errorf("%s: bad default %q: %w", o.Env, o.Default, err)
	}
	v, from, err := envValue(o, lookupEnv)
	if err != nil {
		return err
	}
	if fs != nil && o.Flag != "" {
		if f := fs.Lookup(o.Flag); f != nil && f.Changed {
			if v, from, err = flagValueOf(o, f.Value.String()); err != nil {
				return err
			}
		}
	}
	if from == "" {
		return nil
	}
	if o.Secret {
		ref, isRef, err := ParseReference(v)
		if err != nil && from != o.Env {
			return fmt.Errorf("%s (from %s): %w", o.Env, from, err)
		} else if err != nil {
			return fmt.Errorf("%s: %w", o.Env, err)
		}
		if isRef {
			c.recordReference(o, ref) // see refs.go: Resolve reads it
			return nil
		}
	}
	if err := o.parse(c, v); err != nil {
		if !o.Secret {
			err = fmt.Errorf("invalid value %q: %w", v, err)
		}
		if from != o.Env {
			return fmt.Errorf("%s (from %s): %w", o.Env, from, err)
		}
		return fmt.Errorf("%s: %w", o.Env, err)
	}
	return nil
}

// envValue returns the value of o in the environment and where it came from, "" when unset.
func envValue(o Option, lookupEnv func(string) (string, bool)) (value, from string, err error) {
	value, _ = lookupEnv(o.Env)
	if o.File {
		fileVar := o.Env + "_FILE"
		if path, _ := lookupEnv(fileVar); path != "" {
			if value != "" {
				return "", "", fmt.Errorf("%s and %s are both set: set only one", o.Env, fileVar)
			}
			value, err = readValueFile(fileVar, path)
			return value, fileVar, err
		}
	}
	if value == "" {
		return "", "", nil
	}
	return value, o.Env, nil
}

// flagValueOf returns the value given by an explicitly set flag: for a secret, the content of the
// file it names.
func flagValueOf(o Option, v string) (value, from string, err error) {
	from = "--" + o.Flag
	if !o.Secret {
		return v, from, nil
	}
	if v == "" {
		return "", from, fmt.Errorf("%s: empty file path", from)
	}
	value, err = readValueFile(from, v)
	return value, from, err
}

// readValueFile returns the content of the file at path without trailing white space; name is the
// variable or flag that named the file.
func readValueFile(name, path string) (string, error) {
	b, err := os.ReadFile(path)
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // the path is in the message already
	}
	if err != nil {
		return "", fmt.Errorf("%s: cannot read %s: %w", name, path, err)
	}
	v := strings.TrimRight(string(b), " \t\r\n")
	if v == "" {
		return "", fmt.Errorf("%s: file %s is empty", name, path)
	}
	return v, nil
}

// UnknownEnv returns, sorted, the names of COFFER_* variables in environ ("NAME=value" entries,
// as from os.Environ) that no option reads, so that the server can warn about typos. It ignores
// COFFER_TEST_* variables, which belong to the tests.
func UnknownEnv(environ []string) []string {
	known := map[string]bool{}
	for _, o := range table() {
		known[o.Env] = true
		if o.File {
			known[o.Env+"_FILE"] = true
		}
	}
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "COFFER_") && !strings.HasPrefix(name, "COFFER_TEST_") && !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	return slices.Compact(unknown)
}

// flagValue is the pflag.Value of every option's flag: it keeps the text, checked by parse when
// there is one, and Load parses it into the Config like an environment value.
type flagValue struct {
	value, kind string
	parse       func(*Config, string) error
}

func (v *flagValue) String() string { return v.value }

func (v *flagValue) Type() string { return v.kind }

func (v *flagValue) Set(s string) error {
	if v.parse != nil {
		if err := v.parse(&Config{}, s); err != nil {
			return err
		}
	}
	v.value = s
	return nil
}
