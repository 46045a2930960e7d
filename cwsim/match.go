package cwsim

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match reports whether rec satisfies the condition. It follows SQL
// semantics: a missing or null field satisfies only "= null" (and fails
// every other comparison, negated or not). Comparing values of different
// types (a string field with a number, ...) is an error.
func (c *Condition) Match(rec map[string]any) (bool, error) {
	switch c.kind {
	case condAll:
		return true, nil
	case condAnd:
		for _, k := range c.kids {
			ok, err := k.Match(rec)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case condOr:
		for _, k := range c.kids {
			ok, err := k.Match(rec)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	return c.matchCmp(rec)
}

func (c *Condition) errf(format string, a ...any) error {
	return &ConditionError{Pos: c.pos, Msg: fmt.Sprintf(format, a...)}
}

func (c *Condition) matchCmp(rec map[string]any) (bool, error) {
	v, crossesArray := lookupPath(rec, c.path)
	if crossesArray {
		return c.matchCmpSlow(rec)
	}
	if c.vals[0].kind == valNull && c.op != opIn {
		switch c.op {
		case opEq:
			return v == nil, nil
		case opNe:
			return v != nil, nil
		}
		return false, c.errf("null can only be compared with = or !=")
	}
	if v == nil {
		return false, nil
	}
	return c.matchValue(v)
}

// lookupPath follows a path through nested objects without allocating;
// crossesArray reports that an array sits on the way (the caller then
// matches element-wise).
func lookupPath(rec map[string]any, path []string) (v any, crossesArray bool) {
	cur := any(rec)
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			_, isArr := cur.([]any)
			return nil, isArr
		}
		cur = m[seg]
	}
	return cur, false
}

// matchCmpSlow handles paths through arrays: any element may match.
func (c *Condition) matchCmpSlow(rec map[string]any) (bool, error) {
	if c.vals[0].kind == valNull && c.op != opIn {
		found := false
		walkPath(rec, c.path, func(v any) bool {
			found = v != nil
			return !found
		})
		switch c.op {
		case opEq:
			return !found, nil
		case opNe:
			return found, nil
		}
		return false, c.errf("null can only be compared with = or !=")
	}
	var matched bool
	var err error
	walkPath(rec, c.path, func(v any) bool {
		if v == nil {
			return true
		}
		ok, e := c.matchValue(v)
		if e != nil {
			err = e
			return false
		}
		if ok {
			matched = true
			return false
		}
		return true
	})
	if err != nil {
		return false, err
	}
	return matched, nil
}

// walkPath calls fn for each value at path (several when the path crosses
// an array); a missing value is reported as nil. fn returns false to stop.
func walkPath(v any, path []string, fn func(any) bool) bool {
	if len(path) == 0 {
		return fn(v)
	}
	switch x := v.(type) {
	case map[string]any:
		e, ok := x[path[0]]
		if !ok {
			return fn(nil)
		}
		return walkPath(e, path[1:], fn)
	case []any:
		if len(x) == 0 {
			return fn(nil)
		}
		for _, e := range x {
			if !walkPath(e, path, fn) {
				return false
			}
		}
		return true
	}
	return fn(nil)
}

// matchValue compares one non-null field value.
func (c *Condition) matchValue(v any) (bool, error) {
	if !c.bound {
		if err := c.checkKind(valueKind(v)); err != nil {
			return false, err
		}
	} else if _, isStr := v.(string); !isStr && (c.op == opContains || c.op == opLike) {
		return false, nil // schema said string; tolerate an odd record rather than panic
	}
	res := false
	switch c.op {
	case opIn:
		for i := range c.vals {
			if c.vals[i].kind == valNull {
				continue
			}
			if cmp, _ := compareValue(v, &c.vals[i]); cmp == 0 {
				res = true
				break
			}
		}
	case opContains:
		res = containsFold(v.(string), c.vals[0].s)
	case opLike:
		res = likeMatch(c.like, v.(string))
	default:
		cmp, ok := compareValue(v, &c.vals[0])
		if !ok {
			return false, c.errf("cannot compare %s with %s", c.field, c.vals[0].kind)
		}
		switch c.op {
		case opEq:
			res = cmp == 0
		case opNe:
			res = cmp != 0
		case opLt:
			res = cmp < 0
		case opLe:
			res = cmp <= 0
		case opGt:
			res = cmp > 0
		case opGe:
			res = cmp >= 0
		}
	}
	if c.not {
		res = !res
	}
	return res, nil
}

// checkKind rejects operator/value combinations that do not fit a field of
// kind fk. kindUnknown (a field only ever seen as null) accepts anything.
func (c *Condition) checkKind(fk kind) error {
	if fk == kindUnknown {
		return nil
	}
	if fk == kindObject || fk == kindArray {
		return c.errf("%s is an object and cannot be compared; use a sub-field such as %s/id", c.field, c.field)
	}
	for i := range c.vals {
		vk := c.vals[i].kind
		if vk == valNull {
			if c.op != opEq && c.op != opNe && c.op != opIn {
				return c.errf("null can only be compared with = or !=")
			}
			continue
		}
		switch c.op {
		case opContains, opLike:
			if vk != valString {
				return c.errf("%s requires a string value", c.op)
			}
			if fk != kindString && fk != kindDate {
				return c.errf("%s cannot be used on %s field %s", c.op, fk, c.field)
			}
			continue
		}
		ok := false
		switch fk {
		case kindString:
			ok = vk == valString
		case kindDate:
			ok = vk == valDate || vk == valString
		case kindNumber:
			ok = vk == valNumber
		case kindBool:
			ok = vk == valBool && (c.op == opEq || c.op == opNe || c.op == opIn)
		}
		if !ok {
			return c.errf("cannot compare %s field %s with %s value using %s", fk, c.field, vk, c.op)
		}
	}
	return nil
}

// compareValue returns -1/0/1; ok is false when the types do not compare.
func compareValue(v any, cv *cvalue) (int, bool) {
	switch cv.kind {
	case valString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		return compareFold(s, cv.s), true
	case valNumber:
		f, ok := toFloat(v)
		if !ok {
			return 0, false
		}
		return cmpFloat(f, cv.n), true
	case valBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == cv.b {
			return 0, true
		}
		if !b {
			return -1, true
		}
		return 1, true
	case valDate:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		t, ok := parseTime(s)
		if !ok {
			return 0, false
		}
		return t.Compare(cv.t), true
	}
	return 0, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFold compares case-insensitively, ignoring trailing spaces the way
// SQL Server's padded comparison does.
func compareFold(a, b string) int {
	a = strings.TrimRight(a, " ")
	b = strings.TrimRight(b, " ")
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func foldEq(a, b rune) bool { return a == b || unicode.ToLower(a) == unicode.ToLower(b) }

// hasPrefixFold reports whether s starts with prefix case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeRuneInString(s)
		rp, np := utf8.DecodeRuneInString(prefix)
		if !foldEq(rs, rp) {
			return false
		}
		s, prefix = s[ns:], prefix[np:]
	}
	return true
}

func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i < len(s); {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return false
}

// ---- LIKE (SQL Server semantics, plus ConnectWise's * wildcard) ----

type likeKind uint8

const (
	likeLit   likeKind = iota
	likeAny            // % or *
	likeOne            // _
	likeSet            // [abc], [a-c], [^abc]
	likeNever          // an unclosed [ : matches nothing, as in SQL Server
)

type likeTok struct {
	kind   likeKind
	r      rune
	neg    bool
	ranges []rune // pairs lo,hi
}

func compileLike(p string) []likeTok {
	var toks []likeTok
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		switch r {
		case '%', '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != likeAny {
				toks = append(toks, likeTok{kind: likeAny})
			}
		case '_':
			toks = append(toks, likeTok{kind: likeOne})
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end == 0 && i+1 < len(p) {
				// "[]...]" : a leading ] is a literal member of the set.
				end = strings.IndexByte(p[i+1:], ']')
				if end >= 0 {
					end++
				}
			}
			if end < 0 {
				return append(toks, likeTok{kind: likeNever})
			}
			body := p[i : i+end]
			i += end + 1
			t := likeTok{kind: likeSet}
			if strings.HasPrefix(body, "^") && len(body) > 1 {
				t.neg = true
				body = body[1:]
			}
			rs := []rune(body)
			for j := 0; j < len(rs); j++ {
				if j+2 < len(rs) && rs[j+1] == '-' {
					t.ranges = append(t.ranges, rs[j], rs[j+2])
					j += 2
					continue
				}
				t.ranges = append(t.ranges, rs[j], rs[j])
			}
			toks = append(toks, t)
		default:
			toks = append(toks, likeTok{kind: likeLit, r: r})
		}
	}
	return toks
}

func (t *likeTok) matchRune(r rune) bool {
	switch t.kind {
	case likeLit:
		return foldEq(t.r, r)
	case likeOne:
		return true
	case likeSet:
		lr := unicode.ToLower(r)
		in := false
		for j := 0; j+1 < len(t.ranges); j += 2 {
			lo, hi := unicode.ToLower(t.ranges[j]), unicode.ToLower(t.ranges[j+1])
			if (r >= t.ranges[j] && r <= t.ranges[j+1]) || (lr >= lo && lr <= hi) {
				in = true
				break
			}
		}
		return in != t.neg
	}
	return false
}

// likeMatch is the classic wildcard algorithm with a single backtrack point,
// linear for patterns whose only multi-char token is "any run".
func likeMatch(toks []likeTok, s string) bool {
	for _, t := range toks {
		if t.kind == likeNever {
			return false
		}
	}
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, n := utf8.DecodeRuneInString(s[si:])
		if pi < len(toks) && toks[pi].kind == likeAny {
			starP, starS = pi, si
			pi++
			continue
		}
		if pi < len(toks) && toks[pi].matchRune(r) {
			pi++
			si += n
			continue
		}
		if starP < 0 {
			return false
		}
		_, n2 := utf8.DecodeRuneInString(s[starS:])
		starS += n2
		si = starS
		pi = starP + 1
	}
	for pi < len(toks) && toks[pi].kind == likeAny {
		pi++
	}
	return pi == len(toks)
}

// ---- validation against a collection schema ----

// fieldAliases maps ConnectWise's top-level condition names for audit
// fields onto where the JSON keeps them.
var fieldAliases = map[string]string{
	"lastUpdated": "_info/lastUpdated",
	"dateEntered": "_info/dateEntered",
	"updatedBy":   "_info/updatedBy",
	"enteredBy":   "_info/enteredBy",
}

// bind checks every field against the collection schema (unknown names and
// type mismatches are errors whether or not any record has the field) and
// resolves aliases. It returns a copy so a shared Condition is not mutated.
func (c *Condition) bind(schema map[string]kind) (*Condition, error) {
	switch c.kind {
	case condAll:
		return c, nil
	case condAnd, condOr:
		n := *c
		n.kids = make([]*Condition, len(c.kids))
		for i, k := range c.kids {
			b, err := k.bind(schema)
			if err != nil {
				return nil, err
			}
			n.kids[i] = b
		}
		return &n, nil
	}
	n := *c
	fk, ok := schema[c.field]
	if !ok {
		if alias, isAlias := fieldAliases[c.field]; isAlias {
			if fk, ok = schema[alias]; ok {
				n.path = strings.Split(alias, "/")
			}
		}
	}
	if !ok {
		return nil, &ConditionError{Pos: -1, Msg: c.field + " is not a recognized name."}
	}
	if err := n.checkKind(fk); err != nil {
		return nil, err
	}
	// Kinds are now known from the schema, so matching can skip the
	// per-record type check; only fields with a fixed kind qualify.
	n.bound = fk != kindUnknown
	return &n, nil
}
