package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// longReason is a 300-character ConnectWise error whose cause is at the end.
var longReason = func() string {
	s := "connectwise: POST service/tickets: validation failed (400 Invalid ticket): ticket object is invalid: "
	s += strings.Repeat("field summary is within limits; ", 5)
	s += `company "NOSUCHCOMPANY" was not found`
	for len(s) < 300 {
		s += "."
	}
	return s
}()

// allShown reports whether every word of want is on one of the screens
// (a wrapped, scrolled text is split between lines and screens).
func allShown(screens, want string) bool {
	words := map[string]bool{}
	for _, w := range strings.Fields(ansi.Strip(screens)) {
		words[w] = true
	}
	for _, w := range strings.Fields(want) {
		if !words[w] {
			return false
		}
	}
	return true
}

// seen presses pgdn until the pane stops moving and returns every screen.
func seen(a *App, d *tu.Driver) string {
	var all []string
	for range 20 {
		c := a.Content()
		if len(all) > 0 && all[len(all)-1] == c {
			break
		}
		all = append(all, c)
		d.Press("pgdown")
	}
	return strings.Join(all, "\n")
}

func TestHealthShowsTheFullReason(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		st := fixture(t)
		seq, err := st.Enqueue(storage.OutboxIncident, "inc-long")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MoveToFailed(seq, longReason); err != nil {
			t.Fatal(err)
		}
		h := fixedHealth()
		h.Failed = 3
		h.CompanyErrors = map[string]string{"northwind": longReason}
		h.LastError = longReason
		a, d := newApp(t, st, size[0], size[1], Options{Backend: &tu.Backend{H: h}})
		d.Press("5")
		if !allShown(a.Content(), longReason) {
			t.Fatalf("%dx%d: the last error is cut:\n%s", size[0], size[1], ansi.Strip(a.Content()))
		}
		d.Press("enter") // the per-company error
		if !allShown(seen(a, d), longReason) {
			t.Fatalf("%dx%d: the per-company error is cut:\n%s", size[0], size[1], ansi.Strip(a.Content()))
		}
		d.Press("esc", "end", "enter") // the last failed item
		if !allShown(seen(a, d), longReason) {
			t.Fatalf("%dx%d: the failed item's reason is cut:\n%s", size[0], size[1], ansi.Strip(a.Content()))
		}
	}
}

func TestFeedDetailShowsEverything(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		st := fixture(t)
		inc := storage.Incident{ID: "inc-long", Type: "threat", Company: "acme", Title: "Ransomware behaviour", User: "alice", Device: "LAPTOP-01"}
		if _, _, err := st.EnqueueIncidents(context.Background(), []storage.Incident{inc}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetIncidentState(inc.ID, storage.StateFailed, 0, longReason); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendFeed(storage.FeedEvent{Time: tu.Clock, Kind: storage.FeedFailed, Company: "acme", Key: "k0",
			IncidentID: inc.ID, Message: "could not create the ticket"}); err != nil {
			t.Fatal(err)
		}
		a, d := newApp(t, st, size[0], size[1], Options{})
		d.Press("4", "home", "enter")
		if a.Page(common.PageFeed).(interface{ Capturing() bool }).Capturing() {
			t.Fatal("capturing")
		}
		all := seen(a, d)
		if !allShown(all, longReason) {
			t.Fatalf("%dx%d: the feed detail cuts the error:\n%s", size[0], size[1], ansi.Strip(a.Content()))
		}
		if !strings.Contains(all, "This incident key") {
			t.Fatalf("%dx%d: the key's history cannot be reached:\n%s", size[0], size[1], ansi.Strip(a.Content()))
		}
	}
}

// An unknown tenant's ticket says it went to the fallback company; every
// detail names the ConnectWise company and the route's board.
func TestFeedDetailSaysWhereTheTicketWent(t *testing.T) {
	st := fixture(t)
	conn, err := st.Connection()
	if err != nil {
		t.Fatal(err)
	}
	conn.FallbackCompany = "Catchall"
	if err := st.SetConnection("t", conn); err != nil {
		t.Fatal(err)
	}
	inc := storage.Incident{ID: "inc-unknown", Type: "threat", Company: "unknown-tenant", Title: "Ransomware behaviour"}
	if _, _, err := st.EnqueueIncidents(context.Background(), []storage.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendFeed(storage.FeedEvent{Time: tu.Clock, Kind: storage.FeedCreated, Company: "unknown-tenant",
		IncidentID: inc.ID, TicketID: 250100, Message: "Ransomware behaviour"}); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 120, 40, Options{})
	d.Press("4", "home", "enter")
	c := ansi.Strip(a.Content())
	for _, want := range []string{"CW company Catchall (the fallback company", "Board      Security"} {
		if !strings.Contains(c, want) {
			t.Errorf("the detail lacks %q:\n%s", want, c)
		}
	}
}

// TestFeedDetailLinksTheTicket: the detail shows what was linked to the
// ticket (or why not) and the ticket's ConnectWise address as an OSC 8
// hyperlink, the address itself as its text.
func TestFeedDetailLinksTheTicket(t *testing.T) {
	st := fixture(t)
	tu.Connect(t, st, tu.Sim(t, 5)) // loopback: the notes come from the simulator
	key := storage.ScopedKey("acme", "k-linked")
	if err := st.PutIncidentKey(storage.IncidentKey{Key: key, Workspace: "acme", State: storage.KeyOpen, TicketID: 250200,
		Links: &storage.TicketLinks{ContactID: 7, Contact: "contact linked: Ann Smith", Configuration: "2 configurations named KIOSK-1: none attached"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendFeed(storage.FeedEvent{Time: tu.Clock, Kind: storage.FeedCreated, Company: "acme", Key: key,
		TicketID: 250200, Message: "Malware on PC-7"}); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 120, 40, Options{NewClient: tu.NewClient})
	d.Press("4", "home", "enter")
	raw := a.Content()
	c := ansi.Strip(raw)
	for _, want := range []string{"Contact    contact linked: Ann Smith", "Config     2 configurations named KIOSK-1: none attached",
		"Open       http://127.0.0.1:", "ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid="} {
		if !strings.Contains(c, want) {
			t.Errorf("the detail lacks %q:\n%s", want, c)
		}
	}
	if !strings.Contains(raw, "\x1b]8;;http://127.0.0.1:") {
		t.Error("the address is no OSC 8 hyperlink")
	}
}
