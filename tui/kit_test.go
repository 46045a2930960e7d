package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/config"
)

// The Alerts list scrolls: after end on a short terminal the selected
// (last) alert type is on screen.
func TestAlertsCursorStaysVisible(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 12, Options{})
	d.Press("3", "end")
	last := config.BuiltinAlertTypes[len(config.BuiltinAlertTypes)-1]
	s := ansi.Strip(a.Content())
	if !strings.Contains(s, "▸ "+last) {
		t.Fatalf("after end the cursor (on %s) is off screen:\n%s", last, s)
	}
	d.Press("home")
	if s := ansi.Strip(a.Content()); !strings.Contains(s, "▸ "+config.BuiltinAlertTypes[0]) {
		t.Fatalf("after home the cursor is off screen:\n%s", s)
	}
}
