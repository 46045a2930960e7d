// Package textsafe makes text from outside (ConnectWise notes, action
// output) harmless to show on a terminal: no escape sequences that recolour,
// move the cursor or retitle the window, no bidi overrides that reorder what
// the reader sees, no other control characters. It is the one place this is
// decided; the engine cleans such text where it stores it and the screens
// where they show it.
package textsafe

import (
	"strings"
	"unicode/utf8"
)

// Replacement stands in for a control character that is not simply dropped.
const Replacement = '\uFFFD'

// Clean keeps line breaks and tabs, drops ANSI/VT escape sequences (CSI,
// OSC, DCS and two-byte ones) whole, turns a lone carriage return into a
// line break, and replaces every other C0/C1 control character, DEL, bidi
// control and invalid UTF-8 byte with U+FFFD.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(Replacement)
		case r == 0x1b: // ESC
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI, same as ESC [
			i += size + csiLen(s[i+size:])
			continue
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				break // the \n that follows is kept
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case isControl(r):
			b.WriteRune(Replacement)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// OneLine is Clean for a single table cell or log line: line breaks and
// tabs become spaces, runs of them one " ⏎ " or " " mark.
func OneLine(s string) string {
	if isPlainLine(s) { // the common case, on every table cell of every frame
		return s
	}
	s = strings.TrimSpace(Clean(s))
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(strings.ReplaceAll(line, "\t", " "))
		if line == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteString(" ⏎ ")
		}
		b.WriteString(line)
	}
	return b.String()
}

// Line is Clean for a one-line field taken in (an incident's title): line
// breaks, tabs and every other run of white space become one space, with
// none at either end. Unlike OneLine it marks nothing: what was a line
// break in a title was untidiness, not meaning. Line(Line(s)) == Line(s).
func Line(s string) string {
	if isPlainLine(s) && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(Clean(s)), " ")
}

// isPlainLine: printable ASCII, no space at either end.
func isPlainLine(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return false // decoded by Clean: C1 controls and bidi marks are not ASCII
		}
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// isControl reports the characters replaced: C0 (but \n, \t), DEL, C1,
// and the bidi controls (embeddings, overrides, isolates, marks) that make
// a terminal show text in another order than it is.
func isControl(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// escapeLen is the length of the escape sequence at the start of s (s[0]
// is ESC): CSI up to its final byte, OSC/DCS/SOS/PM/APC up to BEL or ST,
// otherwise ESC and the byte after it.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// csiLen is the length of a CSI sequence's parameters and final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x40 && c <= 0x7e {
			return i + 1
		} else if c < 0x20 || c > 0x3f && c < 0x40 {
			return i // malformed: stop before the stray byte
		}
	}
	return len(s)
}
