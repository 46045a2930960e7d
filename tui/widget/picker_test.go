package widget

import (
	"slices"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func labels(p *Picker) []string {
	var out []string
	for _, i := range p.shown {
		out = append(out, p.items[i].Label)
	}
	return out
}

// A copy that filters leaves the original's rows alone (companies reopens
// its agreement picker from a kept copy).
func TestPickerCopiesAreIndependent(t *testing.T) {
	orig := NewPicker("t", []Item{{Label: "alpha", ID: 1}, {Label: "beta", ID: 2}, {Label: "gamma", ID: 3}})
	p := orig
	p.Update(tea.KeyPressMsg{Code: 'g', Text: "g"})
	if got := labels(&orig); !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
		t.Fatalf("original rows after filtering a copy: %v", got)
	}
}

// down on an empty list keeps the cursor on the first row, so items that
// arrive later can be picked with enter.
func TestPickerDownOnEmptyList(t *testing.T) {
	p := NewPicker("t", nil)
	p.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	p.SetItems([]Item{{Label: "a", ID: 1}})
	if it, ok := p.Current(); !ok || it.ID != 1 {
		t.Fatalf("current = %+v, %v (cursor %d)", it, ok, p.cursor)
	}
}

// A paste filters like typing (alerts and the wizard's pickers).
func TestPickerPasteFilters(t *testing.T) {
	p := NewPicker("t", []Item{{Label: "alpha", ID: 1}, {Label: "beta", ID: 2}, {Label: "gamma", ID: 3}})
	p.Update(tea.PasteMsg{Content: "beta"})
	if got := labels(&p); !slices.Equal(got, []string{"beta"}) {
		t.Fatalf("rows after pasting beta: %v", got)
	}
}
