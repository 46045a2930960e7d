package main

import (
	"testing"
	"time"
)

// The real TUI through the real server: a listed key gets it, opens on the
// Feed of a finished setup and can move between pages.
func TestSSHRealTUINavigates(t *testing.T) {
	r := newTUIRig(t, "ann@laptop")
	ann := r.connect(t, "ann@laptop", 100, 30)
	ann.wait("cwbridge", "Companies", "Activity", "severity") // the tabs, on the Feed
	ann.press("1")
	ann.wait("complete", "Agreement")
	ann.press("6")
	ann.wait("changes", "settings/connectwise", "tui:root")
	ann.press("?")
	ann.wait("Everywhere")
	ann.quit()
}

// Two technicians on one server see each other's changes as they are
// made: a route one switches off shows, with their name, on the other's
// Activity page, and the other way round.
func TestSSHTwoSessionsSeeEachOther(t *testing.T) {
	r := newTUIRig(t, "ann@laptop", "bob@desk")
	ann := r.connect(t, "ann@laptop", 100, 30)
	bob := r.connect(t, "bob@desk", 100, 30)
	ann.wait("severity")
	bob.wait("severity")

	ann.press("6")
	ann.wait("changes")
	bob.press("3")
	bob.wait("threat")
	ann.press() // mark: only what ann's screen draws from here on counts
	start := time.Now()
	bob.press(" ")
	ann.wait("bob@desk", "routes/threat")
	if d := time.Since(start); d > time.Second {
		t.Errorf("ann saw bob's change after %v, want within a second", d)
	}

	bob.press("6")
	bob.wait("changes")
	ann.press("3")
	ann.wait("threat")
	bob.press()
	start = time.Now()
	ann.press(" ")
	bob.wait("ann@laptop")
	if d := time.Since(start); d > time.Second {
		t.Errorf("bob saw ann's change after %v, want within a second", d)
	}
	ann.quit()
	bob.quit()
}

// A viewer's key (role=viewer in its comment) gets the real TUI read-only:
// the footer says so and a route toggle is refused, the store unchanged.
func TestSSHViewerChangesNothing(t *testing.T) {
	r := newTUIRig(t, "bob@desk role=viewer")
	bob := r.connect(t, "bob@desk role=viewer", 120, 40)
	bob.wait("read-only", "severity")
	bob.press("3")
	bob.wait("threat")
	bob.press(" ")
	bob.wait("viewer", "cannot", "switch")
	if rt, err := r.store.Route("threat"); err != nil || !rt.Enabled {
		t.Fatalf("a viewer's toggle changed the route: %+v %v", rt, err)
	}
	if log, _ := r.store.AuditLog(0); len(log) > 0 && log[0].Actor == "ssh:bob@desk" {
		t.Fatalf("a viewer's change is in the audit log: %+v", log[0])
	}
	bob.quit()
}
