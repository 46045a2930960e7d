package alerts

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/storage"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

func newPage(t *testing.T, st *storage.Store, be *tu.Backend) (*Model, *tu.Driver) {
	t.Helper()
	m := New(tu.Common(st, be))
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, AsRoot: true, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	return m, d
}

func screen(m *Model) string { return ansi.Strip(m.View()) }

func pick(t *testing.T, m *Model, d *tu.Driver, row int, text string) {
	t.Helper()
	for m.edit.row != row {
		d.Press("down")
	}
	d.Press("enter")
	if m.edit.picker == nil {
		t.Fatalf("no picker for row %d:\n%s", row, screen(m))
	}
	d.Type(text)
	d.Press("enter")
	if m.edit.picker != nil {
		t.Fatalf("picker for %q still open:\n%s", text, screen(m))
	}
}

func TestEditRouteBoardRefreshesChoices(t *testing.T) {
	s := tu.Sim(t, 5)
	st := tu.Store(t)
	tu.Connect(t, st, s)
	m, d := newPage(t, st, &tu.Backend{})
	if _, ok := m.tables["boards"]; !ok {
		t.Fatal("boards not fetched from ConnectWise")
	}
	if _, err := st.Lookup(storage.LookupBoards, 0); err != nil {
		t.Fatalf("boards not cached in storage: %v", err)
	}
	d.Press("enter") // threat
	if m.edit == nil {
		t.Fatal("no editor")
	}
	pick(t, m, d, eBoard, "Security")
	sec := m.edit.route.Board.ID
	if m.edit.route.Status.Name != "New" || m.edit.route.ClosedStatus.Name != "Closed" {
		t.Fatalf("defaults after choosing a board: %+v", m.edit.route)
	}
	secStatus := m.edit.route.Status.ID
	pick(t, m, d, ePriority, "Priority 2")
	pick(t, m, d, eType, "Incident")
	// A new board: its own statuses (different ids), type cleared.
	pick(t, m, d, eBoard, "Help Desk")
	if m.edit.route.Board.ID == sec || m.edit.route.Status.ID == secStatus || m.edit.route.Status.ID == 0 {
		t.Fatalf("status not refreshed for the new board: %+v", m.edit.route)
	}
	if m.edit.route.Type.ID != 0 {
		t.Fatalf("type of the old board kept: %+v", m.edit.route.Type)
	}
	hdStatuses := m.tables[tableKey(storage.LookupStatuses, m.edit.route.Board.ID)]
	found := false
	for _, it := range hdStatuses.Items {
		found = found || it.ID == m.edit.route.Status.ID
	}
	if !found {
		t.Fatal("status is not one of the new board's")
	}
	pick(t, m, d, eType, "Alert")
	d.Press("ctrl+s")
	if m.edit != nil {
		t.Fatalf("editor open after save:\n%s", screen(m))
	}
	r, err := st.Route("threat")
	if err != nil || !r.Enabled || r.Board.Name != "Help Desk" || r.Type.Name != "Alert" || r.Priority.Name == "" {
		t.Fatalf("stored %+v %v", r, err)
	}
	if !strings.Contains(screen(m), "Help Desk") {
		t.Errorf("table lacks the route:\n%s", screen(m))
	}
}

func TestEnabledRouteNeedsBoard(t *testing.T) {
	st := tu.Store(t)
	m, d := newPage(t, st, &tu.Backend{})
	d.Press("enter", "ctrl+s")
	if m.edit == nil || !strings.Contains(screen(m), "needs a board") {
		t.Fatalf("want an inline error:\n%s", screen(m))
	}
	if _, err := st.Route("threat"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("saved a route without a board")
	}
}

func TestSendTestTicket(t *testing.T) {
	st := tu.Store(t)
	if err := st.PutRoute("t", storage.Route{AlertType: "threat", Enabled: true, Board: storage.Ref{ID: 1, Name: "Security"}, Status: storage.Ref{ID: 2, Name: "New"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutWorkspace("t", storage.Workspace{Key: "acme", CWCompany: "ACME"}); err != nil {
		t.Fatal(err)
	}
	tu.Connect(t, st, tu.Sim(t, 5)) // the ticket's address comes from the connection
	be := &tu.Backend{TicketID: 250123}
	m, d := newPage(t, st, be)
	d.Press("t")
	if m.wsPick == nil {
		t.Fatalf("no workspace picker:\n%s", screen(m))
	}
	d.Type("acme")
	d.Press("enter")
	if len(be.Tests) != 1 || be.Tests[0] != "threat/acme" {
		t.Fatalf("backend calls %v", be.Tests)
	}
	if !strings.Contains(d.Status.Text, "test ticket #250123 created for threat (acme)") {
		t.Fatalf("ticket id not shown: %q", d.Status.Text)
	}
	if got := strings.Join(strings.Fields(screen(m)), ""); !strings.Contains(got, "ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=250123") {
		t.Fatalf("the test ticket's address is not shown:\n%s", screen(m))
	}
	be.TicketErr = errors.New("route threat: board Security not found")
	d.Press("t", "enter")
	if !d.Status.Err || !strings.Contains(d.Status.Text, "failed: route threat: board Security not found") {
		t.Fatalf("error not shown: %+v", d.Status)
	}
	d.Press("down", "t") // malware: not set up
	if !strings.Contains(d.Status.Text, "not enabled") || len(be.Tests) != 2 {
		t.Fatalf("test ticket for a missing route: %+v", d.Status)
	}
}

// TestStaleRouteFormIsRefused: the scenario of two technicians. Ann opens
// the threat route's form; Bob switches the route off; Ann's priority
// change would switch it back on. Her save is refused, naming Bob and
// what he changed, and the form shows what is stored now; saving again
// applies her edits deliberately.
func TestStaleRouteFormIsRefused(t *testing.T) {
	s := tu.Sim(t, 5)
	st := tu.Store(t)
	tu.Connect(t, st, s)
	if err := st.PutRoute("config", storage.Route{AlertType: "threat", Enabled: true, Board: storage.Ref{Name: "Security"},
		Status: storage.Ref{Name: "New"}, Priority: storage.Ref{Name: "Priority 3 - Normal Response"}}); err != nil {
		t.Fatal(err)
	}
	ann, annD := newPage(t, st, &tu.Backend{})
	ann.c.Actor = "ssh:ann@laptop"
	bob, bobD := newPage(t, st, &tu.Backend{})
	bob.c.Actor = "ssh:bob@desk"

	annD.Press("enter") // Ann opens the threat form
	if ann.edit == nil {
		t.Fatal("no editor")
	}
	bobD.Press("space") // Bob switches the route off
	if r, _ := st.Route("threat"); r.Enabled {
		t.Fatal("Bob's toggle did not switch the route off")
	}
	pick(t, ann, annD, ePriority, "Priority 1")
	annD.Press("ctrl+s")
	if ann.edit == nil {
		t.Fatal("the stale save closed the form")
	}
	got := screen(ann)
	for _, want := range []string{"not saved", "ssh:bob@desk", "enabled", "now stored: enabled false"} {
		if !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
			t.Errorf("form lacks %q:\n%s", want, got)
		}
	}
	if r, _ := st.Route("threat"); r.Enabled || r.Priority.Name != "Priority 3 - Normal Response" {
		t.Fatalf("the stale save went through: %+v", r)
	}
	annD.Press("ctrl+s") // again: Ann applies her edits over Bob's
	if ann.edit != nil {
		t.Fatalf("second save refused:\n%s", screen(ann))
	}
	if r, _ := st.Route("threat"); !r.Enabled || !strings.HasPrefix(r.Priority.Name, "Priority 1") {
		t.Fatalf("after the deliberate save: %+v", r)
	}

	// Bob's page still holds the revision it last read: his toggle on it is
	// refused too, and says why.
	bobD.Press("space")
	if r, _ := st.Route("threat"); !r.Enabled {
		t.Fatal("a toggle on a stale view went through")
	}
	if st := bobD.Status; !st.Err || !strings.Contains(st.Text, "not switched") || !strings.Contains(st.Text, "ssh:ann@laptop") {
		t.Fatalf("status after the stale toggle: %+v", st)
	}
}

// TestFormSaysTheConfigFileSetsIt: a route the config file sets says so on
// its form: edits there last until the next restart.
func TestFormSaysTheConfigFileSetsIt(t *testing.T) {
	st := tu.Store(t)
	cfg, err := config.Parse("/etc/cwbridge.toml", []byte("[[routes]]\nalert_type = \"threat\"\nboard = \"Security\"\nstatus = \"New\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Apply(st, cfg); err != nil {
		t.Fatal(err)
	}
	c := tu.Common(st, &tu.Backend{})
	c.Config = cfg
	m := New(c)
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, AsRoot: true, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	d.Press("enter")
	if got := strings.Join(strings.Fields(screen(m)), " "); !strings.Contains(got, "set by /etc/cwbridge.toml: a restart applies the file's values over edits made here") {
		t.Fatalf("form:\n%s", screen(m))
	}
	d.Press("esc", "down", "enter") // a route the file does not set
	if strings.Contains(screen(m), "set by") {
		t.Fatalf("form of a route the file does not set:\n%s", screen(m))
	}
}

// TestRouteLinkSwitches: a route's contact and device linking are switched
// on the route's form and saved with it.
func TestRouteLinkSwitches(t *testing.T) {
	st := tu.Store(t)
	if err := st.PutRoute("t", storage.Route{AlertType: "threat", Enabled: true, Board: storage.Ref{ID: 1, Name: "Security"}, Status: storage.Ref{ID: 2, Name: "New"}}); err != nil {
		t.Fatal(err)
	}
	m, d := newPage(t, st, &tu.Backend{})
	d.Press("enter")
	if !strings.Contains(screen(m), "[x] the affected user's ConnectWise contact is set on the ticket (never emailed)") {
		t.Fatalf("form:\n%s", screen(m))
	}
	for m.edit.row != eLinkContact {
		d.Press("down")
	}
	d.Press("space", "ctrl+s")
	r, err := st.Route("threat")
	if err != nil || r.LinksContact() || !r.LinksConfiguration() {
		t.Fatalf("stored %+v %v: want contact linking off, device linking on", r, err)
	}
}
