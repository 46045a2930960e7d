package widget

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/tui/common"
)

// Field is a labelled one-line text input that validates as you type.
// A secret field echoes bullets unless revealed; its value never reaches
// View otherwise.
type Field struct {
	Label    string
	Hint     string // shown under the field while focused
	Secret   bool
	Validate func(string) error

	input    textinput.Model
	touched  bool // the user typed here: show errors from now on
	revealed bool
}

// NewField builds a field.
func NewField(label, placeholder string, validate func(string) error) Field {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	in.CharLimit = 256
	st := in.Styles()
	st.Cursor.Blink = false // no blink timers: stable screens and goldens
	in.SetStyles(st)
	return Field{Label: label, Validate: validate, input: in}
}

// NewSecretField builds a masked field.
func NewSecretField(label, placeholder string, validate func(string) error) Field {
	f := NewField(label, placeholder, validate)
	f.Secret = true
	f.input.EchoMode = textinput.EchoPassword
	f.input.EchoCharacter = '•'
	return f
}

func (f *Field) Value() string     { return strings.TrimSpace(f.input.Value()) }
func (f *Field) Raw() string       { return f.input.Value() }
func (f *Field) SetValue(v string) { f.input.SetValue(v) }

// SetPlaceholder changes what an empty field shows.
func (f *Field) SetPlaceholder(p string) { f.input.Placeholder = p }
func (f *Field) SetWidth(w int)          { f.input.SetWidth(max(w, 4)) }
func (f *Field) Blur()                   { f.input.Blur() }
func (f *Field) Focus() tea.Cmd          { return f.input.Focus() }
func (f *Field) Touch()                  { f.touched = true }
func (f *Field) Revealed() bool          { return f.revealed }

// ToggleReveal shows or hides a secret field's value.
func (f *Field) ToggleReveal() {
	if !f.Secret {
		return
	}
	f.revealed = !f.revealed
	if f.revealed {
		f.input.EchoMode = textinput.EchoNormal
	} else {
		f.input.EchoMode = textinput.EchoPassword
	}
}

// Err is the validation error of the current value.
func (f *Field) Err() error {
	if f.Validate == nil {
		return nil
	}
	return f.Validate(f.Value())
}

// Update passes a key to the input; typing marks the field touched.
func (f *Field) Update(msg tea.Msg) tea.Cmd {
	before := f.input.Value()
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	if f.input.Value() != before {
		f.touched = true
	}
	return cmd
}

// View renders "Label  [input]" and, once touched, the error below it.
func (f *Field) View(st *common.Styles, labelWidth int) string {
	label := Fit(f.Label, labelWidth)
	mark := "  "
	if f.input.Focused() {
		label = st.Cursor.Render(label)
		mark = st.Cursor.Render("▸ ")
	} else {
		label = st.Label.Render(label)
	}
	in := f.input.View()
	line := mark + label + " " + in
	if f.touched {
		if err := f.Err(); err != nil {
			line += "\n" + strings.Repeat(" ", labelWidth+3) + st.Error.Render("✗ "+err.Error())
		}
	}
	if f.input.Focused() && f.Hint != "" {
		line += "\n" + strings.Repeat(" ", labelWidth+3) + st.Muted.Render(f.Hint)
	}
	return line
}

// InputView is the bare input, for owners that draw their own label.
func (f *Field) InputView() string { return f.input.View() }
