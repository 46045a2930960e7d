package widget

import (
	"strings"
	"testing"
)

// A cell from outside (a ConnectWise company name, an action's output)
// cannot break the row or style the terminal.
func TestRowCellsAreOneHarmlessLine(t *testing.T) {
	row := Row([]string{"1", "ACME\x1b[31m RED\x1b[0m", "line one\nline two", "\u202eevil"}, []int{2, 12, 20, 8})
	if strings.ContainsAny(row, "\n\x1b\u202e") {
		t.Fatalf("row %q", row)
	}
	if !strings.Contains(row, "ACME RED") || !strings.Contains(row, "line one ⏎ line two") {
		t.Fatalf("row %q", row)
	}
}
