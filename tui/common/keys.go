package common

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Keys are bindings shared by several pages; each page adds its own.
type Keys struct {
	Quit, ForceQuit, Help, NextTab, PrevTab key.Binding
	Up, Down, PageUp, PageDown, Home, End   key.Binding
	Enter, Back, Filter                     key.Binding
}

// DefaultKeys returns the bindings.
func DefaultKeys() Keys {
	return Keys{
		Quit:      B("q", "quit", "Quit cwbridge (asks first when a form has unsaved changes).", "q"),
		ForceQuit: B("ctrl+c", "quit", "Quit from anywhere, also while typing in a field.", "ctrl+c"),
		Help:      B("?", "help", "Show or hide this list of keys.", "?"),
		NextTab:   B("tab", "next page", "Go to the next page.", "tab"),
		PrevTab:   B("shift+tab", "prev page", "Go to the previous page.", "shift+tab"),
		Up:        B("↑/k", "up", "Move the cursor up one row.", "up", "k"),
		Down:      B("↓/j", "down", "Move the cursor down one row.", "down", "j"),
		PageUp:    B("pgup", "page up", "Move the cursor up one screen.", "pgup", "ctrl+u"),
		PageDown:  B("pgdn", "page down", "Move the cursor down one screen.", "pgdown", "ctrl+d"),
		Home:      B("g/home", "first", "Go to the first row.", "home", "g"),
		End:       B("G/end", "last", "Go to the last row.", "end", "G"),
		Enter:     B("enter", "select", "Open or choose the row under the cursor.", "enter"),
		Back:      B("esc", "back", "Go back or cancel.", "esc"),
		Filter:    B("/", "filter", "Type to narrow the list; enter keeps the filter, esc clears it.", "/"),
	}
}

// sentenceSep splits a binding's help into the footer's word and the
// sentence ? shows, so both come from the one declaration.
const sentenceSep = "\x1f"

// B declares a binding once, for matching (key.Matches) and for both
// helps: help and label name it in the footer, sentence explains it on
// the ? screen.
func B(help, label, sentence string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, label+sentenceSep+sentence))
}

// Label is the footer's word for b.
func Label(b key.Binding) string {
	l, _, _ := strings.Cut(b.Help().Desc, sentenceSep)
	return l
}

// Sentence is what ? says about b (its label when it has no sentence).
func Sentence(b key.Binding) string {
	l, s, ok := strings.Cut(b.Help().Desc, sentenceSep)
	if !ok || s == "" {
		return l
	}
	return s
}

// Short returns copies of bs labelled for the footer.
func Short(bs []key.Binding) []key.Binding {
	out := make([]key.Binding, len(bs))
	for i, b := range bs {
		b.SetHelp(b.Help().Key, Label(b))
		out[i] = b
	}
	return out
}

// MoveCursor applies the list-navigation keys (up, down, page up/down,
// home, end) to a cursor over n rows with pages of page rows. ok is false
// when msg is not a navigation key.
func (ks Keys) MoveCursor(msg tea.KeyPressMsg, cursor, n, page int) (int, bool) {
	last := max(0, n-1)
	switch {
	case key.Matches(msg, ks.Up):
		return max(0, cursor-1), true
	case key.Matches(msg, ks.Down):
		return min(last, cursor+1), true
	case key.Matches(msg, ks.PageUp):
		return max(0, cursor-max(1, page)), true
	case key.Matches(msg, ks.PageDown):
		return min(last, cursor+max(1, page)), true
	case key.Matches(msg, ks.Home):
		return 0, true
	case key.Matches(msg, ks.End):
		return last, true
	}
	return cursor, false
}
