package widget

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/tui/common"
)

// Detail is a pane of text that wraps to its width and scrolls (a bubbles
// viewport): no reason or note in it is ever cut off.
type Detail struct {
	vp      viewport.Model
	content string
	w       int
}

// DetailKeys scroll a detail pane. Pages that also have a list keep ↑↓ for
// the list, so the pane scrolls by page.
var DetailKeys = struct{ Up, Down key.Binding }{
	Up:   common.B("b/pgup", "scroll up", "Scroll the details up a screen.", "pgup", "ctrl+u", "b"),
	Down: common.B("space/pgdn", "scroll", "Scroll the details down a screen.", "pgdown", "ctrl+d", "space"),
}

// NewDetail builds an empty pane.
func NewDetail() Detail {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{} // the owner decides which keys scroll
	return Detail{vp: vp}
}

// SetSize sets the pane's area; the text is wrapped again to the width.
func (d *Detail) SetSize(w, h int) {
	w, h = max(1, w), max(1, h)
	d.vp.SetHeight(h)
	if w != d.w {
		d.w = w
		d.vp.SetWidth(w)
		d.wrap()
	}
}

// SetContent replaces the text, keeping the scroll position when it can.
func (d *Detail) SetContent(s string) {
	if s == d.content {
		return
	}
	d.content = s
	d.wrap()
}

func (d *Detail) wrap() {
	if d.w <= 0 {
		return
	}
	lines := strings.Split(d.content, "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.Split(ansi.Wrap(l, d.w, " /,;"), "\n")...)
	}
	d.vp.SetContentLines(out)
}

// Top scrolls back to the first line (a new subject).
func (d *Detail) Top() { d.vp.GotoTop() }

// Scroll handles the scroll keys; false when k is not one of them.
func (d *Detail) Scroll(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, DetailKeys.Up):
		d.vp.PageUp()
	case key.Matches(k, DetailKeys.Down):
		d.vp.PageDown()
	default:
		return false
	}
	return true
}

// More says what is above and below the visible part, or "" when all of
// it shows.
func (d *Detail) More() string {
	switch {
	case d.vp.AtTop() && d.vp.AtBottom():
		return ""
	case d.vp.AtTop():
		return "more below (pgdn)"
	case d.vp.AtBottom():
		return "more above (pgup)"
	}
	return "more above and below (pgup/pgdn)"
}

// View renders the visible lines.
func (d *Detail) View() string { return d.vp.View() }
