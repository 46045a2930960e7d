package cwsim

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const (
	defaultPageSize = 25
	maxPageSize     = 1000 // ConnectWise's hard limit; larger requests are capped
)

type orderKey struct {
	path []string
	desc bool
}

// listQuery is a parsed list request: conditions, orderBy, fields, paging.
type listQuery struct {
	cond      *Condition
	child     *childFilter // childConditions, nil for none
	order     []orderKey
	fields    *fieldTree
	fieldsKey string
	page      int
	pageSize  int
	forward   bool
	pageID    int
}

// qget looks a query parameter up case-insensitively (ASP.NET binds them so).
func qget(q url.Values, name string) (string, bool) {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0], true
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

func parsePositive(q url.Values, name string, def int) (int, *apiError) {
	v, ok := qget(q, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, errBadRequest("InvalidRequest", name+" must be a whole number of at least 1 (got "+strconv.Quote(v)+").")
	}
	return n, nil
}

// parseListQuery reads the list parameters; conds, when non-nil, replaces
// the conditions parameter (POST .../search). Caller holds s.mu (schema).
func parseListQuery(r *http.Request, c *collection, conds *string) (*listQuery, *apiError) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errBadRequest("InvalidRequest", "The query string is malformed: "+err.Error())
	}
	lq := &listQuery{}
	ps, e := parsePositive(q, "pageSize", defaultPageSize)
	if e != nil {
		return nil, e
	}
	lq.pageSize = min(ps, maxPageSize)
	lq.forward = strings.EqualFold(strings.TrimSpace(r.Header.Get("pagination-type")), "forward-only")
	if lq.forward {
		lq.page = 1 // ignored in forward-only mode
		if v, ok := qget(q, "pageId"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return nil, errBadRequest("InvalidRequest", "pageId must be a whole number of at least 0 (got "+strconv.Quote(v)+").")
			}
			lq.pageID = n
		}
	} else {
		p, e := parsePositive(q, "page", 1)
		if e != nil {
			return nil, e
		}
		lq.page = p
	}
	if lq.cond, e = parseConditionsParam(q, conds, c.schema); e != nil {
		return nil, e
	}
	if lq.child, e = parseChildConditions(q, c); e != nil {
		return nil, e
	}
	if v, ok := qget(q, "orderBy"); ok && strings.TrimSpace(v) != "" {
		if lq.forward {
			return nil, errBadRequest("InvalidRequest", "orderBy is not supported with forward-only pagination; results are ordered by id.")
		}
		keys, e := parseOrderBy(v, c.schema)
		if e != nil {
			return nil, e
		}
		lq.order = keys
	}
	if v, ok := fieldsParam(q); ok {
		lq.fieldsKey = v
		lq.fields = parseFields(v)
	}
	return lq, nil
}

// parseConditionsParam parses and binds the conditions a list or count
// runs: the search body's when conds is non-nil, else the conditions
// parameter. customFieldConditions is refused rather than silently
// ignored (childConditions: parseChildConditions). Caller holds s.mu (schema).
func parseConditionsParam(q url.Values, conds *string, schema map[string]kind) (*Condition, *apiError) {
	for _, name := range []string{"customFieldConditions"} {
		if v, ok := qget(q, name); ok && strings.TrimSpace(v) != "" {
			return nil, errBadRequest("InvalidRequest", name+" is not supported by this simulator.")
		}
	}
	condStr, _ := qget(q, "conditions")
	if conds != nil {
		condStr = *conds
	}
	cond, err := ParseConditions(condStr)
	if err != nil {
		return nil, errConditions("Invalid conditions: " + err.Error() + ".")
	}
	if cond, err = cond.bind(schema); err != nil {
		return nil, errConditions(err.Error())
	}
	return cond, nil
}

// fieldsParam is the fields= parameter, when it names anything.
func fieldsParam(q url.Values) (string, bool) {
	v, ok := qget(q, "fields")
	return v, ok && strings.TrimSpace(v) != ""
}

func parseOrderBy(v string, schema map[string]kind) ([]orderKey, *apiError) {
	var keys []orderKey
	for _, part := range strings.Split(v, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 {
			return nil, errBadRequest("InvalidRequest", "orderBy "+strconv.Quote(v)+" is malformed; use field [asc|desc], ...")
		}
		k := orderKey{}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, errBadRequest("InvalidRequest", "orderBy direction "+strconv.Quote(f[1])+" must be asc or desc.")
			}
		}
		name := f[0]
		fk, ok := schema[name]
		if !ok {
			if alias, isAlias := fieldAliases[name]; isAlias {
				fk, ok = schema[alias]
				name = alias
			}
		}
		if !ok {
			return nil, errBadRequest("InvalidRequest", f[0]+" is not a recognized name.")
		}
		if fk == kindObject || fk == kindArray {
			return nil, errBadRequest("InvalidRequest", f[0]+" is an object and cannot be sorted on; use a sub-field.")
		}
		k.path = strings.Split(name, "/")
		keys = append(keys, k)
	}
	return keys, nil
}

func firstValue(rec map[string]any, path []string) any {
	var out any
	walkPath(rec, path, func(v any) bool { out = v; return false })
	return out
}

// compareAny orders two field values; nulls sort first (SQL Server).
func compareAny(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return cmpFloat(fa, fb)
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return compareFold(sa, sb)
		}
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			switch {
			case ba == bb:
				return 0
			case !ba:
				return -1
			}
			return 1
		}
	}
	return 0
}

func sortRecords(recs []*record, keys []orderKey) {
	sort.SliceStable(recs, func(i, j int) bool {
		for _, k := range keys {
			c := compareAny(firstValue(recs[i].data, k.path), firstValue(recs[j].data, k.path))
			if c != 0 {
				if k.desc {
					return c > 0
				}
				return c < 0
			}
		}
		return recs[i].id < recs[j].id
	})
}

func (lq *listQuery) matches(r *record) bool {
	if !lq.child.matches(r.data) {
		return false
	}
	if lq.cond.kind == condAll {
		return true
	}
	ok, err := lq.cond.Match(r.data)
	return ok && err == nil
}

func (lq *listQuery) encode(r *record) []byte {
	if lq.fields == nil {
		return r.enc
	}
	return r.projection(lq.fieldsKey, lq.fields)
}

// page selects one page out of scope (ascending id) and returns the
// encoded records plus the Link header value ("" for none).
func (lq *listQuery) selectPage(r *http.Request, scope []*record, parts [][]byte) ([][]byte, string) {
	if lq.forward {
		start := sort.Search(len(scope), func(i int) bool { return scope[i].id > lq.pageID })
		last := 0
		for i := start; i < len(scope) && len(parts) < lq.pageSize; i++ {
			if lq.matches(scope[i]) {
				parts = append(parts, lq.encode(scope[i]))
				last = scope[i].id
			}
		}
		if len(parts) == 0 {
			return parts, ""
		}
		return parts, "<" + linkURL(r, "pageId", last) + `>; rel="next"`
	}
	start, end := lq.window()
	total := 0
	switch {
	case lq.cond.kind == condAll && lq.child == nil && lq.order == nil:
		total = len(scope)
		for i := start; i < end && i < total; i++ {
			parts = append(parts, lq.encode(scope[i]))
		}
	case lq.order == nil:
		// One pass, nothing materialised: count every match, keep the window.
		for _, rec := range scope {
			if lq.matches(rec) {
				if total >= start && total < end {
					parts = append(parts, lq.encode(rec))
				}
				total++
			}
		}
	default:
		var sel []*record
		for _, rec := range scope {
			if lq.matches(rec) {
				sel = append(sel, rec)
			}
		}
		sortRecords(sel, lq.order)
		total = len(sel)
		for i := start; i < end && i < total; i++ {
			parts = append(parts, lq.encode(sel[i]))
		}
	}
	lastPage := (total + lq.pageSize - 1) / lq.pageSize
	if lastPage < 1 {
		lastPage = 1
	}
	var link strings.Builder
	add := func(page int, rel string) {
		if link.Len() > 0 {
			link.WriteString(", ")
		}
		link.WriteString("<" + linkURL(r, "page", page) + `>; rel="` + rel + `"`)
	}
	add(1, "first")
	if lq.page > 1 {
		add(min(lq.page-1, lastPage), "prev")
	}
	if lq.page < lastPage {
		add(lq.page+1, "next")
	}
	add(lastPage, "last")
	return parts, link.String()
}

// window is the [start, end) range of matches the page covers. A page
// number so large that its offset would overflow lies past any data, so it
// saturates instead (an overflowed, negative start would index out of range).
func (lq *listQuery) window() (start, end int) {
	if lq.page-1 >= math.MaxInt/lq.pageSize-1 {
		return math.MaxInt - lq.pageSize, math.MaxInt
	}
	start = (lq.page - 1) * lq.pageSize
	return start, start + lq.pageSize
}

// linkURL rebuilds the request URL (absolute) with param set to val,
// keeping every other query parameter as the client sent it.
func linkURL(r *http.Request, param string, val int) string {
	var b strings.Builder
	if r.TLS != nil {
		b.WriteString("https://")
	} else {
		b.WriteString("http://")
	}
	b.WriteString(r.Host)
	b.WriteString(r.URL.EscapedPath())
	b.WriteByte('?')
	n := 0
	replaced := false
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if kd, err := url.QueryUnescape(k); err == nil && strings.EqualFold(kd, param) {
			if replaced {
				continue
			}
			part = k + "=" + strconv.Itoa(val)
			replaced = true
		}
		if n > 0 {
			b.WriteByte('&')
		}
		b.WriteString(part)
		n++
	}
	if !replaced {
		if n > 0 {
			b.WriteByte('&')
		}
		b.WriteString(param + "=" + strconv.Itoa(val))
	}
	return b.String()
}
