package billing

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Billing page's bindings, declared once: the handlers match
// them and both helps show them.
var keys = struct {
	Move, Open, Close, Plan, Sync, Stored key.Binding
}{
	Move:   common.B("↑↓", "move", "Move between the workspaces and products.", "up", "down"),
	Open:   common.B("enter", "details", "Show the row under the cursor in full: the change, or the error with its fix.", "enter"),
	Close:  common.B("esc/enter", "close", "Close the details.", "esc", "enter"),
	Plan:   common.B("p", "plan", "Ask ConnectWise what a sync would change and show it as a diff; nothing is changed.", "p"),
	Sync:   common.B("s", "sync", "Work out the plan, show it as a diff, and apply it to ConnectWise only after you answer y.", "s"),
	Stored: common.B("esc", "stored view", "Leave the plan: show what the last sync left, without asking ConnectWise.", "esc"),
}

func (m *Model) ShortHelp() []key.Binding {
	if m.detail {
		return []key.Binding{keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Sync}
	}
	bs := []key.Binding{keys.Move, keys.Open, keys.Sync, keys.Plan}
	if m.plan != nil {
		bs = append(bs, keys.Stored)
	}
	return bs
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{keys.Open, keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Sync, keys.Plan, keys.Stored}}
}
