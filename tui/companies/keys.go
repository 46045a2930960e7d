package companies

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Companies page's bindings, declared once: the handlers
// match them and both helps show them.
var keys = struct {
	Tab, Refresh, Sort, Create, ClearFilter             key.Binding
	FilterDone, FilterClear                             key.Binding
	Move, Edit, Remove                                  key.Binding
	FormNext, FormPrev, FormEnter, FormSave, FormCancel key.Binding
}{
	Tab:         common.B("w/←→", "other tab", "Switch between the ConnectWise companies and the workspaces.", "w", "left", "right"),
	Refresh:     common.B("r", "refresh", "Read the companies from ConnectWise again (the list is cached).", "r"),
	Sort:        common.B("s", "sort", "Sort by name, identifier or id, in turn; the cursor stays on its company.", "s"),
	Create:      common.B("c/enter", "create workspace", "Create a workspace for the company under the cursor (asks first for a deleted company or a second workspace).", "c", "enter"),
	ClearFilter: common.B("esc", "clear filter", "Clear the filter.", "esc"),
	FilterDone:  common.B("enter", "done", "Keep the filter and go back to the list.", "enter", "down", "up"),
	FilterClear: common.B("esc", "clear", "Clear the filter and go back to the list.", "esc"),
	Move:        common.B("↑↓", "move", "Move between the workspaces.", "up", "down"),
	Edit:        common.B("e/enter", "edit", "Edit the workspace under the cursor.", "e", "enter"),
	Remove:      common.B("d", "remove", "Remove the workspace under the cursor (asks first); its incidents then go to the fallback company.", "d", "delete"),
	FormNext:    common.B("tab/↓", "next field", "Go to the next field.", "tab", "down"),
	FormPrev:    common.B("shift+tab/↑", "previous field", "Go to the previous field.", "shift+tab", "up"),
	FormEnter:   common.B("enter", "next/choose", "Go to the next field; on Agreement pick one, on Save save.", "enter"),
	FormSave:    common.B("ctrl+s", "save", "Save the workspace from any field.", "ctrl+s"),
	FormCancel:  common.B("esc", "cancel", "Close the form without saving.", "esc"),
}

func (m *Model) ShortHelp() []key.Binding {
	pk := widget.PickerKeys
	switch {
	case m.form != nil && m.form.picker != nil:
		return []key.Binding{pk.Type, pk.Choose, pk.Cancel}
	case m.form != nil:
		return []key.Binding{keys.FormNext, keys.FormEnter, keys.FormSave, keys.FormCancel}
	case m.filtering:
		return []key.Binding{keys.FilterDone, keys.FilterClear}
	case m.tab == tabWorkspaces:
		return []key.Binding{keys.Move, keys.Edit, keys.Remove, keys.Tab}
	}
	return []key.Binding{m.c.Keys.Filter, keys.Create, keys.Sort, keys.Refresh, keys.Tab}
}

func (m *Model) FullHelp() [][]key.Binding {
	pk := widget.PickerKeys
	switch {
	case m.form != nil && m.form.picker != nil:
		return [][]key.Binding{{pk.Type, pk.Move, pk.Choose, pk.Cancel}}
	case m.form != nil:
		return [][]key.Binding{{keys.FormNext, keys.FormPrev, keys.FormEnter, keys.FormSave, keys.FormCancel}}
	case m.filtering:
		return [][]key.Binding{{keys.FilterDone, keys.FilterClear}}
	}
	k := m.c.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Filter, keys.Create, keys.Sort, keys.Refresh, keys.Tab},
		{keys.Edit, keys.Remove},
	}
}
