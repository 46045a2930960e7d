// Package health is the Health page: queue depth, retries, failures with
// their reasons, per-company errors and the last ConnectWise error, with
// retry and discard for failed work.
package health

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Model is the Health page.
type Model struct {
	c      *common.Common
	h      common.Health
	have   bool
	failed []storage.OutboxItem
	cursor int
	offset int
	w, hgt int

	// The cursor runs over the per-company errors, then the failed items:
	// every reason on the page can be opened in full (enter).
	detail bool
	dv     widget.Detail
}

// New builds the page.
func New(c *common.Common) *Model { return &Model{c: c, dv: widget.NewDetail()} }

// companies are the workspaces with an error, in order.
func (m *Model) companies() []string { return slices.Sorted(maps.Keys(m.h.CompanyErrors)) }

func (m *Model) numRows() int { return len(m.h.CompanyErrors) + len(m.failed) }

// failedAt is the failed item under cursor i, if i is on one.
func (m *Model) failedAt(i int) (storage.OutboxItem, bool) {
	i -= len(m.h.CompanyErrors)
	if i < 0 || i >= len(m.failed) {
		return storage.OutboxItem{}, false
	}
	return m.failed[i], true
}

type (
	failedMsg struct {
		items  []storage.OutboxItem
		err    error
		reload bool // asked for with l: say what was found
	}
	actedMsg struct {
		what string
		n    int
		err  error
	}
)

func (m *Model) Init() tea.Cmd { return m.loadFailed() }

func (m *Model) loadFailed() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageHealth, func() tea.Msg {
		it, err := st.FailedItems()
		return failedMsg{items: it, err: err}
	})
}

// reload is l: the same, and it says what it found.
func (m *Model) reload() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageHealth, func() tea.Msg {
		it, err := st.FailedItems()
		return failedMsg{items: it, err: err, reload: true}
	})
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.HealthMsg:
		changed := !m.have || msg.Health.Failed != m.h.Failed
		m.h, m.have = msg.Health, true
		if changed {
			return m.loadFailed()
		}
		return nil
	case failedMsg:
		m.failed = msg.items
		m.cursor = min(m.cursor, max(0, m.numRows()-1))
		switch {
		case msg.err != nil:
			return common.Status("cannot read the failed items: "+msg.err.Error(), true)
		case msg.reload:
			return common.Status(fmt.Sprintf("reloaded: %d failed item(s)", len(msg.items)), false)
		}
		return nil
	case actedMsg:
		if msg.err != nil {
			return tea.Batch(common.Status(msg.what+": "+msg.err.Error(), true), m.loadFailed())
		}
		return tea.Batch(common.Status(fmt.Sprintf("%s: %d item(s)", msg.what, msg.n), false), m.loadFailed())
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.detail {
		switch {
		case key.Matches(k, keys.Close):
			m.detail = false
			return nil
		case m.dv.Scroll(k):
			return nil
		}
	}
	it, onItem := m.failedAt(m.cursor)
	switch c, nav := m.c.Keys.MoveCursor(k, m.cursor, m.numRows(), 10); {
	case nav:
		m.cursor = c
		m.dv.Top()
	case key.Matches(k, keys.Open):
		if m.numRows() > 0 {
			m.detail = true
			m.dv.Top()
		}
	case key.Matches(k, keys.Retry):
		if cmd := m.c.Refuse("retry failed items"); cmd != nil {
			return cmd
		}
		if !onItem {
			return common.Status("no failed item selected: nothing to retry", false)
		}
		return m.act("queued again", []storage.OutboxItem{it}, true)
	case key.Matches(k, keys.RetryAll):
		if cmd := m.c.Refuse("retry failed items"); cmd != nil {
			return cmd
		}
		if len(m.failed) == 0 {
			return common.Status("nothing has failed: nothing to retry", false)
		}
		// The question names the items it was asked about: the list may
		// reload before the answer.
		return common.Confirm(fmt.Sprintf("Queue all %d failed items again?", len(m.failed)), m.act("queued again", slices.Clone(m.failed), true))
	case key.Matches(k, keys.Discard):
		if cmd := m.c.Refuse("discard failed items"); cmd != nil {
			return cmd
		}
		if !onItem {
			return common.Status("no failed item selected: nothing to discard", false)
		}
		return common.Confirm(fmt.Sprintf("Discard item %d for good? It will not be sent.", it.Seq), m.act("discarded", []storage.OutboxItem{it}, false))
	case key.Matches(k, keys.Reload):
		return m.reload()
	}
	return nil
}

// act retries or discards items in one transaction.
func (m *Model) act(what string, items []storage.OutboxItem, retry bool) tea.Cmd {
	seqs := make([]uint64, len(items))
	for i, it := range items {
		seqs[i] = it.Seq
	}
	st := m.c.Store
	return common.Route(common.PageHealth, func() tea.Msg {
		err := st.Update(func(t *storage.Tx) error {
			for _, s := range seqs {
				var err error
				if retry {
					_, err = t.RetryFailed(s)
				} else {
					err = t.DiscardFailed(s)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		return actedMsg{what: what, n: len(seqs), err: err}
	})
}

func (m *Model) SetSize(w, h int) { m.w, m.hgt = w, h }
func (m *Model) Capturing() bool  { return false }
func (m *Model) Dirty() bool      { return false }

func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	h := m.h
	row := func(k, v string) { b.WriteString("  " + st.Label.Render(widget.Fit(k, 14)) + " " + v + "\n") }
	cw := h.ConnectWise
	switch {
	case !m.have:
		cw = st.Muted.Render("waiting for the engine…")
	case cw == "ok":
		cw = st.OK.Render("● ok")
	case cw == "unconfigured":
		cw = st.Muted.Render("○ not set up (Setup page)")
	default:
		cw = st.Error.Render("✗ " + cw)
	}
	b.WriteString(st.Subtitle.Render("Engine") + "\n")
	row("ConnectWise", cw)
	state := st.OK.Render("running")
	if h.Paused {
		state = st.Warn.Render("paused") + " " + h.PauseReason
	}
	row("Forwarding", widget.Trunc(state, m.w-18))
	row("Queue", fmt.Sprintf("%d waiting", h.Queue))
	row("Retries", fmt.Sprintf("%d since start", h.Retries))
	failed := fmt.Sprintf("%d", h.Failed)
	if h.Failed > 0 {
		failed = st.Error.Render(failed + " given up (below)")
	}
	row("Failed", failed)
	last := st.Muted.Render("none")
	if h.LastError != "" {
		// In full, wrapped under its label: the reason is often at the end.
		lines := strings.Split(ansi.Wrap(h.LastError+"  "+m.c.Since(h.LastErrorAt), max(10, m.w-18), " /,;"), "\n")
		for i := range lines {
			lines[i] = st.Error.Render(lines[i])
		}
		last = strings.Join(lines, "\n"+strings.Repeat(" ", 18))
	}
	row("Last error", last)
	if m.detail && m.numRows() > 0 {
		return b.String() + "\n" + m.detailView(max(1, m.hgt-strings.Count(b.String(), "\n")-1))
	}
	if len(h.CompanyErrors) > 0 {
		b.WriteString("\n" + st.Subtitle.Render("Per-company errors") + "\n")
		for i, k := range m.companies() {
			cur := "  "
			if i == m.cursor {
				cur = st.Cursor.Render("▸ ")
			}
			b.WriteString(cur + st.Label.Render(widget.Fit(k, 14)) + " " + st.Error.Render(widget.Trunc(h.CompanyErrors[k], m.w-18)) + "\n")
		}
	}
	b.WriteString("\n" + st.Subtitle.Render(fmt.Sprintf("Failed work (%d)", len(m.failed))) + "\n")
	if len(m.failed) == 0 {
		b.WriteString(st.Muted.Render("  nothing has failed") + "\n")
	} else {
		tb := widget.NewTable(widget.Col{Title: "Seq", Keep: true}, widget.Col{Title: "Kind"}, widget.Col{Title: "Ref", Keep: true}, widget.Col{Title: "Failed"}, widget.Col{Title: "Reason", Flex: true})
		tb.SetRows(len(m.failed), m.failedCells)
		tb.SetSize(m.w, 0)
		b.WriteString("  " + st.Muted.Render(tb.Line([]string{"Seq", "Kind", "Ref", "Failed", "Reason"})) + "\n")
		used := strings.Count(b.String(), "\n")
		lh := max(1, m.hgt-used-2)
		fc := m.cursor - len(h.CompanyErrors) // the cursor among the failed items
		m.offset = widget.Window(max(0, fc), m.offset, lh, len(m.failed))
		for i := m.offset; i < min(len(m.failed), m.offset+lh); i++ {
			line := tb.Line(m.failedCells(i))
			if i == fc {
				b.WriteString(st.Cursor.Render("▸ ") + st.Selected.Render(line) + "\n")
			} else {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	return b.String()
}

// failedCells is failed item i's row.
func (m *Model) failedCells(i int) []string {
	it := m.failed[i]
	reason := it.LastError
	if it.Attempts > 0 {
		reason = fmt.Sprintf("%s (after %d tries)", reason, it.Attempts)
	}
	return []string{fmt.Sprint(it.Seq), string(it.Kind), it.Ref, m.c.Since(it.FailedAt), reason}
}

// detailView shows the reason under the cursor in full, wrapped and
// scrollable, in h lines.
func (m *Model) detailView(h int) string {
	st := m.c.Styles
	var b strings.Builder
	row := func(k, v string) { b.WriteString(st.Label.Render(widget.Fit(k, 10)) + " " + v + "\n") }
	if it, ok := m.failedAt(m.cursor); ok {
		b.WriteString(st.Subtitle.Render(fmt.Sprintf("Failed item %d", it.Seq)) + "\n")
		row("Kind", string(it.Kind))
		row("Ref", it.Ref)
		row("Failed", m.c.Since(it.FailedAt))
		row("Attempts", fmt.Sprint(it.Attempts))
		b.WriteString("\n" + st.Error.Render(it.LastError))
	} else if cos := m.companies(); m.cursor < len(cos) {
		b.WriteString(st.Subtitle.Render("Error for "+cos[m.cursor]) + "\n\n")
		b.WriteString(st.Error.Render(m.h.CompanyErrors[cos[m.cursor]]))
	}
	m.dv.SetSize(m.w, max(1, h-1))
	m.dv.SetContent(b.String())
	return m.dv.View() + "\n" + st.Muted.Render(m.dv.More())
}
