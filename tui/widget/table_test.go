package widget

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/tui/common"
)

func TestTableSizesToContent(t *testing.T) {
	rows := [][]string{
		{"CONTOSO-HOLDINGS-INTERNATIONAL", "Contoso Holdings International Limited of Somewhere", "us"},
		{"ACME", "Acme", "eu"},
	}
	tb := NewTable(Col{Title: "Identifier", Keep: true}, Col{Title: "Name"}, Col{Title: "Region"})
	tb.SetRows(len(rows), func(i int) []string { return rows[i] })

	tb.SetSize(120, 10) // room for all: nothing is cut
	if w := tb.Widths(); w[0] != 30 || w[1] < 51 {
		t.Fatalf("widths at 120: %v", w)
	}
	tb.SetSize(60, 10) // the name gives way, the identifier does not
	s := ansi.Strip(tb.View(common.DefaultStyles(true), nil))
	if !strings.Contains(s, "CONTOSO-HOLDINGS-INTERNATIONAL") {
		t.Fatalf("the identifier was cut while the name had room:\n%s", s)
	}
	if !strings.Contains(s, "…") {
		t.Fatalf("a cut cell has no ellipsis:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if len([]rune(l)) > 60 {
			t.Fatalf("line wider than 60: %q", l)
		}
	}
	tb.SetSize(30, 10) // nothing else can give: the identifier is cut too, with …
	s = ansi.Strip(tb.View(common.DefaultStyles(true), nil))
	if !strings.Contains(s, "CONTOSO-HOLDI") || !strings.Contains(s, "…") {
		t.Fatalf("at 30 columns:\n%s", s)
	}
}

func TestTableScrollsToCursor(t *testing.T) {
	tb := NewTable(Col{Title: "N"})
	tb.SetRows(100, func(i int) []string { return []string{strings.Repeat("x", i%7) + "row"} })
	tb.SetSize(20, 5)
	tb.SetCursor(99)
	if s := tb.View(common.DefaultStyles(true), nil); !strings.Contains(ansi.Strip(s), "▸") || strings.Count(s, "\n") != 4 {
		t.Fatalf("the cursor row is not in a 5-line window:\n%s", s)
	}
}
