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

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Model is the Health page.
type Model struct {
	c       *common.Common
	h       common.Health
	have    bool
	failed  []storage.OutboxItem
	cursor  int
	offset  int
	confirm string             // "discard" / "retry-all" awaiting y
	target  storage.OutboxItem // the item "discard" asks about
	status  string
	isErr   bool
	w, hgt  int
}

// New builds the page.
func New(c *common.Common) *Model { return &Model{c: c} }

type (
	failedMsg struct {
		items []storage.OutboxItem
		err   error
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
		return failedMsg{it, err}
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
		if msg.err != nil {
			m.setStatus("failed items: "+msg.err.Error(), true)
		}
		m.failed = msg.items
		m.cursor = min(m.cursor, max(0, len(m.failed)-1))
		return nil
	case actedMsg:
		if msg.err != nil {
			m.setStatus(msg.what+": "+msg.err.Error(), true)
		} else {
			m.setStatus(fmt.Sprintf("%s: %d item(s)", msg.what, msg.n), false)
		}
		return m.loadFailed()
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) setStatus(s string, isErr bool) { m.status, m.isErr = s, isErr }

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.confirm != "" {
		what := m.confirm
		m.confirm = ""
		if k.String() != "y" && k.String() != "Y" {
			m.setStatus("", false)
			return nil
		}
		switch what {
		case "discard":
			return m.act("discarded", []storage.OutboxItem{m.target}, false)
		case "retry-all":
			return m.act("queued again", m.failed, true)
		}
		return nil
	}
	keys := m.c.Keys
	switch c, nav := keys.MoveCursor(k, m.cursor, len(m.failed), 10); {
	case nav:
		m.cursor = c
	case k.String() == "r":
		if m.cursor < len(m.failed) {
			return m.act("queued again", []storage.OutboxItem{m.failed[m.cursor]}, true)
		}
	case k.String() == "R":
		if len(m.failed) > 0 {
			m.confirm = "retry-all"
		}
	case k.String() == "x" || k.String() == "delete":
		if m.cursor < len(m.failed) {
			m.confirm, m.target = "discard", m.failed[m.cursor]
		}
	case k.String() == "l":
		return m.loadFailed()
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
func (m *Model) Capturing() bool  { return m.confirm != "" }
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
		last = st.Error.Render(widget.Trunc(h.LastError, m.w-30)) + st.Muted.Render("  "+m.c.Since(h.LastErrorAt))
	}
	row("Last error", last)
	if len(h.CompanyErrors) > 0 {
		b.WriteString("\n" + st.Subtitle.Render("Per-company errors") + "\n")
		for _, k := range slices.Sorted(maps.Keys(h.CompanyErrors)) {
			b.WriteString("  " + st.Label.Render(widget.Fit(k, 14)) + " " + st.Error.Render(widget.Trunc(h.CompanyErrors[k], m.w-18)) + "\n")
		}
	}
	b.WriteString("\n" + st.Subtitle.Render(fmt.Sprintf("Failed work (%d)", len(m.failed))) + "\n")
	if len(m.failed) == 0 {
		b.WriteString(st.Muted.Render("  nothing has failed") + "\n")
	} else {
		cols := []widget.Column{{Title: "Seq", Width: 6}, {Title: "Kind", Width: 8}, {Title: "Ref", Width: 22}, {Title: "Failed", Width: 11}, {Title: "Reason"}}
		widths := widget.Widths(cols, m.w-2)
		b.WriteString("  " + st.Muted.Render(widget.Header(cols, widths)) + "\n")
		used := strings.Count(b.String(), "\n")
		lh := max(1, m.hgt-used-2)
		m.offset = widget.Window(m.cursor, m.offset, lh, len(m.failed))
		for i := m.offset; i < min(len(m.failed), m.offset+lh); i++ {
			it := m.failed[i]
			reason := it.LastError
			if it.Attempts > 0 {
				reason = fmt.Sprintf("%s (after %d tries)", reason, it.Attempts)
			}
			line := widget.Row([]string{fmt.Sprint(it.Seq), string(it.Kind), it.Ref, m.c.Since(it.FailedAt), reason}, widths)
			if i == m.cursor {
				b.WriteString(st.Cursor.Render("▸ ") + st.Selected.Render(line) + "\n")
			} else {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	switch {
	case m.confirm == "discard":
		b.WriteString("\n" + st.Warn.Render(fmt.Sprintf("Discard item %d for good? It will not be sent. y/N", m.target.Seq)))
	case m.confirm == "retry-all":
		b.WriteString("\n" + st.Warn.Render(fmt.Sprintf("Queue all %d failed items again? y/N", len(m.failed))))
	case m.status != "" && m.isErr:
		b.WriteString("\n" + st.Error.Render(m.status))
	case m.status != "":
		b.WriteString("\n" + st.OK.Render(m.status))
	}
	return b.String()
}

func (m *Model) ShortHelp() []key.Binding {
	if m.confirm != "" {
		return []key.Binding{common.K("y", "yes", "y"), common.K("any key", "no", "n")}
	}
	return []key.Binding{common.K("↑↓", "move", "up"), common.K("r", "retry", "r"), common.K("R", "retry all", "R"), common.K("x", "discard", "x"), common.K("l", "reload", "l")}
}

func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
