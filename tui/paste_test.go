package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// A paste arrives as one tea.PasteMsg; it must reach the focused field of
// the page on screen: wizard fields (the private key above all) and every
// filter.
func TestPasteReachesTheFocusedField(t *testing.T) {
	paste := func(d *tu.Driver, s string) { d.T.Helper(); d.Send(tea.PasteMsg{Content: s}) }
	t.Run("wizard", func(t *testing.T) {
		a, d := newApp(t, tu.Store(t), 120, 40, Options{})
		paste(d, "na.myconnectwise.net")
		if !strings.Contains(a.Content(), "na.myconnectwise.net") {
			t.Fatalf("paste did not reach the site field:\n%s", ansi.Strip(a.Content()))
		}
		d.Press("down", "down", "down", "ctrl+r") // the private key, revealed
		paste(d, "pasted-PRIVATE-key\n")
		if !strings.Contains(a.Content(), "pasted-PRIVATE-key") {
			t.Fatalf("paste did not reach the private key field:\n%s", ansi.Strip(a.Content()))
		}
	})
	t.Run("companies filter", func(t *testing.T) {
		a, d := newApp(t, fixture(t), 120, 40, Options{})
		d.Press("2", "/")
		paste(d, "zzz-no-such-company")
		if !strings.Contains(a.Content(), `nothing matches "zzz-no-such-company"`) {
			t.Fatalf("paste did not filter the companies:\n%s", ansi.Strip(a.Content()))
		}
	})
	t.Run("workspace form", func(t *testing.T) {
		a, d := newApp(t, fixture(t), 120, 40, Options{})
		d.Press("2", "c", "ctrl+u")
		paste(d, "pasted-key")
		if !strings.Contains(a.Content(), "pasted-key") {
			t.Fatalf("paste did not reach the workspace key field:\n%s", ansi.Strip(a.Content()))
		}
	})
	t.Run("feed filter", func(t *testing.T) {
		a, d := newApp(t, fixture(t), 120, 40, Options{})
		d.Press("4", "/")
		paste(d, "northwind")
		if strings.Contains(a.Content(), "acme") {
			t.Fatalf("paste did not filter the feed:\n%s", ansi.Strip(a.Content()))
		}
	})
	t.Run("not to other pages", func(t *testing.T) {
		a, d := newApp(t, fixture(t), 120, 40, Options{})
		d.Press("2", "/")
		a.switchTo(common.PageFeed) // the filter stays focused off screen
		paste(d, "zzz")
		if strings.Contains(a.Content(), "zzz") {
			t.Fatal("paste went to a page that is not on screen")
		}
		d.Press("2")
		if strings.Contains(a.Content(), "zzz") {
			t.Fatal("paste went to the Companies filter while Feed was on screen")
		}
	})
}
