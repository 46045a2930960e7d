package health

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Health page's bindings, declared once: the handlers match
// them and both helps show them.
var keys = struct {
	Move, Open, Close, Retry, RetryAll, Discard, Reload key.Binding
}{
	Move:     common.B("↑↓", "move", "Move between the per-company errors and the failed items.", "up", "down"),
	Open:     common.B("enter", "full reason", "Show the error or failed item under the cursor in full.", "enter"),
	Close:    common.B("esc", "close", "Close the full reason.", "esc", "enter"),
	Retry:    common.B("r", "retry", "Queue the failed item under the cursor again.", "r"),
	RetryAll: common.B("R", "retry all", "Queue every failed item again (asks first).", "R"),
	Discard:  common.B("x", "discard", "Drop the failed item under the cursor for good (asks first).", "x", "delete"),
	Reload:   common.B("l", "reload", "Read the failed items again and say how many there are.", "l"),
}

func (m *Model) ShortHelp() []key.Binding {
	if m.detail {
		return []key.Binding{keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Retry, keys.Discard}
	}
	return []key.Binding{keys.Move, keys.Open, keys.Retry, keys.RetryAll, keys.Discard, keys.Reload}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{keys.Open, keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Retry, keys.RetryAll, keys.Discard, keys.Reload}}
}
