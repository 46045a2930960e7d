// Package secret holds credentials (the ConnectWise private key, the intake
// token) so that no printing, logging or encoding path can show them.
package secret

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Mask is what every printing path shows instead of a secret's value. It is
// fixed-length and shows no part of the value (no last-4), so nothing about
// the secret leaks through logs, the TUI or the audit log.
const Mask = "••••••"

// Secret holds the ConnectWise private key and the intake token. The value
// sits in an unexported field so it is not reachable by a plain conversion or
// by reflection-based encoders; every formatting and encoding path prints
// Mask. Only Reveal gives the value, for the code that sends it.
//
// The zero Secret is "not set" and prints as the empty string, so screens can
// tell set from unset without learning anything else.
type Secret struct{ v string }

// New wraps a value.
func New(v string) Secret { return Secret{v: v} }

// Reveal returns the value. Call it only where the value is used (the HTTP
// Authorization header, the intake token check).
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is unset.
func (s Secret) IsZero() bool { return s.v == "" }

// Equal compares in constant time, for token checks.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.v), []byte(o.v)) == 1
}

func (s Secret) masked() string {
	if s.v == "" {
		return ""
	}
	return Mask
}

// String masks the value.
func (s Secret) String() string { return s.masked() }

// GoString masks the value for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("secret.Secret(%q)", s.masked()) }

// Format masks the value for every verb (%s %v %q %x %d ...); fmt would
// otherwise print %x of the underlying string.
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

// MarshalJSON is for display: it writes Mask. Whoever persists a secret
// stores Reveal() in its own record type, never through this method.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.masked()) }

// MarshalText masks too, for TOML/YAML encoders and map keys.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

var errMaskedSecret = errors.New("refusing to take the display mask " + Mask + " as a secret value")

// UnmarshalText takes a real value (e.g. from the TOML config). The mask
// itself is refused so a displayed form round-tripped back cannot overwrite
// the real key.
func (s *Secret) UnmarshalText(b []byte) error {
	if string(b) == Mask {
		return errMaskedSecret
	}
	s.v = string(b)
	return nil
}

// UnmarshalJSON takes a JSON string; the mask is refused as in UnmarshalText.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return s.UnmarshalText([]byte(v))
}
