package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzParse: any input gives a config or an error, never a panic; errors
// are one-line *Error values naming the file and a line inside it; configs
// hold valid values and print back to TOML that parses to the same config;
// every key the TOML parser sees has a line.
func FuzzParse(f *testing.F) {
	f.Add(readExample(f))
	for _, tc := range errCases {
		f.Add([]byte(tc.text))
	}
	f.Add([]byte("a = [[{b = 1}], {c = [{d = 2}]}]\n[x.y]\n[[x.z]]\n[[x.z]]\nq = 1\n"))
	f.Add([]byte("\"k\\u00e9\" = 1\n'lit.key' = { \"a b\" = [1, 2] }\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.toml"
		c, err := parse(name, data, envMap(map[string]string{EnvIntakeToken: "tok"}))
		lines := strings.Count(string(data), "\n") + 1

		// Positions agree with the parser on which keys exist.
		var tree map[string]any
		if md, derr := toml.Decode(string(data), &tree); derr == nil {
			pos := scanPositions(string(data))
			for _, k := range md.Keys() {
				if _, l := pos.findPlain(k.String()); l < 1 || l > lines {
					t.Fatalf("key %s: line %d (of %d)", k, l, lines)
				}
			}
		}

		if (c == nil) == (err == nil) {
			t.Fatalf("config %v and error %v", c, err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.File != name || e.Line < 0 || e.Line > lines || e.Msg == "" {
				t.Fatalf("bad error %+v (%d lines)", e, lines)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}

		if c.Engine.Workers < MinWorkers || c.Engine.Workers > MaxWorkers ||
			c.Intake.MaxBodyBytes < MinMaxBodyBytes || c.Intake.MaxBodyBytes > MaxMaxBodyBytes ||
			(c.Engine.Reopen != ReopenNew && c.Engine.Reopen != ReopenReopen) {
			t.Fatalf("invalid values accepted: %+v", c)
		}
		for _, r := range c.Routes {
			if ValidAlertType(r.AlertType) != nil {
				t.Fatalf("bad alert type accepted: %q", r.AlertType)
			}
		}
		if c.ConnectWise.Site != "" && c.ConnectWise.BaseURL() == "" {
			t.Fatalf("site %q accepted but has no BaseURL", c.ConnectWise.Site)
		}

		// Round trip through Redacted, secrets left out.
		c.ConnectWise.PrivateKey, c.Intake.Token, c.Intake.Listen = Secret{}, Secret{}, ""
		back, err := Parse(name, []byte(c.Redacted()))
		if err != nil {
			t.Fatalf("Redacted does not parse: %v\n%s", err, c.Redacted())
		}
		back.set, c.set = nil, nil
		if a, b := fmt.Sprintf("%#v", back), fmt.Sprintf("%#v", c); a != b {
			t.Fatalf("round trip differs:\n%s\n%s", a, b)
		}
	})
}
