package widget

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pat, hay string
		ok       bool
	}{
		{"acme", "acme dental group", true},
		{"adg", "acme dental group", true},
		{"gda", "acme dental group", false},
		{"", "anything", true},
		{"x", "", false},
	} {
		if got := Match(c.pat, c.hay) > 0; got != c.ok {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pat, c.hay, got, c.ok)
		}
	}
	// A substring at a word start beats a scattered match.
	if Match("dent", "acme dental") <= Match("dent", "d-e-n-t corp") {
		t.Error("substring should outrank a scattered subsequence")
	}
	if Match("acme", "acme co") <= Match("acme", "the acme co") {
		t.Error("a prefix should outrank a later substring")
	}
}

func TestFitAndWindow(t *testing.T) {
	if got := Fit("abcdef", 4); got != "abc…" {
		t.Errorf("Fit = %q", got)
	}
	if got := Fit("ab", 4); got != "ab  " {
		t.Errorf("Fit pads: %q", got)
	}
	if got := Window(50, 0, 10, 100); got != 41 {
		t.Errorf("Window = %d", got)
	}
	if got := Window(3, 10, 10, 100); got != 3 {
		t.Errorf("Window up = %d", got)
	}
}
