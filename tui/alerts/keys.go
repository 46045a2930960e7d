package alerts

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Alerts page's bindings, declared once: the handlers match
// them and both helps show them.
var keys = struct {
	Move, Edit, Toggle, Test, Refresh         key.Binding
	Row, RowUp, RowDown, Change, Save, Cancel key.Binding
}{
	Move:    common.B("↑↓", "move", "Move between the alert types.", "up", "down"),
	Edit:    common.B("enter", "edit", "Edit the route of the alert type under the cursor: board, status, priority, type.", "enter", "e"),
	Toggle:  common.B("space", "on/off", "Turn tickets for this alert type on or off (the route is kept).", "space"),
	Test:    common.B("t", "test ticket", "Create one real test ticket through this route, for a workspace you pick.", "t"),
	Refresh: common.B("r", "refresh lists", "Read boards, statuses, priorities and types from ConnectWise again.", "r"),
	Row:     common.B("↑↓", "move", "Move between the route's fields.", "up", "down"),
	RowUp:   common.B("↑", "up", "The field above.", "up", "k", "shift+tab"),
	RowDown: common.B("↓", "down", "The field below.", "down", "j", "tab"),
	Change:  common.B("enter", "change", "Change the field under the cursor: pick from ConnectWise's list, switch on/off, or save.", "enter"),
	Save:    common.B("ctrl+s", "save", "Save the route.", "ctrl+s"),
	Cancel:  common.B("esc", "cancel", "Close the route without saving (asks nothing: nothing is saved).", "esc"),
}

func (m *Model) ShortHelp() []key.Binding {
	pk := widget.PickerKeys
	switch {
	case m.wsPick != nil, m.edit != nil && m.edit.picker != nil:
		return []key.Binding{pk.Type, pk.Choose, pk.Cancel}
	case m.edit != nil:
		return []key.Binding{keys.Row, keys.Change, keys.Save, keys.Cancel}
	}
	return []key.Binding{keys.Move, keys.Edit, keys.Toggle, keys.Test, keys.Refresh}
}

func (m *Model) FullHelp() [][]key.Binding {
	pk := widget.PickerKeys
	switch {
	case m.wsPick != nil, m.edit != nil && m.edit.picker != nil:
		return [][]key.Binding{{pk.Type, pk.Move, pk.Choose, pk.Cancel}}
	case m.edit != nil:
		return [][]key.Binding{{keys.Row, keys.Change, keys.Toggle, keys.Save, keys.Cancel}}
	}
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}, {keys.Edit, keys.Toggle, keys.Test, keys.Refresh}}
}
