package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

var configType = reflect.TypeFor[Config]()

// checker walks the generic TOML tree against Config's toml tags: every key
// must be known (exactly; the decoder alone would also take "SITE" for
// "site"), of the right TOML type, and where it belongs. It records the keys
// it sees for Config.IsSet.
type checker struct {
	file string
	pos  *positions
	set  map[string]struct{}
	errs []*Error
}

func (c *checker) errorf(p kpath, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.pos.lineOf(p.idx), Key: p.idx, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) first() error { return firstError(c.errs) }

// firstError returns the error that comes first in the file (errors without
// a line last), or nil.
func firstError(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = int(^uint(0) >> 1)
		}
		if lb == 0 {
			lb = int(^uint(0) >> 1)
		}
		if la != lb {
			return la - lb
		}
		return strings.Compare(a.Key, b.Key)
	})
	return errs[0]
}

type tomlField struct {
	name string
	typ  reflect.Type
}

func tomlFields(t reflect.Type) []tomlField {
	var fs []tomlField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs = append(fs, tomlField{name, f.Type})
	}
	return fs
}

func (c *checker) table(m map[string]any, t reflect.Type, p kpath) {
	fields := tomlFields(t)
	for k, v := range m {
		kp := p.key(k)
		i := slices.IndexFunc(fields, func(f tomlField) bool { return f.name == k })
		if i < 0 {
			c.errorf(kp, "unknown key%s", suggestKey(k, fields))
			continue
		}
		c.set[kp.idx] = struct{}{}
		c.value(v, fields[i].typ, kp, fields[i].name)
	}
}

func suggestKey(k string, fields []tomlField) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	best := Suggest(k, names)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func (c *checker) value(v any, t reflect.Type, p kpath, name string) {
	if t == reflect.TypeFor[Secret]() { // a struct in Go, a string in TOML
		switch s, ok := v.(string); {
		case !ok:
			c.errorf(p, "must be a string, not %s", typeName(v))
		case s == Mask: // caught here, where the line is known; decoding refuses it too
			c.errorf(p, "is the display mask %s, not the real value", Mask)
		}
		return
	}
	if t == reflect.TypeFor[Duration]() { // a struct in Go, a string in TOML
		switch s, ok := v.(string); {
		case !ok:
			c.errorf(p, "must be a duration string such as \"15m\", not %s", typeName(v))
		default:
			var d Duration
			if err := d.UnmarshalText([]byte(s)); err != nil {
				c.errorf(p, "%v", err)
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.errorf(p, "must be a string, not %s", typeName(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			c.errorf(p, "must be an integer, not %s", typeName(v))
		} else if reflect.New(t).Elem().OverflowInt(n) {
			c.errorf(p, "%d is out of range", n)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.errorf(p, "must be true or false, not %s", typeName(v))
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			c.errorf(p, "must be a table ([%s]), not %s", name, typeName(v))
			return
		}
		c.table(m, t, p)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String { // an array of strings
			a, ok := v.([]any)
			if !ok {
				c.errorf(p, "must be an array of strings ([\"...\"]), not %s", typeName(v))
				return
			}
			for i, it := range a {
				if _, ok := it.(string); !ok {
					c.errorf(p.index(i), "must be a string, not %s", typeName(it))
				}
			}
			return
		}
		var items []any
		switch a := v.(type) {
		case []map[string]any:
			for _, m := range a {
				items = append(items, m)
			}
		case []any:
			items = a
		default:
			c.errorf(p, "must be an array of tables ([[%s]]), not %s", name, typeName(v))
			return
		}
		for i, it := range items {
			ip := p.index(i)
			m, ok := it.(map[string]any)
			if !ok {
				c.errorf(ip, "must be a table ([[%s]] entry), not %s", name, typeName(it))
				continue
			}
			c.set[ip.idx] = struct{}{}
			c.table(m, t.Elem(), ip)
		}
	default:
		c.errorf(p, "cannot be decoded (unsupported field type %s)", t)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date/time"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
