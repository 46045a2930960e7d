package cwsim

import "testing"

func FuzzParseConditions(f *testing.F) {
	for _, seed := range []string{
		`id = 1`, `name = "O\"Brien & Sons+"`, `summary not contains "x" AND (board/id in (1, 2) OR closedFlag = True)`,
		`name like "[[]Bracket]%"`, `_info/lastUpdated > [2026-01-02T03:04:05Z]`, `a = null`, `x != -1.5`,
		`((((a = 1))))`, `name like "[^a-c]_*%"`, `"`, `[`, `(`, `a in (`, `a = "\\"`, `a = "\q"`, `not`, `a not in (1,2)`,
	} {
		f.Add(seed)
	}
	c := newCollection("fuzz", "Fuzz", "fuzz", "", 1, false)
	c.learn("", copyMap(condRec))
	f.Fuzz(func(t *testing.T, s string) {
		cond, err := ParseConditions(s)
		if err != nil {
			if cond != nil {
				t.Fatalf("condition and error for %q", s)
			}
			return
		}
		cond.Match(condRec) //nolint:errcheck // must not panic
		cond.Match(nil)     //nolint:errcheck
		if b, err := cond.bind(c.schema); err == nil {
			b.Match(condRec) //nolint:errcheck
		}
	})
}
