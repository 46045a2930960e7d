package cwclient_test

import (
	"testing"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
)

// FuzzConditionsRoundTrip sends arbitrary strings through the builder and
// the simulator's parser: whatever the text, a built condition must parse
// and must match exactly the record holding that text.
func FuzzConditionsRoundTrip(f *testing.F) {
	for _, s := range []string{"", `O"Brien & Sons+`, `back\slash\`, `50% [off] _now_ *`, `a" OR name != "`,
		`) OR (id > 0`, "tab\tnew\nline", "Müller & Söhne", `\"`, `[[]`, "'; drop table --"} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		if !utf8.ValidString(s) || !utf8.ValidString(other) {
			t.Skip("JSON cannot carry invalid UTF-8, so ConnectWise never sees it")
		}
		rec := map[string]any{"id": 7, "name": s, "identifier": other}
		longer := map[string]any{"id": 8, "name": s + "x", "identifier": other}
		check := func(c cwclient.Cond, r map[string]any, want bool) {
			t.Helper()
			if c.Err() != nil {
				t.Fatalf("builder error for %q: %v", s, c.Err())
			}
			p, err := cwsim.ParseConditions(c.String())
			if err != nil {
				t.Fatalf("simulator cannot parse %q (from %q): %v", c, s, err)
			}
			got, err := p.Match(r)
			if err != nil {
				t.Fatalf("match %q: %v", c, err)
			}
			if got != want {
				t.Fatalf("%q on %q: got %v, want %v", c, r["name"], got, want)
			}
		}
		check(cwclient.Eq("name", s), rec, true)
		check(cwclient.Eq("name", s), longer, false)
		check(cwclient.Ne("name", s), longer, true)
		check(cwclient.Like("name", cwclient.LikeEscape(s)), rec, true)
		check(cwclient.Like("name", cwclient.LikeEscape(s)), longer, false)
		check(cwclient.Like("name", cwclient.LikeEscape(s)+"%"), longer, true)
		check(cwclient.Contains("name", s), longer, true)
		check(cwclient.In("name", other, s), rec, true)
		check(cwclient.And(cwclient.Eq("name", s), cwclient.Eq("identifier", other)), rec, true)
		check(cwclient.And(cwclient.Eq("name", s), cwclient.Eq("id", 8)), rec, false)
		check(cwclient.Or(cwclient.Eq("name", s+"x"), cwclient.Eq("id", 7)), rec, true)
	})
}
