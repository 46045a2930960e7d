package cwclient

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Cond is a ConnectWise "conditions" expression. Build it only with the
// functions below: they quote and escape every value, so user data (a
// company named `O"Brien & Sons+`) can never change a query's meaning.
// The zero Cond means "no condition".
type Cond struct {
	s   string
	err error
}

// String is the expression as sent (before URL encoding).
func (c Cond) String() string { return c.s }

// Err reports a bad field name or value given to a builder.
func (c Cond) Err() error { return c.err }

// IsZero reports whether c adds no condition.
func (c Cond) IsZero() bool { return c.s == "" && c.err == nil }

var fieldRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$`)

func bad(format string, args ...any) Cond {
	return Cond{err: &Error{Kind: KindConfig, Message: "conditions: " + fmt.Sprintf(format, args...)}}
}

func compare(field, op string, v any) Cond {
	if !fieldRE.MatchString(field) {
		return bad("invalid field name %q", field)
	}
	lit, err := Literal(v)
	if err != nil {
		return bad("%s: %v", field, err)
	}
	return Cond{s: field + " " + op + " " + lit}
}

// Literal renders a Go value in the conditions language: strings in
// double quotes with \ and " escaped, True/False, bare numbers,
// [RFC 3339 UTC] dates, null.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return QuoteString(x), nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case float64:
		if x != x || x > 1e300 || x < -1e300 {
			return "", errors.New("number out of range")
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return "[" + x.UTC().Format("2006-01-02T15:04:05Z") + "]", nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// QuoteString quotes s for a conditions string literal.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// LikeEscape makes s match itself literally inside a like pattern: the
// wildcards % _ * and the set opener [ are each wrapped in brackets, as
// the developer guide shows for [ ("[[]").
func LikeEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '[', '%', '_', '*':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func Eq(field string, v any) Cond { return compare(field, "=", v) }
func Ne(field string, v any) Cond { return compare(field, "!=", v) }
func Lt(field string, v any) Cond { return compare(field, "<", v) }
func Le(field string, v any) Cond { return compare(field, "<=", v) }
func Gt(field string, v any) Cond { return compare(field, ">", v) }
func Ge(field string, v any) Cond { return compare(field, ">=", v) }

// Contains is a case-insensitive substring test; s is taken literally.
func Contains(field, s string) Cond    { return compare(field, "contains", s) }
func NotContains(field, s string) Cond { return compare(field, "not contains", s) }

// Like matches a pattern (% or * any run, _ one character, [..] a set).
// Use LikeEscape for the literal parts.
func Like(field, pattern string) Cond    { return compare(field, "like", pattern) }
func NotLike(field, pattern string) Cond { return compare(field, "not like", pattern) }

func IsNull(field string) Cond  { return Eq(field, nil) }
func NotNull(field string) Cond { return Ne(field, nil) }

// In builds "field in (v1, v2, ...)". An empty list matches nothing, so
// it becomes an always-false expression rather than a syntax error.
func In(field string, vals ...any) Cond { return in(field, "in", vals) }

// NotIn builds "field not in (...)"; an empty list matches everything.
func NotIn(field string, vals ...any) Cond { return in(field, "not in", vals) }

func in(field, op string, vals []any) Cond {
	if !fieldRE.MatchString(field) {
		return bad("invalid field name %q", field)
	}
	if len(vals) == 0 {
		if op == "in" {
			return Cond{s: "id < 0"}
		}
		return Cond{s: "id > 0"}
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		lit, err := Literal(v)
		if err != nil {
			return bad("%s: %v", field, err)
		}
		parts[i] = lit
	}
	return Cond{s: field + " " + op + " (" + strings.Join(parts, ", ") + ")"}
}

// InInts is In for a slice of ids.
func InInts(field string, ids []int) Cond {
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	return In(field, vals...)
}

// And joins conditions; zero Conds are skipped, compound ones bracketed.
func And(cs ...Cond) Cond { return join(" AND ", cs) }

// Or joins conditions; zero Conds are skipped, compound ones bracketed.
func Or(cs ...Cond) Cond { return join(" OR ", cs) }

func join(sep string, cs []Cond) Cond {
	var parts []string
	for _, c := range cs {
		if c.err != nil {
			return c
		}
		if c.s != "" {
			parts = append(parts, c.s)
		}
	}
	switch len(parts) {
	case 0:
		return Cond{}
	case 1:
		return Cond{s: parts[0]}
	}
	for i, p := range parts {
		parts[i] = "(" + p + ")"
	}
	return Cond{s: strings.Join(parts, sep)}
}
