package cwsim

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// record is immutable once published: a write builds a new record and swaps
// it in under the server's write lock. That makes the cached encodings safe
// to hand to a response writer after the read lock is released.
type record struct {
	id     int
	parent int            // owning ticket/company/board/agreement id for child collections; 0 otherwise
	data   map[string]any // JSON-shaped; never mutated after publish
	enc    []byte         // full JSON encoding, computed at publish
	proj   atomic.Pointer[projEntry]
}

// projEntry is a tiny copy-on-write list caching fields= projections of a
// record, keyed by the raw fields parameter.
type projEntry struct {
	key   string
	b     []byte
	next  *projEntry
	depth int
}

const maxProjCache = 4

func newRecord(id, parent int, data map[string]any) *record {
	data["id"] = id
	return &record{id: id, parent: parent, data: data, enc: appendJSON(nil, data)}
}

// projection returns the encoding of the record restricted to the field tree
// parsed from key, caching it so repeated pages with the same fields=
// allocate nothing. t is parseFields(key); nil parses it on a cache miss.
func (r *record) projection(key string, t *fieldTree) []byte {
	head := r.proj.Load()
	for e := head; e != nil; e = e.next {
		if e.key == key {
			return e.b
		}
	}
	if t == nil {
		t = parseFields(key)
	}
	b := appendProjection(make([]byte, 0, 64), r.data, t)
	e := &projEntry{key: key, b: b, next: head, depth: 1}
	if head != nil {
		e.depth = head.depth + 1
		if e.depth > maxProjCache {
			e.next, e.depth = nil, 1
		}
	}
	r.proj.CompareAndSwap(head, e) // losing the race only costs a recompute later
	return b
}

// kind is the JSON type of a schema path, used to reject conditions that
// compare a field with a value of the wrong type (as SQL Server would).
type kind uint8

const (
	kindUnknown kind = iota
	kindString
	kindNumber
	kindBool
	kindDate
	kindObject
	kindArray
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	case kindDate:
		return "datetime"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	}
	return "unknown"
}

type collection struct {
	name     string // Records() name, e.g. "tickets"
	label    string // for "Ticket 5 not found"
	resource string // for "ticket object is invalid"
	function string // security function guarding it ("" = none)
	nextID   int
	recs     []*record         // all records, ascending id
	byParent map[int][]*record // child collections: per parent, ascending id
	schema   map[string]kind   // known field paths
}

func newCollection(name, label, resource, function string, firstID int, child bool) *collection {
	c := &collection{name: name, label: label, resource: resource, function: function,
		nextID: firstID, schema: map[string]kind{}}
	if child {
		c.byParent = map[int][]*record{}
	}
	return c
}

// declare adds known field paths that may be absent from every record.
func (c *collection) declare(k kind, paths ...string) {
	for _, p := range paths {
		if _, ok := c.schema[p]; !ok || c.schema[p] == kindUnknown {
			c.schema[p] = k
		}
	}
}

func (c *collection) learn(prefix string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if prefix != "" {
			c.setKind(prefix, kindObject)
			prefix += "/"
		}
		for k, e := range x {
			c.learn(prefix+k, e)
		}
	case []any:
		c.setKind(prefix, kindArray)
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				for k, ev := range m {
					c.learn(prefix+"/"+k, ev)
				}
			}
		}
	case nil:
		if _, ok := c.schema[prefix]; !ok {
			c.schema[prefix] = kindUnknown
		}
	default:
		c.setKind(prefix, valueKind(x))
	}
}

func (c *collection) setKind(p string, k kind) {
	if old, ok := c.schema[p]; !ok || old == kindUnknown {
		c.schema[p] = k
	}
}

func valueKind(v any) kind {
	switch x := v.(type) {
	case string:
		if _, ok := parseTime(x); ok {
			return kindDate
		}
		return kindString
	case bool:
		return kindBool
	case int, int64, float64, json.Number:
		return kindNumber
	case map[string]any:
		return kindObject
	case []any:
		return kindArray
	}
	return kindUnknown
}

func (c *collection) allocID() int {
	id := c.nextID
	c.nextID++
	return id
}

// insert publishes a new record (ids only ever grow, so append keeps order).
func (c *collection) insert(parent int, data map[string]any) *record {
	r := newRecord(c.allocID(), parent, data)
	c.learn("", r.data)
	c.recs = append(c.recs, r)
	if c.byParent != nil {
		c.byParent[parent] = append(c.byParent[parent], r)
	}
	return r
}

// replace swaps in a new version of an existing record.
func (c *collection) replace(old *record, data map[string]any) *record {
	r := newRecord(old.id, old.parent, data)
	c.learn("", r.data)
	if i := searchID(c.recs, old.id); i < len(c.recs) && c.recs[i].id == old.id {
		c.recs[i] = r
	}
	if c.byParent != nil {
		list := c.byParent[old.parent]
		if i := searchID(list, old.id); i < len(list) && list[i].id == old.id {
			list[i] = r
		}
	}
	return r
}

// searchID is the index of the first record with id >= id.
func searchID(recs []*record, id int) int {
	return sort.Search(len(recs), func(i int) bool { return recs[i].id >= id })
}

func (c *collection) get(id int) *record {
	if i := searchID(c.recs, id); i < len(c.recs) && c.recs[i].id == id {
		return c.recs[i]
	}
	return nil
}

// scope is the slice a list request runs over: a parent's children or all.
func (c *collection) scope(parent int, child bool) []*record {
	if child && c.byParent != nil {
		return c.byParent[parent]
	}
	return c.recs
}

// findFold returns the first record whose string field equals v case-insensitively.
func (c *collection) findFold(recs []*record, field, v string) *record {
	for _, r := range recs {
		if s, ok := r.data[field].(string); ok && strings.EqualFold(s, v) {
			return r
		}
	}
	return nil
}

// ---- value helpers ----

const timeLayout = "2006-01-02T15:04:05Z"

func fmtTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(timeLayout) }

func parseTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, true
	}
	if len(s) == 10 {
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// toInt accepts integral JSON numbers only.
func toInt(v any) (int, bool) {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// normalize converts decoder output (json.Number) into int/float64.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x // out of range: left as json.Number, which number validation rejects
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

func copyMap(m map[string]any) map[string]any { return deepCopy(m).(map[string]any) }
