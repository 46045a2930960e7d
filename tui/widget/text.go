package widget

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/internal/textsafe"
)

// Fit truncates s to w cells (with …) and pads it to exactly w.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// Trunc truncates s to w cells (with …) without padding.
func Trunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s
}

// Row lays cells out in the given widths, one space apart.
func Row(cells []string, widths []int) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		// Cells hold data from outside (ConnectWise names, notes, action
		// output, errors): one line each, no control sequences.
		b.WriteString(Fit(textsafe.OneLine(c), widths[i]))
	}
	return b.String()
}

// Window returns the first index of a height-row window that keeps cursor
// visible, given the previous offset.
func Window(cursor, offset, height, n int) int {
	if height <= 0 {
		return 0
	}
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+height {
		offset = cursor - height + 1
	}
	return max(0, min(offset, max(0, n-height)))
}

// Lines pads or cuts s to exactly h lines, each fitted to w cells, so a
// page never spills past the area the root gave it.
func Lines(s string, w, h int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > h {
		ls = ls[:h]
	}
	for i, l := range ls {
		ls[i] = Fit(l, w)
	}
	for len(ls) < h {
		ls = append(ls, strings.Repeat(" ", w))
	}
	return strings.Join(ls, "\n")
}
