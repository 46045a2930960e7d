package config

import (
	"fmt"
	"time"
)

// Duration is a TOML duration written as Go writes one ("90s", "15m",
// "720h"), so a config file never carries a bare number of unknown unit.
type Duration struct{ time.Duration }

// UnmarshalText takes "15m", "1h30m" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like \"90s\", \"15m\" or \"720h\")", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back in the same form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// within reports, through v, a duration outside [lo, hi].
func (v *validator) within(key string, d Duration, lo, hi time.Duration) {
	if d.Duration < lo || d.Duration > hi {
		v.errorf(key, "must be between %s and %s, not %s", lo, hi, d.Duration)
	}
}
