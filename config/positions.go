package config

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// kpath is a key path in two spellings: idx with [i] indexes into arrays
// ("workspaces[1].key", what errors show and IsSet keys on) and plain without
// them ("workspaces.key", how toml.MetaData names keys).
type kpath struct{ idx, plain string }

func (p kpath) key(name string) kpath {
	q := toml.Key{name}.String() // quotes names that are not bare keys
	if p.idx == "" {
		return kpath{q, q}
	}
	return kpath{p.idx + "." + q, p.plain + "." + q}
}

func (p kpath) index(i int) kpath {
	return kpath{p.idx + "[" + strconv.Itoa(i) + "]", p.plain}
}

// parentPath drops the last segment of an indexed path: "a.b[2]" -> "a.b",
// "a.b" -> "a", "a" -> "". Quoted segments may hold '.' and '['.
func parentPath(p string) string {
	cut, inQuote := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '.' || c == '['):
			cut = i
		}
	}
	return p[:cut]
}

type posEntry struct {
	path kpath
	line int
}

// positions maps every key, table header and array element of a TOML text
// to the line it first appears on. BurntSushi/toml keeps key positions
// unexported (and only one per key name, not per array element), so they
// are found here from the text.
type positions struct {
	lines map[string]int
	order []posEntry
}

func (p *positions) add(k kpath, line int) {
	if _, ok := p.lines[k.idx]; ok {
		return
	}
	p.lines[k.idx] = line
	p.order = append(p.order, posEntry{k, line})
}

// lineOf gives the line of path, or of its nearest ancestor that has one
// (the table of a missing key), or 0.
func (p *positions) lineOf(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// findPlain finds the first key whose plain spelling is plain.
func (p *positions) findPlain(plain string) (string, int) {
	for _, e := range p.order {
		if e.path.plain == plain {
			return e.path.idx, e.line
		}
	}
	return plain, 0
}

// scanPositions is run only on text BurntSushi/toml has accepted, so it
// need not diagnose anything; on anything it does not follow it stops (it
// must never panic or loop).
func scanPositions(text string) *positions {
	sc := &scanner{s: text, line: 1, pos: &positions{lines: map[string]int{}}, aot: map[string]int{}}
	sc.run()
	return sc.pos
}

type scanner struct {
	s     string
	i     int
	line  int
	depth int
	pos   *positions
	aot   map[string]int // indexed path of an array of tables -> elements so far
}

const maxScanDepth = 1000

func (sc *scanner) eof() bool { return sc.i >= len(sc.s) }

func (sc *scanner) stop() { sc.i = len(sc.s) }

func (sc *scanner) run() {
	if strings.HasPrefix(sc.s, "\ufeff") {
		sc.i = len("\ufeff")
	}
	var cur kpath
	for {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		start, line := sc.i, sc.line
		if sc.s[sc.i] == '[' {
			cur = sc.header(line)
		} else {
			sc.keyValue(cur, line)
		}
		sc.skipSpace()
		if !sc.eof() && sc.s[sc.i] == '#' {
			sc.skipComment()
		}
		if sc.i == start {
			return
		}
	}
}

// header reads [a.b] or [[a.b]] and returns the table it opens.
func (sc *scanner) header(line int) kpath {
	aot := strings.HasPrefix(sc.s[sc.i:], "[[")
	if aot {
		sc.i += 2
	} else {
		sc.i++
	}
	segs := sc.keyParts()
	sc.skipSpace()
	closer := "]"
	if aot {
		closer = "]]"
	}
	if len(segs) == 0 || !strings.HasPrefix(sc.s[sc.i:], closer) {
		sc.stop()
		return kpath{}
	}
	sc.i += len(closer)
	var p kpath
	for k, seg := range segs {
		p = p.key(seg)
		if aot && k == len(segs)-1 {
			n := sc.aot[p.idx]
			sc.aot[p.idx] = n + 1
			sc.pos.add(p, line)
			p = p.index(n)
		} else if n, ok := sc.aot[p.idx]; ok && n > 0 {
			p = p.index(n - 1)
		}
		sc.pos.add(p, line)
	}
	return p
}

func (sc *scanner) keyValue(base kpath, line int) {
	segs := sc.keyParts()
	sc.skipSpace()
	if len(segs) == 0 || sc.eof() || sc.s[sc.i] != '=' {
		sc.stop()
		return
	}
	sc.i++
	p := base
	for _, seg := range segs {
		p = p.key(seg)
		sc.pos.add(p, line)
	}
	sc.value(p)
}

func (sc *scanner) value(p kpath) {
	sc.skipSpace()
	if sc.eof() {
		return
	}
	switch sc.s[sc.i] {
	case '"', '\'':
		sc.skipString()
	case '[':
		sc.array(p)
	case '{':
		sc.inlineTable(p)
	default:
		for !sc.eof() && !strings.ContainsRune(",]}#\r\n", rune(sc.s[sc.i])) {
			sc.i++
		}
	}
}

func (sc *scanner) array(p kpath) {
	if sc.depth++; sc.depth > maxScanDepth {
		sc.stop()
		return
	}
	defer func() { sc.depth-- }()
	sc.i++ // [
	for n := 0; ; n++ {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		if sc.s[sc.i] == ']' {
			sc.i++
			return
		}
		start := sc.i
		e := p.index(n)
		sc.pos.add(e, sc.line)
		sc.value(e)
		sc.skipBlank()
		if !sc.eof() && sc.s[sc.i] == ',' {
			sc.i++
		}
		if sc.i == start {
			sc.stop()
			return
		}
	}
}

func (sc *scanner) inlineTable(p kpath) {
	if sc.depth++; sc.depth > maxScanDepth {
		sc.stop()
		return
	}
	defer func() { sc.depth-- }()
	sc.i++ // {
	for {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		if sc.s[sc.i] == '}' {
			sc.i++
			return
		}
		start := sc.i
		sc.keyValue(p, sc.line)
		sc.skipBlank()
		if !sc.eof() && sc.s[sc.i] == ',' {
			sc.i++
		}
		if sc.i == start {
			sc.stop()
			return
		}
	}
}

// keyParts reads a possibly dotted key (bare, "basic" or 'literal' parts).
func (sc *scanner) keyParts() []string {
	var segs []string
	for {
		sc.skipSpace()
		if sc.eof() {
			return segs
		}
		switch sc.s[sc.i] {
		case '"':
			v, ok := sc.basicKey()
			if !ok {
				return nil
			}
			segs = append(segs, v)
		case '\'':
			end := strings.IndexAny(sc.s[sc.i+1:], "'\n")
			if end < 0 || sc.s[sc.i+1+end] != '\'' {
				return nil
			}
			segs = append(segs, sc.s[sc.i+1:sc.i+1+end])
			sc.i += end + 2
		default:
			j := sc.i
			for j < len(sc.s) && !strings.ContainsRune(" \t\r\n.=[]\"'#,{}", rune(sc.s[j])) {
				j++
			}
			if j == sc.i {
				return segs
			}
			segs = append(segs, sc.s[sc.i:j])
			sc.i = j
		}
		sc.skipSpace()
		if sc.eof() || sc.s[sc.i] != '.' {
			return segs
		}
		sc.i++
	}
}

// basicKey reads a "quoted" key and decodes its escapes.
func (sc *scanner) basicKey() (string, bool) {
	var b strings.Builder
	sc.i++ // "
	for !sc.eof() {
		c := sc.s[sc.i]
		switch c {
		case '\n':
			return "", false
		case '"':
			sc.i++
			return b.String(), true
		case '\\':
			sc.i++
			if sc.eof() {
				return "", false
			}
			e := sc.s[sc.i]
			sc.i++
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case 'e':
				b.WriteByte(0x1b)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if sc.i+n > len(sc.s) {
					return "", false
				}
				r, err := strconv.ParseUint(sc.s[sc.i:sc.i+n], 16, 32)
				if err != nil {
					return "", false
				}
				b.WriteRune(rune(r))
				sc.i += n
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			sc.i++
		}
	}
	return "", false
}

func (sc *scanner) skipString() {
	q := sc.s[sc.i]
	delim := strings.Repeat(string(q), 3)
	if strings.HasPrefix(sc.s[sc.i:], delim) {
		sc.i += 3
		for !sc.eof() {
			c := sc.s[sc.i]
			switch {
			case c == '\n':
				sc.line++
				sc.i++
			case q == '"' && c == '\\':
				if sc.i+1 < len(sc.s) && sc.s[sc.i+1] == '\n' {
					sc.line++
				}
				sc.i += 2
			case strings.HasPrefix(sc.s[sc.i:], delim):
				sc.i += 3
				// Up to two more quotes belong to the content.
				for k := 0; k < 2 && !sc.eof() && sc.s[sc.i] == q; k++ {
					sc.i++
				}
				return
			default:
				sc.i++
			}
		}
		return
	}
	sc.i++
	for !sc.eof() {
		c := sc.s[sc.i]
		switch {
		case c == '\n':
			return
		case q == '"' && c == '\\':
			if sc.i+1 < len(sc.s) && sc.s[sc.i+1] == '\n' {
				return
			}
			sc.i += 2
		case c == q:
			sc.i++
			return
		default:
			sc.i++
		}
	}
}

func (sc *scanner) skipSpace() {
	for !sc.eof() && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t' || sc.s[sc.i] == '\r') {
		sc.i++
	}
}

func (sc *scanner) skipComment() {
	for !sc.eof() && sc.s[sc.i] != '\n' {
		sc.i++
	}
}

// skipBlank skips white space, newlines and comments.
func (sc *scanner) skipBlank() {
	for !sc.eof() {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r':
			sc.i++
		case '\n':
			sc.line++
			sc.i++
		case '#':
			sc.skipComment()
		default:
			return
		}
	}
}
