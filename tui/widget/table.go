package widget

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/tui/common"
)

// Col is one column of a Table.
type Col struct {
	Title string
	// Keep marks an id or identifier (what an admin types elsewhere): it is
	// cut only when every other column is down to its minimum.
	Keep bool
	// Max caps the column (0: none), for free text that would take all.
	Max int
	// Flex takes the room left over (default: the last column).
	Flex bool
}

// minCol is how narrow a column other than a kept one may get.
const minCol = 6

// Table is a list of rows in columns that size to their content and the
// width (gh-dash's table): when the content is wider than the screen the
// widest column gives way first, ids and identifiers last, and a cut cell
// always ends in "…". It keeps a cursor, scrolls to it and pages.
type Table struct {
	Cols []Col

	n       int
	row     func(i int) []string
	natural []int
	fixed   bool // natural widths were given by the owner
	cursor  int
	offset  int
	w, h    int
	widths  []int
	keys    common.Keys
}

// NewTable builds a table with these columns.
func NewTable(cols ...Col) Table { return Table{Cols: cols, keys: common.DefaultKeys()} }

// SetRows sets n rows, read through row(i) only for what is drawn. The
// columns are measured over every row unless the owner gave widths with
// SetNatural (large lists measure once per load, not per keystroke).
func (t *Table) SetRows(n int, row func(i int) []string) {
	t.n, t.row = n, row
	t.cursor = min(t.cursor, max(0, n-1))
	if !t.fixed {
		t.natural = make([]int, len(t.Cols))
		for i := range n {
			t.measure(row(i))
		}
	}
	t.layout()
}

// SetNatural gives each column's widest content.
func (t *Table) SetNatural(w []int) {
	t.natural, t.fixed = w, true
	t.layout()
}

func (t *Table) measure(cells []string) {
	for c, s := range cells {
		if c < len(t.natural) {
			t.natural[c] = max(t.natural[c], lipgloss.Width(s))
		}
	}
}

// Measure returns the widest cell of each column over rows (for SetNatural).
func Measure(ncols, n int, row func(i int) []string) []int {
	t := Table{natural: make([]int, ncols)}
	for i := range n {
		t.measure(row(i))
	}
	return t.natural
}

// SetSize sets the area: h lines including the header.
func (t *Table) SetSize(w, h int) {
	t.w, t.h = w, h
	t.layout()
}

// layout sizes the columns: each to its content (and title), then, while
// too wide, one cell off the widest column that may still give.
func (t *Table) layout() {
	n := len(t.Cols)
	t.widths = make([]int, n)
	total := 0
	for i, c := range t.Cols {
		w := lipgloss.Width(c.Title)
		if i < len(t.natural) {
			w = max(w, t.natural[i])
		}
		if c.Max > 0 {
			w = min(w, max(c.Max, lipgloss.Width(c.Title)))
		}
		t.widths[i] = w
		total += w
	}
	avail := t.w - 2 - max(0, n-1) // the cursor column and the gaps
	for _, keep := range []bool{false, true} {
		for total > avail {
			widest := -1
			for i, c := range t.Cols {
				if c.Keep == keep && t.widths[i] > minCol && (widest < 0 || t.widths[i] > t.widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			t.widths[widest]--
			total--
		}
	}
	// What is left goes to the last column, so the selection bar spans the
	// whole row.
	if total < avail && n > 0 {
		flex := n - 1
		for i, c := range t.Cols {
			if c.Flex {
				flex = i
				break
			}
		}
		t.widths[flex] += avail - total
	}
}

// Widths are the columns' widths as laid out.
func (t *Table) Widths() []int { return t.widths }

// Cursor is the selected row.
func (t *Table) Cursor() int { return t.cursor }

// SetCursor selects row i.
func (t *Table) SetCursor(i int) { t.cursor = max(0, min(i, t.n-1)) }

// Shift moves the cursor and the window down by n rows: n rows were put
// on top, and the view stays where it was.
func (t *Table) Shift(n int) {
	t.cursor = max(0, min(t.cursor+n, t.n-1))
	t.offset += n
}

// Len is the number of rows.
func (t *Table) Len() int { return t.n }

// PageSize is how many rows show at once.
func (t *Table) PageSize() int { return max(1, t.h-1) }

// Update moves the cursor on a navigation key; false for any other key.
func (t *Table) Update(k tea.KeyPressMsg) bool {
	c, ok := t.keys.MoveCursor(k, t.cursor, t.n, t.PageSize())
	if ok {
		t.cursor = c
	}
	return ok
}

// Line lays one row's cells out in the columns.
func (t *Table) Line(cells []string) string { return Row(cells, t.widths) }

// View renders the header and the window of rows around the cursor; style
// (may be nil) styles a row that is not selected.
func (t *Table) View(st *common.Styles, style func(i int) lipgloss.Style) string {
	var b strings.Builder
	titles := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		titles[i] = c.Title
	}
	b.WriteString("  " + st.Muted.Render(Row(titles, t.widths)))
	h := t.PageSize()
	t.offset = Window(t.cursor, t.offset, h, t.n)
	for i := t.offset; i < min(t.n, t.offset+h); i++ {
		line := Row(t.row(i), t.widths)
		b.WriteByte('\n')
		switch {
		case i == t.cursor:
			b.WriteString(st.Cursor.Render("▸ ") + st.Selected.Render(line))
		case style != nil:
			b.WriteString("  " + style(i).Render(line))
		default:
			b.WriteString("  " + line)
		}
	}
	return b.String()
}
