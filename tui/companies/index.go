// Package companies is the Companies page: the cached ConnectWise
// companies (instant fuzzy filter, sort, paging over 20,000 rows) and our
// workspaces bound to them.
package companies

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// SortBy orders the company list.
type SortBy int

const (
	SortName SortBy = iota
	SortIdentifier
	SortID
	numSorts
)

var sortNames = [...]string{"name", "identifier", "id"}

// Index is the filterable, sortable view of the cache. Sort orders are
// computed once per load; a keystroke only scores candidates, and a query
// that extends the previous one scores only the previous matches.
type Index struct {
	rows  []storage.Company
	hay   []string // lower-cased "name identifier id"
	order [numSorts][]int32
	rank  []int32 // position of each row in the current order
	sort  SortBy

	widths [4]int // widest id, identifier, name (with " (deleted)"), workspace: 0

	query   string
	matched []int32 // rows matching query, any order (incremental base)
	result  []int32 // what is shown, in order
	scored  []scoredRow
}

type scoredRow struct{ row, score, rank int32 }

// Widths are the widest id, identifier and name over all rows (measured
// once, at load), and a 0 for the workspace column.
func (x *Index) Widths() []int { w := x.widths; return w[:] }

// NewIndex indexes rows.
func NewIndex(rows []storage.Company) *Index {
	x := &Index{rows: rows, hay: make([]string, len(rows)), rank: make([]int32, len(rows))}
	for i, c := range rows {
		x.hay[i] = widget.Lower(c.Name + " " + c.Identifier + " " + strconv.Itoa(c.ID))
		name := ansi.StringWidth(c.Name)
		if c.Deleted {
			name += len(" (deleted)")
		}
		x.widths[0] = max(x.widths[0], len(strconv.Itoa(c.ID)))
		x.widths[1] = max(x.widths[1], ansi.StringWidth(c.Identifier))
		x.widths[2] = max(x.widths[2], name)
	}
	for s := range numSorts {
		o := make([]int32, len(rows))
		for i := range o {
			o[i] = int32(i)
		}
		slices.SortStableFunc(o, func(a, b int32) int { return compareBy(s, &rows[a], &rows[b]) })
		x.order[s] = o
	}
	x.SetSort(SortName)
	return x
}

func compareBy(s SortBy, a, b *storage.Company) int {
	switch s {
	case SortIdentifier:
		return cmp.Or(cmpFold(a.Identifier, b.Identifier), cmp.Compare(a.ID, b.ID))
	case SortID:
		return cmp.Compare(a.ID, b.ID)
	}
	return cmp.Or(cmpFold(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

func cmpFold(a, b string) int {
	// Avoid allocating for the common ASCII case.
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

// Len is the number of cached companies.
func (x *Index) Len() int { return len(x.rows) }

// Row returns a company by row index.
func (x *Index) Row(i int32) *storage.Company { return &x.rows[i] }

// Sort is the current order.
func (x *Index) Sort() SortBy { return x.sort }

// SetSort changes the order and re-applies the filter.
func (x *Index) SetSort(s SortBy) {
	x.sort = s
	for pos, row := range x.order[s] {
		x.rank[row] = int32(pos)
	}
	q := x.query
	x.query, x.matched = "", nil
	x.Filter(q)
}

// Filter applies a query and returns the rows to show, best first (ties
// in the current sort order). The slice is reused by the next call.
func (x *Index) Filter(q string) []int32 {
	q = widget.Lower(strings.TrimSpace(q))
	if q == "" {
		x.query, x.matched = "", nil
		x.result = append(x.result[:0], x.order[x.sort]...)
		return x.result
	}
	cands := x.order[x.sort]
	if x.query != "" && strings.HasPrefix(q, x.query) && x.matched != nil {
		cands = x.matched
	}
	sc := x.scored[:0]
	for _, row := range cands {
		if s := widget.Match(q, x.hay[row]); s > 0 {
			sc = append(sc, scoredRow{row, int32(s), x.rank[row]})
		}
	}
	slices.SortFunc(sc, func(a, b scoredRow) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.rank, b.rank)) })
	x.scored = sc
	x.result = x.result[:0]
	matched := make([]int32, 0, len(sc))
	for _, s := range sc {
		x.result = append(x.result, s.row)
		matched = append(matched, s.row)
	}
	x.query, x.matched = q, matched
	return x.result
}
