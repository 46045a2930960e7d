package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Mask is what every printing path shows instead of a set secret. It is the
// same fixed string storage.Mask uses, so screens and logs look alike, and it
// shows no part of the value.
const Mask = "••••••"

// Secret is a configured credential (connectwise.private_key, intake.token).
// Every formatting, logging and encoding path prints Mask (or "" when the
// secret is unset, so set and unset can be told apart); only Reveal returns
// the value. JSON and TOML encodings are masked too: to persist the value,
// store Reveal() explicitly.
type Secret string

// Reveal returns the value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is unset.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) masked() string {
	if s == "" {
		return ""
	}
	return Mask
}

// String masks the value.
func (s Secret) String() string { return s.masked() }

// GoString masks the value for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.masked()) }

// Format masks the value for every verb (%s %v %+v %#v %q %x ...); without it
// fmt would print %x of the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.masked())
	default:
		_, _ = io.WriteString(f, s.masked())
	}
}

// LogValue masks the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.masked()) }

// MarshalText masks the value (TOML encoders, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

// MarshalJSON masks the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.masked()) }
