package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
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

// A picker opens on the current value, also when the route knows it by
// name only (set from the config file): enter keeps it, ↓ enter takes the
// next one, never the first.
func TestPickerOpensOnCurrentValue(t *testing.T) {
	st := fixture(t)
	if err := st.PutLookup(storage.LookupTable{Kind: storage.LookupPriorities, FetchedAt: tu.Clock, Items: []storage.LookupItem{
		{ID: 6, Name: "Priority 1 - Emergency Response"}, {ID: 7, Name: "Priority 2 - Quick Response"}, {ID: 8, Name: "Priority 3 - Normal Response"}}}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Route("threat")
	if err != nil {
		t.Fatal(err)
	}
	r.Priority = storage.Ref{Name: "priority 2 - quick response"}
	if err := st.PutRoute("t", r); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 120, 40, Options{})
	d.Press("3", "enter", "down", "down", "down", "enter") // the threat route's Priority
	if s := ansi.Strip(a.Content()); !strings.Contains(s, "▸ Priority 2 - Quick Response") {
		t.Fatalf("the picker did not open on the current priority:\n%s", s)
	}
	d.Press("down", "enter")
	if s := ansi.Strip(a.Content()); !strings.Contains(s, "Priority 3 - Normal Response") {
		t.Fatalf("↓ enter did not choose the next priority:\n%s", s)
	}
}

// One status line at the root: a newer message replaces the older, and
// each clears itself when its time is up (the timer is the message).
func TestStatusLineExpires(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 24, Options{})
	d.Send(common.StatusMsg{Text: "first"})
	first := a.statusSeq
	d.Send(common.StatusMsg{Text: "second", Err: true})
	if c := ansi.Strip(a.Content()); !strings.Contains(c, "second") || strings.Contains(c, "first") {
		t.Fatalf("want only the newer status:\n%s", c)
	}
	d.Send(statusExpiredMsg{first}) // the older timer fires: the newer stays
	if !strings.Contains(a.Content(), "second") {
		t.Fatal("an old timer cleared a newer status")
	}
	d.Send(statusExpiredMsg{a.statusSeq})
	if strings.Contains(a.Content(), "second") || !strings.Contains(a.Content(), "move") {
		t.Fatalf("the status did not expire back to the help:\n%s", ansi.Strip(a.Content()))
	}
}

// r on Alerts says when it is done, never "refreshing…" forever.
func TestAlertsRefreshEnds(t *testing.T) {
	st := tu.Store(t) // set up, against a simulator, no routes yet
	tu.Connect(t, st, tu.Sim(t, 5))
	if err := st.SetOnboarding(storage.Onboarding{Step: "done"}); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 120, 40, Options{NewClient: tu.NewClient})
	d.Press("3", "r")
	c := ansi.Strip(a.Content())
	if strings.Contains(c, "refreshing") || !strings.Contains(c, "refreshed") {
		t.Fatalf("refresh did not end with its answer:\n%s", c)
	}
	a, d = newApp(t, fixture(t), 120, 40, Options{}) // ConnectWise offline
	d.Press("3", "r")
	c = ansi.Strip(a.Content())
	if strings.Contains(c, "refreshing") || !strings.Contains(c, "offline") {
		t.Fatalf("a failed refresh did not say why:\n%s", c)
	}
}

// ? explains every key of every page in a sentence (not the footer's one
// word), and the help screen fits.
func TestHelpExplainsEveryKey(t *testing.T) {
	a, d := newApp(t, fixture(t), 120, 40, Options{})
	for i := range common.NumPages {
		d.Press(fmt.Sprint(int(i) + 1))
		for _, g := range a.Page(i).FullHelp() {
			for _, b := range g {
				if s := common.Sentence(b); !strings.HasSuffix(s, ".") {
					t.Errorf("%v: key %q is explained as %q, not in a sentence", i, b.Help().Key, s)
				}
			}
		}
		d.Press("?")
		c := ansi.Strip(a.Content())
		assertFits(t, a.Content(), 120, 40)
		if !strings.Contains(c, "Keys on "+i.String()) || !strings.Contains(c, "Quit cwbridge") {
			t.Errorf("? on %v:\n%s", i, c)
		}
		d.Press("esc")
	}
}

// On a short terminal the ? screen scrolls to its last key.
func TestHelpScrolls(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 24, Options{})
	d.Press("4", "?")
	if strings.Contains(a.Content(), "ctrl+c") {
		t.Skip("the help fits: nothing to scroll")
	}
	d.Press("space")
	if c := ansi.Strip(a.Content()); !strings.Contains(c, "ctrl+c") || !strings.Contains(c, "Everywhere") {
		t.Fatalf("space did not scroll the help to its end:\n%s", c)
	}
}

// At 80 columns the footer keeps "? help": the page's hints give way.
func TestHelpHintAlwaysShows(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 24, Options{})
	for i := range common.NumPages {
		d.Press(fmt.Sprint(int(i) + 1))
		lines := strings.Split(ansi.Strip(a.Content()), "\n")
		if foot := lines[len(lines)-1]; !strings.Contains(foot, "? help") {
			t.Errorf("%v: the footer lost ? help: %q", i, foot)
		}
	}
}
