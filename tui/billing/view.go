package billing

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// View is a summary line, the errors per company in plain words, the
// table and what is running; or, with enter, the row in full.
func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(widget.Trunc(m.summaryLine(), m.w) + "\n")
	if m.detail && len(m.rows) > 0 {
		return b.String() + m.detailView(max(1, m.h-1))
	}
	if p := m.problemsLine(); p != "" {
		b.WriteString(st.Error.Render(widget.Trunc(p, m.w)))
	} else if m.plan == nil && m.loaded && len(m.rows) > 0 {
		b.WriteString(st.Muted.Render(widget.Trunc("s shows what a sync would change and applies it after a yes", m.w)))
	}
	b.WriteString("\n\n")
	switch {
	case m.err != "":
		b.WriteString(st.Error.Render(widget.Trunc("  ✗ cannot read the billing state: "+m.err, m.w)))
	case !m.loaded:
		b.WriteString(st.Muted.Render("  loading…"))
	case len(m.rows) == 0 && m.plan != nil:
		b.WriteString(st.Muted.Render(widget.Trunc("  nothing to bill: no workspace has a wanted quantity of a product", m.w)))
	case len(m.rows) == 0:
		b.WriteString(st.Muted.Render(widget.Trunc("  no usage yet: quantities arrive with POST /v1/usage, seats of seat-based products at the first sync", m.w)))
	default:
		b.WriteString(m.table.View(st, func(i int) lipgloss.Style {
			switch m.rows[i].state {
			case engine.StateBillError:
				return st.Error
			case engine.StateWillChange, stateWaiting:
				return st.Warn
			}
			return lipgloss.NewStyle()
		}))
	}
	if a := m.activity(); a != "" {
		b.WriteString("\n" + st.Muted.Render(widget.Trunc(a, m.w)))
	} else if m.plan != nil && m.planStale {
		b.WriteString("\n" + st.Warn.Render(widget.Trunc("  usage changed since this plan: p works it out again", m.w)))
	}
	return b.String()
}

// summaryLine says which picture is on screen and counts it.
func (m *Model) summaryLine() string {
	st := m.c.Styles
	if p := m.plan; p != nil {
		return st.Subtitle.Render("Plan") + fmt.Sprintf(" at %s: %s · nothing changed yet · %d ConnectWise %s",
			p.At.In(m.c.Now().Location()).Format("15:04:05"), summary(*p), p.Calls, plural(p.Calls, "call"))
	}
	s := st.Subtitle.Render("Stored") + " as the last sync left it · "
	ls := m.status.LastSync
	if ls.At.IsZero() {
		return s + "no sync yet"
	}
	s += "last sync " + m.c.Since(ls.At)
	var parts []string
	if ls.Created > 0 {
		parts = append(parts, fmt.Sprintf("%d created", ls.Created))
	}
	if ls.Changed > 0 {
		parts = append(parts, fmt.Sprintf("%d changed", ls.Changed))
	}
	if ls.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", ls.Errors, plural(ls.Errors, "error")))
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func (m *Model) activity() string {
	switch {
	case m.syncing:
		return "  applying the plan to ConnectWise…"
	case m.planning:
		return "  working out the plan with ConnectWise…"
	}
	return ""
}

// detailView is the row under the cursor in full, wrapped and scrollable.
func (m *Model) detailView(h int) string {
	st := m.c.Styles
	r := m.rows[min(m.table.Cursor(), len(m.rows)-1)]
	var b strings.Builder
	field := func(k, v string) {
		if v != "" {
			// Wrapped under itself: a fix is often longer than a line.
			v = strings.ReplaceAll(ansi.Wrap(v, max(10, m.w-12), " /,;"), "\n", "\n"+strings.Repeat(" ", 12))
			b.WriteString(st.Label.Render(widget.Fit(k, 11)) + " " + v + "\n")
		}
	}
	b.WriteString(st.Subtitle.Render(r.workspace+" · "+r.product) + "\n")
	field("Company", r.company)
	item := r.identifier
	if r.itemID != 0 {
		item += fmt.Sprintf(" (id %d)", r.itemID)
	}
	field("Item", item)
	switch {
	case r.agreementID != 0:
		field("Agreement", fmt.Sprint(r.agreementID))
	case r.fromPlan:
		field("Agreement", "none")
	}
	field("Wanted", fmt.Sprint(r.wanted))
	inCW := qty(r.inCW)
	if !r.fromPlan && r.inCW != nil {
		inCW += " at the last sync"
	}
	field("In CW", inCW)
	field("State", r.state)
	last := m.c.Since(r.lastSync)
	if !r.lastSync.IsZero() {
		last += " (" + r.lastSync.In(m.c.Now().Location()).Format("2006-01-02 15:04:05") + ")"
	}
	field("Last sync", last)
	if !r.wantedAt.IsZero() {
		field("Wanted set", m.c.Since(r.wantedAt))
	}
	switch {
	case r.fromPlan && r.state == engine.StateBillError:
		b.WriteString("\n" + st.Error.Render("✗ "+words(r.problem)) + "\n")
		field("Reason", r.reason)
		field("Fix", r.fix)
	case r.fromPlan:
		field("Change", r.change)
	case r.reason != "":
		b.WriteString("\n" + st.Error.Render("✗ at the last sync: "+r.reason) + "\n")
		b.WriteString("\n" + st.Muted.Render("p asks ConnectWise for the live plan: each error with its fix.") + "\n")
	}
	m.dv.SetSize(m.w, max(1, h-1))
	m.dv.SetContent(strings.TrimRight(b.String(), "\n"))
	return m.dv.View() + "\n" + st.Muted.Render(m.dv.More())
}
