package setup

import (
	"charm.land/bubbles/v2/key"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// keys are the Setup page's bindings, declared once: each step's handler
// matches them and both helps show them.
var keys = struct {
	Rerun, Leave                              key.Binding
	FieldUp, FieldDown, Field, Next, Reveal   key.Binding
	Back, Retry, VerifyNext, RetryTypes       key.Binding
	Row, RowUp, RowDown, Mode, Edit, Continue key.Binding
	EditSwitch, EditDone, EditCancel, Save    key.Binding
}{
	Rerun:      common.B("w/enter", "run wizard again", "Run the setup wizard again from the saved settings; nothing changes until you save at the end.", "w", "enter"),
	Leave:      common.B("esc", "back to the summary", "Leave the wizard without changing anything.", "esc"),
	FieldUp:    common.B("↑/shift+tab", "previous field", "Go to the previous field.", "up", "shift+tab"),
	FieldDown:  common.B("↓/tab", "next field", "Go to the next field.", "down", "tab"),
	Field:      common.B("tab/↑↓", "move", "Move between the fields (typing and pasting go into the one with the cursor).", "tab", "up", "down", "shift+tab"),
	Next:       common.B("enter", "next", "Go to the next field; on the last one, check every field and go on to verify.", "enter"),
	Reveal:     common.B("ctrl+r", "show/hide key", "Show or hide the private key you are typing (a stored key is never shown).", "ctrl+r"),
	Back:       common.B("esc", "back", "Go back one step (nothing is lost).", "esc"),
	Retry:      common.B("r", "verify again", "Run every check against ConnectWise again.", "r"),
	VerifyNext: common.B("enter", "next", "Go on once every check passed.", "enter"),
	RetryTypes: common.B("r", "try again", "Load the agreement types from ConnectWise again.", "r"),
	Row:        common.B("↑↓", "move", "Move between the products and Continue.", "up", "down"),
	RowUp:      common.B("↑/k", "up", "The product above.", "up", "k"),
	RowDown:    common.B("↓/j", "down", "The product below.", "down", "j"),
	Mode:       common.B("m/space", "new ↔ existing", "Switch the product between creating a new catalog item and mapping an existing one.", "m", "space"),
	Edit:       common.B("enter", "edit / pick", "Edit the new item's identifier and description, or pick the existing item; on Continue go on.", "enter", "e"),
	Continue:   common.B("n", "continue", "Go on to the summary (every product must be complete).", "n"),
	EditSwitch: common.B("tab/↑↓", "other field", "Switch between the identifier and the description.", "tab", "down", "up", "shift+tab"),
	EditDone:   common.B("enter", "done", "Next field; on the description, keep both.", "enter"),
	EditCancel: common.B("esc", "cancel", "Stop editing and keep the product as it was.", "esc"),
	Save:       common.B("enter/s", "save", "Save everything in one go and tell the engine.", "enter", "s"),
}

func (m *Model) ShortHelp() []key.Binding {
	if m.wz == nil {
		return []key.Binding{keys.Rerun}
	}
	pk := widget.PickerKeys
	switch m.wz.step {
	case stepCredentials:
		if m.rerun {
			return []key.Binding{keys.Field, keys.Next, keys.Reveal, keys.Leave}
		}
		return []key.Binding{keys.Field, keys.Next, keys.Reveal}
	case stepVerify:
		return []key.Binding{keys.VerifyNext, keys.Retry, keys.Back}
	case stepAgreement:
		if !m.wz.agLoaded {
			return []key.Binding{keys.RetryTypes, keys.Back}
		}
		return []key.Binding{pk.Type, pk.Move, pk.Choose, keys.Back}
	case stepProducts:
		if m.wz.catPicker != nil {
			return []key.Binding{pk.Type, pk.Choose, pk.Cancel}
		}
		if m.wz.editing {
			return []key.Binding{keys.EditSwitch, keys.EditDone, keys.EditCancel}
		}
		return []key.Binding{keys.Row, keys.Mode, keys.Edit, keys.Continue, keys.Back}
	case stepSummary:
		return []key.Binding{keys.Save, keys.Back}
	}
	return nil
}

func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
