package textsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text\nline two\tx", "plain text\nline two\tx"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"\x1b[1;38;5;196mbold\x1b[m", "bold"},
		{"\x1b]0;pwned title\x07after", "after"},
		{"\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"a\x1b[2J\x1b[Hb", "ab"},
		{"\u009b31mC1 csi", "C1 csi"},
		{"\x9b31m raw byte", "\uFFFD31m raw byte"},
		{"over\rwrite", "over\nwrite"},
		{"crlf\r\nnext", "crlf\nnext"},
		{"bell\x07 nul\x00 del\x7f", "bell\uFFFD nul\uFFFD del\uFFFD"},
		{"user \u202Egnp.exe", "user \uFFFDgnp.exe"},
		{"iso \u2066x\u2069", "iso \uFFFDx\uFFFD"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"trailing esc \x1b", "trailing esc "},
		{"ünïcödé ok ✓", "ünïcödé ok ✓"},
	} {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Block User: done\n\nuser blocked\n  at 10:00\n", "Block User: done ⏎ user blocked ⏎ at 10:00"},
		{"tab\tseparated", "tab separated"},
		{"\x1b[31mred\x1b[0m\nline", "red ⏎ line"},
		{"one", "one"},
	} {
		if got := OneLine(c.in); got != c.want {
			t.Errorf("OneLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Malware on PC-7", "Malware on PC-7"},
		{"Malware\non\tPC-7", "Malware on PC-7"},
		{"  two\r\n\r\nlines  ", "two lines"},
		{"red \x1b[31mtext\x1b[0m", "red text"},
		{"invoice\u202Efdp.exe", "invoice\uFFFDfdp.exe"},
		{"a  b", "a b"},
		{"", ""},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"\x1b[31mx", "\x1b]0;t\x07", "a\u202eb", "\x9b1m", "\r\n", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if r != '\n' && r != '\t' && isControl(r) {
				t.Fatalf("control %U left in %q (from %q)", r, out, s)
			}
		}
		if Clean(out) != out {
			t.Fatalf("not idempotent: %q", s)
		}
		if line := OneLine(s); strings.ContainsAny(line, "\n\r\t") {
			t.Fatalf("OneLine left a break: %q", line)
		}
		if line := Line(s); Line(line) != line || strings.Contains(line, "  ") || strings.ContainsFunc(line, func(r rune) bool {
			return r != ' ' && unicode.IsSpace(r) || isControl(r)
		}) {
			t.Fatalf("Line(%q) = %q", s, line)
		}
	})
}
