package cwclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageSize is ConnectWise's hard cap on records per page.
const MaxPageSize = 1000

// maxURL keeps GET URLs under the length the guide calls safe; longer
// conditions go through POST …/search where the endpoint has one.
const maxURL = 1745

// Query narrows a list call.
type Query struct {
	Conditions Cond
	// ChildConditions filter on a record's child arrays, e.g. a contact's
	// communicationItems (one child must match all of it).
	ChildConditions Cond
	OrderBy         string   // "name asc"; set → navigable paging, empty → forward-only
	Fields          []string // partial response: "id", "company/id"
	PageSize        int      // default MaxPageSize
}

func (q Query) values() (url.Values, error) {
	if err := q.Conditions.Err(); err != nil {
		return nil, err
	}
	v := url.Values{}
	if s := q.Conditions.String(); s != "" {
		v.Set("conditions", s)
	}
	if err := q.ChildConditions.Err(); err != nil {
		return nil, err
	}
	if s := q.ChildConditions.String(); s != "" {
		v.Set("childConditions", s)
	}
	if q.OrderBy != "" {
		for _, part := range strings.Split(q.OrderBy, ",") {
			f := strings.Fields(part)
			if len(f) == 0 || len(f) > 2 || !fieldRE.MatchString(f[0]) || (len(f) == 2 && f[1] != "asc" && f[1] != "desc") {
				return nil, configErr("orderBy: bad clause " + strconv.Quote(part))
			}
		}
		v.Set("orderBy", q.OrderBy)
	}
	if len(q.Fields) > 0 {
		for _, f := range q.Fields {
			if !fieldRE.MatchString(f) {
				return nil, configErr("fields: bad field name " + strconv.Quote(f))
			}
		}
		v.Set("fields", strings.Join(q.Fields, ","))
	}
	ps := q.PageSize
	if ps <= 0 || ps > MaxPageSize {
		ps = MaxPageSize
	}
	v.Set("pageSize", strconv.Itoa(ps))
	return v, nil
}

func (q Query) pageSize() int {
	if q.PageSize <= 0 || q.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return q.PageSize
}

// searchable endpoints accept POST …/search with the conditions in the body.
var searchable = map[string]bool{"service/tickets": true}

// List iterates over every record of path matching q, fetching pages
// lazily. Without OrderBy it uses forward-only paging (ordered by id, the
// scalable mode); with OrderBy it follows Link rel="next". It stops on a
// short page or when no next link is given, so a full sync of N records
// costs ceil((N+1)/pageSize) calls at most. The first error ends the
// iteration.
func List[T any](ctx context.Context, c *Client, path string, q Query) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		vals, err := q.values()
		if err != nil {
			yield(zero, withPath(err, http.MethodGet, path))
			return
		}
		forward := q.OrderBy == ""
		var hdr http.Header
		if forward {
			hdr = http.Header{"Pagination-Type": {"forward-only"}}
		} else {
			vals.Set("page", "1")
		}
		size := q.pageSize()
		for {
			r := request{method: http.MethodGet, path: path, query: vals, header: hdr, idempotent: true}
			if searchable[path] && len(path)+len(vals.Encode()) > maxURL {
				r = searchRequest(path, vals, hdr)
			}
			resp, err := c.do(ctx, r)
			if err != nil {
				yield(zero, err)
				return
			}
			n, stop, err := decodeArray(resp.body, yield)
			resp.body.Close()
			if err != nil {
				yield(zero, &Error{Kind: KindBadResponse, Method: r.method, Path: path, Status: resp.status, Message: err.Error(), Err: err})
				return
			}
			if stop || n < size {
				return
			}
			next, ok := nextLink(resp.header)
			if !ok {
				return
			}
			// Keep our own query (conditions and all) and take only the
			// position from the link, so a server that drops parameters
			// from its links cannot restart or widen the listing.
			advanced := false
			for _, k := range []string{"pageId", "page"} {
				if v := next.Get(k); v != "" && v != vals.Get(k) {
					vals.Set(k, v)
					advanced = true
				}
			}
			if !advanced {
				yield(zero, &Error{Kind: KindBadResponse, Method: http.MethodGet, Path: path, Message: "next link does not advance the page"})
				return
			}
		}
	}
}

func searchRequest(path string, vals url.Values, hdr http.Header) request {
	q := url.Values{}
	for k, v := range vals {
		if k != "conditions" {
			q[k] = v
		}
	}
	return request{method: http.MethodPost, path: path + "/search", query: q, header: hdr,
		body: map[string]string{"conditions": vals.Get("conditions")}, idempotent: true}
}

// decodeArray streams a JSON array, yielding each element, so a 1000-row
// page is never held in memory twice.
func decodeArray[T any](rd io.Reader, yield func(T, error) bool) (n int, stop bool, err error) {
	dec := json.NewDecoder(rd)
	tok, err := dec.Token()
	if err != nil {
		return 0, false, describeJSONError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return 0, false, errors.New("expected a JSON array")
	}
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			return n, false, describeJSONError(err)
		}
		n++
		if !yield(v, nil) {
			return n, true, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return n, false, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return n, false, errors.New("unexpected data after the JSON array")
	}
	return n, false, nil
}

// nextLink finds rel="next" in an RFC 5988 Link header.
func nextLink(h http.Header) (url.Values, bool) {
	for _, line := range h.Values("Link") {
		for _, part := range splitLinks(line) {
			start, end := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if start < 0 || end < start {
				continue
			}
			params := strings.ToLower(part[end+1:])
			if !strings.Contains(params, `rel="next"`) && !strings.Contains(params, "rel=next") {
				continue
			}
			u, err := url.Parse(strings.TrimSpace(part[start+1 : end]))
			if err != nil {
				return nil, false
			}
			return u.Query(), true
		}
	}
	return nil, false
}

// splitLinks splits on commas outside <...>.
func splitLinks(s string) []string {
	var out []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}

// Collect drains an iterator into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Count returns how many records of path match cond (GET …/count).
func (c *Client) Count(ctx context.Context, path string, cond Cond) (int, error) {
	if err := cond.Err(); err != nil {
		return 0, withPath(err, http.MethodGet, path+"/count")
	}
	q := url.Values{}
	if s := cond.String(); s != "" {
		q.Set("conditions", s)
	}
	var out struct {
		Count *int `json:"count"`
	}
	if err := c.getJSON(ctx, path+"/count", q, &out); err != nil {
		return 0, err
	}
	if out.Count == nil {
		return 0, &Error{Kind: KindBadResponse, Method: http.MethodGet, Path: path + "/count", Message: `answer has no "count"`}
	}
	return *out.Count, nil
}

func withPath(err error, method, path string) error {
	var e *Error
	if errors.As(err, &e) && e.Method == "" {
		cp := *e
		cp.Method, cp.Path = method, path
		return &cp
	}
	return err
}
