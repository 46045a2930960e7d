// Package activity is the Activity page: who changed which setting, when
// and how, newest first, from the audit log. It follows the store's change
// stream, so another technician's save shows up without a refresh.
package activity

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Keep is how many recent changes the page reads.
const Keep = 500

// auditedKinds are the change kinds that audited writes publish: every
// new audit entry arrives with one of them.
var auditedKinds = []storage.ChangeKind{storage.ChangeSettings, storage.ChangeProducts, storage.ChangeWorkspaces, storage.ChangeRoutes}

// Model is the Activity page.
type Model struct {
	c       *common.Common
	entries []storage.AuditEntry // newest first
	shown   []int                // indexes into entries
	loaded  bool
	err     string

	who       widget.Field
	filtering bool

	detail bool
	dv     widget.Detail

	table widget.Table
	w, h  int
}

// When is short and kept whole; who and what give way before it, and show
// whole in the details.
var columns = []widget.Col{{Title: "When", Keep: true}, {Title: "Who", Keep: true}, {Title: "What", Keep: true}, {Title: "Changed"}}

// New builds the page.
func New(c *common.Common) *Model {
	return &Model{c: c, who: widget.NewField("Who", "technician", nil), dv: widget.NewDetail(), table: widget.NewTable(columns...)}
}

type loadedMsg struct {
	entries []storage.AuditEntry
	err     error
}

// agoEvery redraws the page so "3m ago" stays true on a quiet system,
// where no change or health push would redraw it.
const agoEvery = 30 * time.Second

type agoMsg struct{}

func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.load(), common.Watch(m.c, common.PageActivity, auditedKinds...), m.agoTick())
}

func (m *Model) agoTick() tea.Cmd {
	return common.Route(common.PageActivity, m.c.Tick(agoEvery, func(time.Time) tea.Msg { return agoMsg{} }))
}

func (m *Model) load() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageActivity, func() tea.Msg {
		es, err := st.AuditLog(Keep)
		return loadedMsg{es, err}
	})
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		m.loaded = true
		m.err = ""
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.setEntries(msg.entries)
		return nil
	case agoMsg:
		return m.agoTick() // the redraw after Update renders the new "ago"
	case common.ChangesMsg:
		// The changes say only that something was written; the audit log
		// says who and how. One read per batch.
		return tea.Batch(m.load(), msg.Next)
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		if m.filtering {
			return m.typeFilter(msg)
		}
	}
	return nil
}

// setEntries replaces the list, keeping the selected change selected
// (new ones arrive on top).
func (m *Model) setEntries(es []storage.AuditEntry) {
	var sel uint64
	if e, ok := m.selected(); ok && (m.table.Cursor() > 0 || m.detail) {
		sel = e.Seq
	}
	m.entries = es
	m.refilter()
	if sel == 0 {
		return
	}
	for i, j := range m.shown {
		if m.entries[j].Seq == sel {
			m.table.SetCursor(i)
			return
		}
	}
}

func (m *Model) match(e *storage.AuditEntry) bool {
	q := widget.Lower(m.who.Value())
	return q == "" || strings.Contains(widget.Lower(e.Actor), q)
}

func (m *Model) refilter() {
	m.shown = m.shown[:0]
	for i := range m.entries {
		if m.match(&m.entries[i]) {
			m.shown = append(m.shown, i)
		}
	}
	m.table.SetRows(len(m.shown), func(i int) []string { return m.cells(&m.entries[m.shown[i]]) })
}

func (m *Model) cells(e *storage.AuditEntry) []string {
	what := e.Subject
	if e.Action == "delete" {
		what += " (deleted)"
	}
	return []string{m.c.Since(e.Time), e.Actor, what, strings.Join(e.Changed, ", ")}
}

func (m *Model) selected() (*storage.AuditEntry, bool) {
	c := m.table.Cursor()
	if c >= len(m.shown) {
		return nil, false
	}
	return &m.entries[m.shown[c]], true
}

// typeFilter passes typed or pasted text to the who filter.
func (m *Model) typeFilter(msg tea.Msg) tea.Cmd {
	cmd := m.who.Update(msg)
	m.table.SetCursor(0)
	m.detail = false
	m.refilter()
	return cmd
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.filtering {
		if key.Matches(k, keys.Apply) || key.Matches(k, keys.ClearFilter) {
			if key.Matches(k, keys.ClearFilter) {
				m.who.SetValue("")
			}
			m.filtering = false
			m.who.Blur()
			m.refilter()
			return nil
		}
		return m.typeFilter(k)
	}
	if m.detail && key.Matches(k, keys.Close) {
		m.detail = false
		return nil
	}
	if m.detail && m.dv.Scroll(k) {
		return nil
	}
	m.sizeTable()
	prev := m.table.Cursor()
	switch {
	case key.Matches(k, keys.Who):
		m.filtering = true
		return m.who.Focus()
	case m.table.Update(k):
	case key.Matches(k, keys.Details):
		m.detail = !m.detail && len(m.shown) > 0
	}
	if m.detail && m.table.Cursor() != prev {
		m.dv.Top()
	}
	return nil
}

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.who.SetWidth(24)
}

func (m *Model) sideBySide() bool { return m.w >= 120 }

func (m *Model) listHeight() int {
	h := m.h - 3
	if m.detail && !m.sideBySide() {
		h = max(3, h/2-1)
	}
	return h
}

func (m *Model) sizeTable() {
	w := m.w
	if m.detail && m.sideBySide() {
		w = m.w / 2
	}
	m.table.SetSize(w, m.listHeight()+1)
}

func (m *Model) Capturing() bool { return m.filtering }
func (m *Model) Dirty() bool     { return false }

func (m *Model) filterLine() string {
	st := m.c.Styles
	left := "who " + st.Muted.Render("all")
	switch {
	case m.filtering:
		left = m.who.View(st, 4)
	case m.who.Value() != "":
		left = "who " + st.Bold.Render(m.who.Value())
	}
	return left + "   " + st.Muted.Render(fmt.Sprintf("%d of %d changes", len(m.shown), len(m.entries)))
}

func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(m.filterLine() + "\n")
	m.sizeTable()
	var list string
	switch {
	case m.err != "" && len(m.entries) == 0:
		list = st.Error.Render("  ✗ cannot read the audit log: " + m.err)
	case !m.loaded:
		list = st.Muted.Render("  loading…")
	case len(m.entries) == 0:
		list = st.Muted.Render("  no changes yet: every saved setting shows here, with who saved it")
	case len(m.shown) == 0:
		list = st.Muted.Render("  nobody matching \"" + m.who.Value() + "\" changed anything (esc on / clears it)")
	default:
		list = m.table.View(st, func(i int) lipgloss.Style {
			if m.entries[m.shown[i]].Action == "delete" {
				return st.Warn
			}
			return lipgloss.NewStyle()
		})
	}
	if m.err != "" && len(m.entries) > 0 {
		list += "\n" + st.Error.Render("  ✗ some entries are unreadable: "+m.err)
	}
	if !m.detail {
		b.WriteString(list)
		return b.String()
	}
	if m.sideBySide() {
		h := m.h - 1
		left := widget.Lines(list, m.w/2, h)
		right := widget.Lines(m.detailView(m.w-m.w/2-2, h), m.w-m.w/2-2, h)
		ls, rs := strings.Split(left, "\n"), strings.Split(right, "\n")
		for i := range ls {
			b.WriteString(ls[i] + st.Rule.Render("│ ") + rs[i])
			if i < len(ls)-1 {
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
	h := m.listHeight()
	b.WriteString(widget.Lines(list, m.w, h+1) + "\n")
	b.WriteString(st.Rule.Render(strings.Repeat("─", m.w)) + "\n")
	b.WriteString(m.detailView(m.w, m.h-h-3))
	return b.String()
}

// detailView is the selected change in w×h, scrolled, saying when there
// is more.
func (m *Model) detailView(w, h int) string {
	e, ok := m.selected()
	if !ok {
		return ""
	}
	m.dv.SetSize(w, max(1, h-1))
	m.dv.SetContent(describe(m.c, e))
	return m.dv.View() + "\n" + m.c.Styles.Muted.Render(m.dv.More())
}
