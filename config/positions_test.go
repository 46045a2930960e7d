package config

import (
	"strings"
	"testing"
)

func TestScanPositions(t *testing.T) {
	text := "\ufeff# comment [[not]] a = 1\r\n" + // 1
		"title = \"\"\"\n" + // 2
		"[[fake]]\n" + // 3
		"x = 'y' \\\" \"\"\"\"\"\n" + // 4 (an escaped quote; content ends with two quotes)
		"lit = '''\n" + // 5
		"[also.fake]'''\n" + // 6
		"arr = [ # c ]\n" + // 7
		"  1, \"]\", '[', # ,\n" + // 8
		"  [2, [3]],\n" + // 9
		"]\n" + // 10
		"tbl = { a = 1, b.c = \"}\",\n" + // 11
		"  d = { e = [ { f = 1 } ] } }\n" + // 12
		"[srv.\"quo.ted\" . 'lit']\n" + // 13
		"\"k\\u0041\\\"\" = 1 # \"\n" + // 14
		"[[w]]\n" + // 15
		"key = 'a'\n" + // 16
		"[[w.sub]]\n" + // 17
		"n = 1\n" + // 18
		"[[w]]\n" + // 19
		"[w.inner]\n" + // 20
		"key = 'b'\n" + // 21
		"[[w.sub]]\n" + // 22
		"[[w.sub]]\n" + // 23
		"n = 2\n" // 24
	pos := scanPositions(text)
	for path, line := range map[string]int{
		"title":                    2,
		"lit":                      5,
		"arr":                      7,
		"arr[0]":                   8,
		"arr[1]":                   8,
		"arr[2]":                   8,
		"arr[3]":                   9,
		"arr[3][1][0]":             9,
		"tbl.a":                    11,
		"tbl.b.c":                  11,
		"tbl.d.e[0].f":             12,
		`srv."quo.ted".lit`:        13,
		`srv."quo.ted".lit."kA\""`: 14,
		"w":                        15,
		"w[0]":                     15,
		"w[0].key":                 16,
		"w[0].sub[0].n":            18,
		"w[1]":                     19,
		"w[1].inner.key":           21,
		"w[1].sub[0]":              22,
		"w[1].sub[1].n":            24,
		"w[1].sub[1].missing":      23, // falls back to its table
		"nothing.here":             0,
	} {
		if got := pos.lineOf(path); got != line {
			t.Errorf("lineOf(%s) = %d, want %d", path, got, line)
		}
	}
	for _, bogus := range []string{"fake", "also", "also.fake", "x", "not", "a"} {
		if _, ok := pos.lines[bogus]; ok {
			t.Errorf("%q (inside a string or comment) taken as a key", bogus)
		}
	}
	if p, l := pos.findPlain("w.sub.n"); p != "w[0].sub[0].n" || l != 18 {
		t.Errorf("findPlain = %s %d", p, l)
	}
	// The text is valid TOML, as scanPositions assumes.
	var m map[string]any
	if err := safeDecode(text, &m, nil); err != nil {
		t.Fatal(err)
	}
}

func TestParentPath(t *testing.T) {
	for in, want := range map[string]string{
		"a":          "",
		"a.b":        "a",
		"a[3]":       "a",
		"a[3].b":     "a[3]",
		`a."b.c[1]"`: "a",
		`a."x\".y"`:  "a",
		`"a.b".c`:    `"a.b"`,
		"":           "",
	} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The scanner never panics or loops, even on text the parser would refuse.
// FuzzScanPositions: on any text, the scanner stops without panicking and
// every line it reports lies inside the text (it runs only on text the
// TOML parser accepted, but must never crash or invent a line on the rest).
func FuzzScanPositions(f *testing.F) {
	for _, s := range []string{"", "[", "[[", "a", "a =", "a = [", "a = {", "\"", "'", `"\`, `a = """`, `a = '''`,
		"[a", "[[a]", "= 1", "a = [1 2]", "a = {b}", "a = \"\\", `"\u12"= 1`, strings.Repeat("[", 5000),
		"a = " + strings.Repeat("[", 5000), "a = " + strings.Repeat("{b=", 3000), "[t]\na = 1\n[[u]]\nb = 2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Count(text, "\n") + 1
		for _, e := range scanPositions(text).order {
			if e.line < 1 || e.line > lines {
				t.Fatalf("position line %d outside the text's %d lines: %+v", e.line, lines, e)
			}
		}
	})
}
