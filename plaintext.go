package coffer

import "log/slog"

// Redacted is what a Plaintext prints as.
const Redacted = "[REDACTED]"

// Plaintext holds a decrypted secret value or comment in memory. Printing it, logging it or
// marshalling it prints [REDACTED]; only Reveal gives the value, and only the API encoder and
// the CLI's injectors call it.
type Plaintext struct{ s string }

// NewPlaintext wraps a value.
func NewPlaintext(s string) Plaintext { return Plaintext{s: s} }

// Reveal returns the value itself.
func (p Plaintext) Reveal() string { return p.s }

// Len returns the length of the value in bytes.
func (p Plaintext) Len() int { return len(p.s) }

// String implements fmt.Stringer without revealing the value.
func (p Plaintext) String() string { return Redacted }

// GoString implements fmt.GoStringer without revealing the value.
func (p Plaintext) GoString() string { return Redacted }

// LogValue implements slog.LogValuer without revealing the value.
func (p Plaintext) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler without revealing the value.
func (p Plaintext) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler without revealing the value.
func (p Plaintext) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
