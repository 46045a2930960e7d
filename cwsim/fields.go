package cwsim

import (
	"sort"
	"strings"
)

// fieldTree is a parsed fields= parameter: "id,company/id,company/name"
// becomes id(leaf) and company{id,name}. Paths that name nothing in a
// record are simply left out, as ConnectWise does.
type fieldTree struct {
	key  string
	leaf bool
	kids []*fieldTree // sorted with keyLess, so output order matches full records
}

func parseFields(s string) *fieldTree {
	root := &fieldTree{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n := root
		segs := strings.Split(p, "/")
		for i, seg := range segs {
			if seg == "" {
				break
			}
			if n.leaf {
				break // already asked for the whole value
			}
			var child *fieldTree
			for _, k := range n.kids {
				if k.key == seg {
					child = k
					break
				}
			}
			if child == nil {
				child = &fieldTree{key: seg}
				n.kids = append(n.kids, child)
			}
			if i == len(segs)-1 {
				child.leaf, child.kids = true, nil
			}
			n = child
		}
	}
	var sortAll func(t *fieldTree)
	sortAll = func(t *fieldTree) {
		sort.Slice(t.kids, func(i, j int) bool { return keyLess(t.kids[i].key, t.kids[j].key) })
		for _, k := range t.kids {
			sortAll(k)
		}
	}
	sortAll(root)
	return root
}

// appendProjection writes the object m restricted to t.
func appendProjection(b []byte, m map[string]any, t *fieldTree) []byte {
	b = append(b, '{')
	first := true
	for _, k := range t.kids {
		v, ok := m[k.key]
		if !ok {
			continue
		}
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = appendJSONString(b, k.key)
		b = append(b, ':')
		if k.leaf {
			b = appendJSON(b, v)
		} else if !appendSub(&b, v, k) {
			b = b[:mark] // nothing under this branch: leave the key out
			continue
		}
		first = false
	}
	return append(b, '}')
}

// appendSub projects a nested value; false means nothing matched.
func appendSub(b *[]byte, v any, t *fieldTree) bool {
	switch x := v.(type) {
	case map[string]any:
		any := false
		for _, k := range t.kids {
			if _, ok := x[k.key]; ok {
				any = true
				break
			}
		}
		if !any {
			return false
		}
		*b = appendProjection(*b, x, t)
		return true
	case []any:
		*b = append(*b, '[')
		for i, e := range x {
			if i > 0 {
				*b = append(*b, ',')
			}
			if m, ok := e.(map[string]any); ok {
				*b = appendProjection(*b, m, t)
			} else {
				*b = append(*b, "{}"...)
			}
		}
		*b = append(*b, ']')
		return true
	case nil:
		return false
	}
	return false
}
