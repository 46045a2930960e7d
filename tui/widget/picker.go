package widget

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/tui/common"
)

// Item is one choice of a Picker.
type Item struct {
	Label  string
	Detail string // muted, after the label
	ID     int
	Value  string
	hay    string
}

// Picker is a filterable single-choice list. Typing filters (fuzzy);
// up/down move; enter picks; esc cancels. Owners check Picked/Cancelled
// after each Update.
type Picker struct {
	Title string
	Empty string // shown when there are no items at all

	items  []Item
	shown  []int
	cursor int
	offset int
	filter Field
	width  int
	height int
	picked *Item
	cancel bool
	keys   common.Keys
}

// NewPicker builds a picker over items.
func NewPicker(title string, items []Item) Picker {
	p := Picker{Title: title, keys: common.DefaultKeys(), filter: NewField("Filter", "type to filter", nil)}
	p.SetItems(items)
	p.filter.Focus()
	return p
}

// SetItems replaces the choices, keeping the filter.
func (p *Picker) SetItems(items []Item) {
	p.items = items
	for i := range p.items {
		p.items[i].hay = Lower(p.items[i].Label + " " + p.items[i].Detail)
	}
	p.refilter()
}

// Items returns all choices.
func (p *Picker) Items() []Item { return p.items }

// Select moves the cursor to the item with this ID (or Value when ID is 0).
func (p *Picker) Select(id int, value string) {
	for i, idx := range p.shown {
		it := p.items[idx]
		if (id != 0 && it.ID == id) || (id == 0 && value != "" && it.Value == value) {
			p.cursor = i
			return
		}
	}
}

// SelectLabel moves the cursor to the item with this label (any case):
// for values known by name only, such as a route set in the config file.
func (p *Picker) SelectLabel(label string) bool {
	for i, idx := range p.shown {
		if strings.EqualFold(p.items[idx].Label, label) {
			p.cursor = i
			return true
		}
	}
	return false
}

// SetSize sets the area the picker may use.
func (p *Picker) SetSize(w, h int) {
	p.width, p.height = w, h
	p.filter.SetWidth(w - 12)
}

// Picked returns the chosen item once, after enter.
func (p *Picker) Picked() (Item, bool) {
	if p.picked == nil {
		return Item{}, false
	}
	it := *p.picked
	p.picked = nil
	return it, true
}

// Cancelled reports (once) that the user pressed esc.
func (p *Picker) Cancelled() bool {
	c := p.cancel
	p.cancel = false
	return c
}

// Current is the item under the cursor.
func (p *Picker) Current() (Item, bool) {
	if p.cursor < 0 || p.cursor >= len(p.shown) {
		return Item{}, false
	}
	return p.items[p.shown[p.cursor]], true
}

func (p *Picker) refilter() {
	q := Lower(strings.TrimSpace(p.filter.Raw()))
	// A fresh slice, not p.shown[:0]: pickers are values, and a copy
	// (companies keeps one to reopen) must not share its rows.
	p.shown = nil
	type scored struct{ idx, score int }
	var sc []scored
	for i := range p.items {
		if s := Match(q, p.items[i].hay); s > 0 {
			sc = append(sc, scored{i, s})
		}
	}
	if q != "" {
		slices.SortStableFunc(sc, func(a, b scored) int { return b.score - a.score })
	}
	for _, s := range sc {
		p.shown = append(p.shown, s.idx)
	}
	p.cursor = min(p.cursor, max(0, len(p.shown)-1))
}

// PickerKeys are every picker's bindings, declared once: Update matches
// them and the owning page shows them in its help.
var PickerKeys = struct{ Type, Move, Up, Down, Choose, Cancel key.Binding }{
	Type:   common.B("type", "filter", "Type (or paste) to narrow the choices; letters match in order.", ""),
	Move:   common.B("↑↓", "move", "Move between the choices (ctrl+p/ctrl+n too; pgup/pgdn by a screen).", "up", "down", "ctrl+p", "ctrl+n"),
	Up:     common.B("↑", "up", "Move to the choice above.", "up", "ctrl+p"),
	Down:   common.B("↓", "down", "Move to the choice below.", "down", "ctrl+n"),
	Choose: common.B("enter", "choose", "Take the choice under the cursor.", "enter"),
	Cancel: common.B("esc", "cancel", "Close the choices and keep the value as it was.", "esc"),
}

// Update handles a key, or a paste into the filter.
func (p *Picker) Update(msg tea.Msg) tea.Cmd {
	if pm, ok := msg.(tea.PasteMsg); ok {
		return p.typeFilter(pm)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, PickerKeys.Up):
		p.cursor = max(0, p.cursor-1)
	case key.Matches(k, PickerKeys.Down):
		p.cursor = max(0, min(len(p.shown)-1, p.cursor+1))
	case key.Matches(k, p.keys.PageUp) && k.String() != "ctrl+u":
		p.cursor = max(0, p.cursor-p.listHeight())
	case key.Matches(k, p.keys.PageDown) && k.String() != "ctrl+d":
		p.cursor = max(0, min(len(p.shown)-1, p.cursor+p.listHeight()))
	case key.Matches(k, PickerKeys.Choose):
		if it, ok := p.Current(); ok {
			p.picked = &it
		}
	case key.Matches(k, PickerKeys.Cancel):
		p.cancel = true
	default:
		return p.typeFilter(msg)
	}
	return nil
}

// typeFilter passes typed or pasted text to the filter.
func (p *Picker) typeFilter(msg tea.Msg) tea.Cmd {
	before := p.filter.Raw()
	cmd := p.filter.Update(msg)
	if p.filter.Raw() != before {
		p.cursor = 0
		p.refilter()
	}
	return cmd
}

func (p *Picker) listHeight() int { return max(1, p.height-3) }

// View renders title, filter and the visible window of choices.
func (p *Picker) View(st *common.Styles) string {
	var b strings.Builder
	b.WriteString(st.Subtitle.Render(p.Title))
	if len(p.items) > 0 {
		b.WriteString(st.Muted.Render(fmt.Sprintf("  %d of %d", len(p.shown), len(p.items))))
	}
	b.WriteString("\n")
	b.WriteString(st.Muted.Render("  filter: ") + p.filter.InputView() + "\n")
	h := p.listHeight()
	if len(p.items) == 0 {
		b.WriteString(st.Muted.Render("  " + p.Empty))
		return b.String()
	}
	if len(p.shown) == 0 {
		b.WriteString(st.Muted.Render("  nothing matches"))
		return b.String()
	}
	p.offset = Window(p.cursor, p.offset, h, len(p.shown))
	end := min(len(p.shown), p.offset+h)
	for i := p.offset; i < end; i++ {
		it := p.items[p.shown[i]]
		line := it.Label
		if it.Detail != "" {
			line += "  " + st.Muted.Render(it.Detail)
		}
		if i == p.cursor {
			b.WriteString(st.Cursor.Render("▸ ") + Trunc(st.Bold.Render(it.Label), p.width-2))
			if it.Detail != "" {
				b.WriteString(Trunc("  "+st.Muted.Render(it.Detail), max(0, p.width-4-lipgloss.Width(it.Label))))
			}
		} else {
			b.WriteString("  " + Trunc(line, p.width-2))
		}
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
