package feed

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Feed page's bindings, declared once: the handlers match
// them and both helps show them.
var keys = struct {
	Move, Details, Close, Company, Kind, Severity, Clear, Apply, ClearFilter key.Binding
}{
	Move:        common.B("↑↓", "move", "Move between events; with the details open they follow the cursor.", "up", "down"),
	Details:     common.B("enter", "details", "Open the details of the event under the cursor: its incident, ticket notes and the key's history.", "enter"),
	Close:       common.B("esc", "close details", "Close the details.", "esc"),
	Company:     common.B("/", "company", "Type a workspace key to show only its events; enter keeps it, esc clears it.", "/"),
	Kind:        common.B("f", "kind", "Show one kind of event at a time (created, noted, closed, failed…, billing), then all again.", "f"),
	Severity:    common.B("v", "severity", "Show one severity at a time (low to critical), then all again.", "v"),
	Clear:       common.B("x", "clear", "Clear every filter: all kinds, severities and companies.", "x"),
	Apply:       common.B("enter", "apply", "Keep the company filter and go back to the list.", "enter"),
	ClearFilter: common.B("esc", "clear", "Clear the company filter and go back to the list.", "esc"),
}

func (m *Model) ShortHelp() []key.Binding {
	if m.filtering {
		return []key.Binding{keys.Apply, keys.ClearFilter}
	}
	if m.detail {
		return []key.Binding{keys.Move, keys.Close, widget.DetailKeys.Down, keys.Company, keys.Kind, keys.Severity, keys.Clear}
	}
	return []key.Binding{keys.Move, keys.Details, keys.Company, keys.Kind, keys.Severity, keys.Clear}
}

func (m *Model) FullHelp() [][]key.Binding {
	if m.filtering {
		return [][]key.Binding{m.ShortHelp()}
	}
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{keys.Details, keys.Close, widget.DetailKeys.Down, widget.DetailKeys.Up, keys.Company, keys.Kind, keys.Severity, keys.Clear}}
}
