package common

import (
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
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return Keys{
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Help:      b([]string{"?"}, "?", "help"),
		NextTab:   b([]string{"tab"}, "tab", "next page"),
		PrevTab:   b([]string{"shift+tab"}, "shift+tab", "prev page"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Home:      b([]string{"home", "g"}, "g/home", "first"),
		End:       b([]string{"end", "G"}, "G/end", "last"),
		Enter:     b([]string{"enter"}, "enter", "select"),
		Back:      b([]string{"esc"}, "esc", "back"),
		Filter:    b([]string{"/"}, "/", "filter"),
	}
}

// K builds a binding in one line.
func K(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
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
