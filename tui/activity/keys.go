package activity

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Activity page's bindings, declared once: the handlers
// match them and both helps show them.
var keys = struct {
	Move, Details, Close, Who, Apply, ClearFilter key.Binding
}{
	Move:        common.B("↑↓", "move", "Move between changes; with the details open they follow the cursor.", "up", "down"),
	Details:     common.B("enter", "details", "Open the change under the cursor: every changed field, before → after (secrets masked).", "enter"),
	Close:       common.B("esc", "close details", "Close the details.", "esc"),
	Who:         common.B("/", "who", "Type part of a technician's name (ssh:alice, tui:bob) to show only their changes; enter keeps it, esc clears it.", "/"),
	Apply:       common.B("enter", "apply", "Keep the filter and go back to the list.", "enter"),
	ClearFilter: common.B("esc", "clear", "Clear the filter and go back to the list.", "esc"),
}

func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.filtering:
		return []key.Binding{keys.Apply, keys.ClearFilter}
	case m.detail:
		return []key.Binding{keys.Move, keys.Close, widget.DetailKeys.Down, keys.Who}
	}
	return []key.Binding{keys.Move, keys.Details, keys.Who}
}

func (m *Model) FullHelp() [][]key.Binding {
	if m.filtering {
		return [][]key.Binding{m.ShortHelp()}
	}
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{keys.Details, keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Who}}
}
