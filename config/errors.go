package config

import (
	"strconv"
	"strings"
	"unicode"
)

// Error is a configuration problem. Error() renders it on one line as
//
//	cwbridge.toml:12: workspaces[1].key: duplicate workspace key "acme" (first at line 7)
//
// File is the name given to Parse (the path given to Load), Line is 1-based
// (0 when the problem has no line, e.g. a required key that is missing from
// a section the file does not have, or an environment variable), and Key is
// the full key path, with [i] indexes into arrays of tables. Msg never holds
// a secret's value.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	Err  error // underlying cause, if any (e.g. a *fs.PathError)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if b.Len() == 0 {
			b.WriteString("line ")
		} else {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		writeOneLine(&b, e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	writeOneLine(&b, e.Msg)
	return b.String()
}

// writeOneLine writes s with control characters escaped, so an error stays
// on one line whatever the file held.
func writeOneLine(b *strings.Builder, s string) {
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
}

func (e *Error) Unwrap() error { return e.Err }
