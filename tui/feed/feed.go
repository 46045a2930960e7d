// Package feed is the live Feed page: ticket events as they happen,
// newest first, filterable, with a detail pane. It reads storage's
// non-blocking change stream, so a slow screen never holds up the engine.
package feed

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Keep is how many events the page holds in memory.
const Keep = 10000

var kinds = []storage.FeedKind{"", storage.FeedCreated, storage.FeedNoted, storage.FeedClosed, storage.FeedReopened, storage.FeedAction, storage.FeedFailed, storage.FeedDropped, storage.FeedBilling}
var severities = append([]string{""}, storage.Severities...) // "" is "any"

// Model is the Feed page.
type Model struct {
	c      *common.Common
	events []storage.FeedEvent // oldest first
	shown  []int               // indexes into events, newest first
	loaded bool
	err    string

	kind      int // index into kinds
	sev       int // index into severities
	company   widget.Field
	filtering bool

	detail bool
	det    detail
	dv     widget.Detail // the detail pane: wraps and scrolls det

	// table lays the columns out; natural is each column's widest cell,
	// grown as events arrive (measuring 10,000 events per frame would not
	// keep a frame under 2 ms).
	table   widget.Table
	natural []int
	w, h    int
}

// New builds the page.
func New(c *common.Common) *Model {
	m := &Model{c: c, company: widget.NewField("Company", "workspace key", nil), dv: widget.NewDetail(),
		table: widget.NewTable(columns...), natural: make([]int, len(columns))}
	m.table.SetNatural(m.natural) // grown by measure as events come, never re-measured whole
	return m
}

// measure grows the columns' natural widths to fit evs.
func (m *Model) measure(evs []storage.FeedEvent) {
	for i := range evs {
		for c, s := range m.cells(&evs[i]) {
			m.natural[c] = max(m.natural[c], lipgloss.Width(s))
		}
	}
}

type recentMsg struct {
	events []storage.FeedEvent
	err    error
}

func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.loadRecent(), common.Watch(m.c, common.PageFeed, storage.ChangeFeed))
}

func (m *Model) loadRecent() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageFeed, func() tea.Msg {
		evs, err := st.RecentFeed(Keep)
		return recentMsg{evs, err}
	})
}

// SetEvents replaces the events (oldest first); for tests and benchmarks.
func (m *Model) SetEvents(evs []storage.FeedEvent) {
	m.loaded = true
	m.events = evs
	if len(m.events) > Keep {
		m.events = m.events[len(m.events)-Keep:]
	}
	m.measure(m.events)
	m.refilter()
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case recentMsg:
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.SetEvents(msg.events)
		return nil
	case common.ChangesMsg:
		if msg.Missed {
			return tea.Batch(m.loadRecent(), msg.Next)
		}
		var evs []storage.FeedEvent
		for _, ch := range msg.Changes {
			if ch.Kind == storage.ChangeFeed {
				evs = append(evs, ch.Event)
			}
		}
		m.Append(evs)
		return msg.Next
	case detailMsg:
		if m.detail && msg.seq == m.det.ev.Seq {
			m.det.apply(msg)
		}
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		if m.filtering {
			return m.typeFilter(msg)
		}
	}
	return nil
}

// typeFilter passes typed or pasted text to the company filter.
func (m *Model) typeFilter(msg tea.Msg) tea.Cmd {
	cmd := m.company.Update(msg)
	m.table.SetCursor(0)
	m.detail = false
	m.refilter()
	return cmd
}

// Append adds new events. The view stays on the selected event: at the
// top it follows the newest, further down it keeps its place.
func (m *Model) Append(evs []storage.FeedEvent) {
	if len(evs) == 0 {
		return
	}
	last := uint64(0)
	if n := len(m.events); n > 0 {
		last = m.events[n-1].Seq
	}
	added := 0
	for _, ev := range evs {
		if ev.Seq <= last {
			continue // already loaded by RecentFeed
		}
		m.events = append(m.events, ev)
		m.measure(m.events[len(m.events)-1:])
		last = ev.Seq
		if m.match(&m.events[len(m.events)-1]) {
			added++
		}
	}
	if drop := len(m.events) - Keep; drop > 0 {
		m.events = append(m.events[:0], m.events[drop:]...)
	}
	follow := m.table.Cursor() == 0 && !m.detail // the open detail pins the selection
	m.refilter()
	if !follow {
		m.table.Shift(added)
	}
}

func (m *Model) match(ev *storage.FeedEvent) bool {
	if k := kinds[m.kind]; k != "" && ev.Kind != k {
		return false
	}
	if s := severities[m.sev]; s != "" && !strings.EqualFold(ev.Severity, s) {
		return false
	}
	if q := widget.Lower(m.company.Value()); q != "" && !strings.Contains(widget.Lower(ev.Company), q) {
		return false
	}
	return true
}

func (m *Model) refilter() {
	m.shown = m.shown[:0]
	for i := len(m.events) - 1; i >= 0; i-- {
		if m.match(&m.events[i]) {
			m.shown = append(m.shown, i)
		}
	}
	m.table.SetRows(len(m.shown), m.rowCells)
}

func (m *Model) rowCells(i int) []string { return m.cells(&m.events[m.shown[i]]) }

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.filtering {
		switch {
		case key.Matches(k, keys.Apply), key.Matches(k, keys.ClearFilter):
			if key.Matches(k, keys.ClearFilter) {
				m.company.SetValue("")
			}
			m.filtering = false
			m.company.Blur()
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
	case key.Matches(k, keys.Company):
		m.filtering = true
		return m.company.Focus()
	case m.table.Update(k):
	case key.Matches(k, keys.Kind):
		m.detail = false
		m.kind = (m.kind + 1) % len(kinds)
		m.table.SetCursor(0)
		m.refilter()
	case key.Matches(k, keys.Severity):
		m.detail = false
		m.sev = (m.sev + 1) % len(severities)
		m.table.SetCursor(0)
		m.refilter()
	case key.Matches(k, keys.Clear):
		m.detail = false
		m.kind, m.sev = 0, 0
		m.company.SetValue("")
		m.refilter()
	case key.Matches(k, keys.Details):
		if m.detail {
			m.detail = false
			return nil
		}
		return m.openDetail()
	}
	if m.detail && m.table.Cursor() != prev {
		return m.openDetail()
	}
	return nil
}

func (m *Model) selected() (*storage.FeedEvent, bool) {
	c := m.table.Cursor()
	if c >= len(m.shown) {
		return nil, false
	}
	return &m.events[m.shown[c]], true
}

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.company.SetWidth(24)
}

// sizeTable fits the table to the list's area: the whole width, or the
// left half beside the detail.
func (m *Model) sizeTable() {
	w := m.w
	if m.detail && m.sideBySide() {
		w = m.w / 2
	}
	m.table.SetNatural(m.natural)
	m.table.SetSize(w, m.listHeight()+1)
}

func (m *Model) listHeight() int {
	h := m.h - 3
	if m.detail && !m.sideBySide() {
		h = max(3, h/2-1)
	}
	return h
}

func (m *Model) sideBySide() bool { return m.w >= 120 }

func (m *Model) Capturing() bool { return m.filtering }
func (m *Model) Dirty() bool     { return false }

func (m *Model) filterLine() string {
	st := m.c.Styles
	val := func(s string) string {
		if s == "" {
			return st.Muted.Render("all")
		}
		return st.Bold.Render(s)
	}
	co := m.company.Value()
	var left string
	if m.filtering {
		left = m.company.View(st, 8)
	} else {
		left = "company " + val(co)
	}
	return fmt.Sprintf("%s   kind %s   severity %s   %s", left, val(string(kinds[m.kind])), val(severities[m.sev]),
		st.Muted.Render(fmt.Sprintf("%d of %d events", len(m.shown), len(m.events))))
}

// columns are the event list's: the company (a workspace key) and the
// ticket number are what a technician looks up, and a time cut to
// "07:20:…" says nothing, so they are kept whole.
var columns = []widget.Col{{Title: "Time", Keep: true}, {Title: "Kind"}, {Title: "Severity"},
	{Title: "Company", Keep: true}, {Title: "Ticket", Keep: true}, {Title: "What"}}

// cells are one event's row.
func (m *Model) cells(ev *storage.FeedEvent) []string {
	ticket := ""
	if ev.TicketID != 0 {
		ticket = "#" + strconv.Itoa(ev.TicketID)
	}
	return []string{ev.Time.In(timeZone(m.c)).Format("15:04:05"), string(ev.Kind), ev.Severity, ev.Company, ticket, ev.Message}
}

func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(m.filterLine() + "\n")
	m.sizeTable()
	titles := make([]string, len(columns))
	for i, c := range columns {
		titles[i] = c.Title
	}
	var list strings.Builder
	list.WriteString("  " + st.Muted.Render(m.table.Line(titles)) + "\n")
	switch {
	case m.err != "":
		list.WriteString(st.Error.Render("  ✗ " + m.err))
	case !m.loaded:
		list.WriteString(st.Muted.Render("  loading…"))
	case len(m.events) == 0:
		list.WriteString(st.Muted.Render("  no events yet: tickets appear here as incidents arrive"))
	case len(m.shown) == 0:
		list.WriteString(st.Muted.Render("  no event matches the filters (x clears them)"))
	default:
		list.Reset() // the table draws its own header
		list.WriteString(m.table.View(st, func(i int) lipgloss.Style {
			switch m.events[m.shown[i]].Kind {
			case storage.FeedFailed, storage.FeedDropped:
				return st.Error
			case storage.FeedClosed:
				return st.Muted
			}
			return lipgloss.NewStyle()
		}))
	}
	if !m.detail {
		b.WriteString(list.String())
		return b.String()
	}
	if m.sideBySide() {
		left := widget.Lines(list.String(), m.w/2, m.h-1)
		right := widget.Lines(m.detailView(m.w-m.w/2-2, m.h-1), m.w-m.w/2-2, m.h-1)
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
	b.WriteString(widget.Lines(list.String(), m.w, h+1) + "\n")
	b.WriteString(st.Rule.Render(strings.Repeat("─", m.w)) + "\n")
	b.WriteString(m.detailView(m.w, m.h-h-3))
	return b.String()
}

// detailView is the detail pane in w×h: wrapped, scrolled, and saying
// when there is more.
func (m *Model) detailView(w, h int) string {
	m.dv.SetSize(w, max(1, h-1))
	m.dv.SetContent(m.det.view(m.c))
	return m.dv.View() + "\n" + m.c.Styles.Muted.Render(m.dv.More())
}
