package cwsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The ConnectWise conditions language:
//
//	expr    := and { OR and }
//	and     := primary { AND primary }
//	primary := "(" expr ")" | path op value
//	         | path [not] (contains|like) value
//	         | path [not] in "(" value { "," value } ")"
//	value   := "string" | number | True | False | null | [datetime]
//
// Keywords are case-insensitive; AND binds tighter than OR. Strings are
// double-quoted and only \" and \\ are escapes.

// Condition is a parsed conditions expression.
type Condition struct {
	kind  condKind
	kids  []*Condition // and/or
	path  []string     // cmp
	field string       // cmp: path as written
	op    cmpOp
	not   bool
	vals  []cvalue
	like  []likeTok // compiled pattern for like
	pos   int       // byte offset of the comparison, for errors
	bound bool      // kinds checked against a schema by bind
}

type condKind uint8

const (
	condAll condKind = iota // empty expression: matches every record
	condAnd
	condOr
	condCmp
)

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opContains
	opLike
	opIn
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "contains", "like", "in"}

// symbolOps maps the lexer's tOp texts to their operators.
var symbolOps = map[string]cmpOp{"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

func (o cmpOp) String() string { return opNames[o] }

type valKind uint8

const (
	valString valKind = iota
	valNumber
	valBool
	valNull
	valDate
)

func (k valKind) String() string {
	return [...]string{"string", "number", "boolean", "null", "datetime"}[k]
}

type cvalue struct {
	kind valKind
	s    string
	n    float64
	b    bool
	t    time.Time
}

// ConditionError is a parse or evaluation error; Pos is a byte offset into
// the conditions string (-1 when not tied to a position).
type ConditionError struct {
	Pos int
	Msg string
}

func (e *ConditionError) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("%s at position %d", e.Msg, e.Pos)
	}
	return e.Msg
}

// ---- lexer ----

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate
	tLParen
	tRParen
	tComma
	tOp
)

type token struct {
	kind tokKind
	text string // ident/op text, decoded string, number text, date text
	pos  int
}

type lexer struct {
	s   string
	i   int
	tok token
}

func (l *lexer) errf(pos int, format string, a ...any) error {
	return &ConditionError{Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return r == '_' || r == '/' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (l *lexer) next() error {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == '\n' || l.s[l.i] == '\r') {
		l.i++
	}
	start := l.i
	if l.i >= len(l.s) {
		l.tok = token{kind: tEOF, pos: start}
		return nil
	}
	c := l.s[l.i]
	switch {
	case c == '(':
		l.i++
		l.tok = token{kind: tLParen, text: "(", pos: start}
	case c == ')':
		l.i++
		l.tok = token{kind: tRParen, text: ")", pos: start}
	case c == ',':
		l.i++
		l.tok = token{kind: tComma, text: ",", pos: start}
	case c == '=':
		l.i++
		l.tok = token{kind: tOp, text: "=", pos: start}
	case c == '!':
		if l.i+1 < len(l.s) && l.s[l.i+1] == '=' {
			l.i += 2
			l.tok = token{kind: tOp, text: "!=", pos: start}
			return nil
		}
		return l.errf(start, "unexpected character '!'")
	case c == '<' || c == '>':
		l.i++
		text := string(c)
		if l.i < len(l.s) && l.s[l.i] == '=' {
			l.i++
			text += "="
		}
		l.tok = token{kind: tOp, text: text, pos: start}
	case c == '"':
		var sb strings.Builder
		l.i++
		for {
			if l.i >= len(l.s) {
				return l.errf(start, "unterminated string")
			}
			ch := l.s[l.i]
			if ch == '"' {
				l.i++
				break
			}
			if ch == '\\' {
				if l.i+1 >= len(l.s) {
					return l.errf(l.i, "unterminated escape sequence")
				}
				nx := l.s[l.i+1]
				if nx != '"' && nx != '\\' {
					return l.errf(l.i, "invalid escape sequence '\\%c'", nx)
				}
				sb.WriteByte(nx)
				l.i += 2
				continue
			}
			sb.WriteByte(ch)
			l.i++
		}
		l.tok = token{kind: tString, text: sb.String(), pos: start}
	case c == '[':
		end := strings.IndexByte(l.s[l.i:], ']')
		if end < 0 {
			return l.errf(start, "unterminated datetime")
		}
		l.tok = token{kind: tDate, text: l.s[l.i+1 : l.i+end], pos: start}
		l.i += end + 1
	case c == '-' || c == '+' || (c >= '0' && c <= '9') || c == '.':
		j := l.i
		if c == '-' || c == '+' {
			j++
		}
		digits := 0
		for j < len(l.s) && (l.s[j] >= '0' && l.s[j] <= '9' || l.s[j] == '.') {
			j++
			digits++
		}
		if digits == 0 {
			return l.errf(start, "invalid number")
		}
		if j < len(l.s) {
			if r, _ := utf8.DecodeRuneInString(l.s[j:]); isIdentStart(r) {
				return l.errf(start, "invalid number")
			}
		}
		l.tok = token{kind: tNumber, text: l.s[l.i:j], pos: start}
		l.i = j
	default:
		r, size := utf8.DecodeRuneInString(l.s[l.i:])
		if !isIdentStart(r) {
			return l.errf(start, "unexpected character %q", r)
		}
		j := l.i + size
		for j < len(l.s) {
			r, size = utf8.DecodeRuneInString(l.s[j:])
			if !isIdentPart(r) {
				break
			}
			j += size
		}
		l.tok = token{kind: tIdent, text: l.s[l.i:j], pos: start}
		l.i = j
	}
	return nil
}

func (l *lexer) isKeyword(kw string) bool {
	return l.tok.kind == tIdent && strings.EqualFold(l.tok.text, kw)
}

// ---- parser ----

// ParseConditions parses a conditions string. An empty (or blank) string
// yields a condition that matches every record, like an absent parameter.
func ParseConditions(s string) (*Condition, error) {
	l := &lexer{s: s}
	if err := l.next(); err != nil {
		return nil, err
	}
	if l.tok.kind == tEOF {
		return &Condition{kind: condAll}, nil
	}
	c, err := parseOr(l, 0)
	if err != nil {
		return nil, err
	}
	if l.tok.kind != tEOF {
		return nil, l.errf(l.tok.pos, "unexpected %q", l.tok.text)
	}
	return c, nil
}

const maxDepth = 100

func parseOr(l *lexer, depth int) (*Condition, error) {
	left, err := parseAnd(l, depth)
	if err != nil {
		return nil, err
	}
	if !l.isKeyword("or") {
		return left, nil
	}
	n := &Condition{kind: condOr, kids: []*Condition{left}, pos: left.pos}
	for l.isKeyword("or") {
		if err := l.next(); err != nil {
			return nil, err
		}
		right, err := parseAnd(l, depth)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, right)
	}
	return n, nil
}

func parseAnd(l *lexer, depth int) (*Condition, error) {
	left, err := parsePrimary(l, depth)
	if err != nil {
		return nil, err
	}
	if !l.isKeyword("and") {
		return left, nil
	}
	n := &Condition{kind: condAnd, kids: []*Condition{left}, pos: left.pos}
	for l.isKeyword("and") {
		if err := l.next(); err != nil {
			return nil, err
		}
		right, err := parsePrimary(l, depth)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, right)
	}
	return n, nil
}

func parsePrimary(l *lexer, depth int) (*Condition, error) {
	if depth > maxDepth {
		return nil, l.errf(l.tok.pos, "conditions nested too deeply")
	}
	switch l.tok.kind {
	case tLParen:
		if err := l.next(); err != nil {
			return nil, err
		}
		c, err := parseOr(l, depth+1)
		if err != nil {
			return nil, err
		}
		if l.tok.kind != tRParen {
			return nil, l.errf(l.tok.pos, "expected ')'")
		}
		return c, l.next()
	case tIdent:
		if isReserved(l.tok.text) {
			return nil, l.errf(l.tok.pos, "expected a field name but found %q", l.tok.text)
		}
		return parseComparison(l)
	case tEOF:
		return nil, l.errf(l.tok.pos, "unexpected end of conditions")
	}
	return nil, l.errf(l.tok.pos, "expected a field name but found %q", l.tok.text)
}

func isReserved(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "contains", "like", "in":
		return true
	}
	return false
}

func parseComparison(l *lexer) (*Condition, error) {
	c := &Condition{kind: condCmp, field: l.tok.text, pos: l.tok.pos}
	for _, seg := range strings.Split(c.field, "/") {
		if seg == "" {
			return nil, l.errf(c.pos, "invalid field name %q", c.field)
		}
		c.path = append(c.path, seg)
	}
	if err := l.next(); err != nil {
		return nil, err
	}
	opPos := l.tok.pos
	if l.isKeyword("not") {
		c.not = true
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	switch {
	case l.tok.kind == tOp && !c.not:
		c.op = symbolOps[l.tok.text]
	case l.isKeyword("contains"):
		c.op = opContains
	case l.isKeyword("like"):
		c.op = opLike
	case l.isKeyword("in"):
		c.op = opIn
	default:
		if c.not {
			return nil, l.errf(l.tok.pos, "expected contains, like or in after not")
		}
		return nil, l.errf(opPos, "expected an operator after %q", c.field)
	}
	if err := l.next(); err != nil {
		return nil, err
	}
	if c.op == opIn {
		if l.tok.kind != tLParen {
			return nil, l.errf(l.tok.pos, "expected '(' after in")
		}
		for {
			if err := l.next(); err != nil {
				return nil, err
			}
			v, err := parseValue(l)
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			if err := l.next(); err != nil {
				return nil, err
			}
			if l.tok.kind == tRParen {
				break
			}
			if l.tok.kind != tComma {
				return nil, l.errf(l.tok.pos, "expected ',' or ')' in list")
			}
		}
		return c, l.next()
	}
	v, err := parseValue(l)
	if err != nil {
		return nil, err
	}
	c.vals = []cvalue{v}
	if c.op == opLike && v.kind == valString {
		c.like = compileLike(v.s)
	}
	return c, l.next()
}

func parseValue(l *lexer) (cvalue, error) {
	t := l.tok
	switch t.kind {
	case tString:
		return cvalue{kind: valString, s: t.text}, nil
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return cvalue{}, l.errf(t.pos, "invalid number %q", t.text)
		}
		return cvalue{kind: valNumber, n: f}, nil
	case tDate:
		tm, ok := parseTime(strings.TrimSpace(t.text))
		if !ok {
			return cvalue{}, l.errf(t.pos, "invalid datetime [%s]", t.text)
		}
		return cvalue{kind: valDate, t: tm}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return cvalue{kind: valBool, b: true}, nil
		case "false":
			return cvalue{kind: valBool, b: false}, nil
		case "null":
			return cvalue{kind: valNull}, nil
		}
		return cvalue{}, l.errf(t.pos, "expected a value but found %q (strings must be in double quotes)", t.text)
	case tEOF:
		return cvalue{}, l.errf(t.pos, "expected a value but reached the end")
	}
	return cvalue{}, l.errf(t.pos, "expected a value but found %q", t.text)
}
