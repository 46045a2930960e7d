package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// Seeded simulator ids: boards from 21 (Security), statuses from 101, six
// per board (New, In Progress, Waiting on Client, Resolved, Closed,
// Cancelled (Old)).
const (
	secBoard       = 21
	secNew         = 101
	secClosed      = 105
	helpDeskNew    = 107
	helpDeskClosed = 111
)

func (r *rig) simTicket(id int) map[string]any {
	for _, tk := range r.sim.Records("tickets") {
		if num(tk["id"]) == id {
			return tk
		}
	}
	return nil
}

func refID(v any) int {
	m, _ := v.(map[string]any)
	return num(m["id"])
}

// TestStaleLookupIsRefreshed: the cached lookup tables name ids that
// ConnectWise no longer has for the route's board (the statuses were
// rebuilt, so "New" has another id): the create is rejected, the engine
// refreshes its lookups and the ticket lands on the right status, and the
// close uses the refreshed closed status.
func TestStaleLookupIsRefreshed(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	now := time.Now().UTC()
	stale := storage.LookupTable{Kind: storage.LookupStatuses, BoardID: secBoard, FetchedAt: now, Items: []storage.LookupItem{
		{ID: helpDeskNew, Name: "New"}, {ID: helpDeskClosed, Name: "Closed", Closed: true}}}
	if err := r.store.PutLookup(stale); err != nil {
		t.Fatal(err)
	}
	r.submit(inc("s1", "ks", "firing"))
	got := r.waitSettled(10*time.Second, "s1")["s1"]
	if got.State != storage.StateTicketed {
		t.Fatalf("s1: %+v", got)
	}
	tk := r.simTicket(got.TicketID)
	if refID(tk["board"]) != secBoard || refID(tk["status"]) != secNew {
		t.Fatalf("ticket board %v status %v, want %d/%d", tk["board"], tk["status"], secBoard, secNew)
	}
	if tbl, _ := r.store.Lookup(storage.LookupStatuses, secBoard); len(tbl.Items) != 6 || tbl.Items[0].ID != secNew {
		t.Fatalf("statuses not refreshed in storage: %+v", tbl)
	}
	r.submit(inc("s2", "ks", "resolved"))
	if got := r.waitSettled(10*time.Second, "s2")["s2"]; got.State != storage.StateClosed {
		t.Fatalf("s2: %+v", got)
	}
	tk = r.simTicket(got.TicketID)
	if refID(tk["status"]) != secClosed || tk["closedFlag"] != true {
		t.Fatalf("closed ticket: status %v closedFlag %v", tk["status"], tk["closedFlag"])
	}
	if x := r.ticketsByXRef(); len(x) != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
}

// TestStaleBoardIDIsRefreshed: the cached board table maps the route's
// board name to an id ConnectWise does not have any more.
func TestStaleBoardIDIsRefreshed(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	if err := r.store.PutLookup(storage.LookupTable{Kind: storage.LookupBoards, FetchedAt: time.Now().UTC(),
		Items: []storage.LookupItem{{ID: 99, Name: "Security"}}}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.PutLookup(storage.LookupTable{Kind: storage.LookupStatuses, BoardID: 99, FetchedAt: time.Now().UTC(),
		Items: []storage.LookupItem{{ID: 999, Name: "New"}, {ID: 998, Name: "Closed", Closed: true}}}); err != nil {
		t.Fatal(err)
	}
	r.submit(inc("b1", "kb", "firing"))
	got := r.waitSettled(10*time.Second, "b1")["b1"]
	if got.State != storage.StateTicketed {
		t.Fatalf("b1: %+v", got)
	}
	if tk := r.simTicket(got.TicketID); refID(tk["board"]) != secBoard || refID(tk["status"]) != secNew {
		t.Fatalf("ticket board %v status %v", tk["board"], tk["status"])
	}
}

// TestBadRouteFailsVisibly: a route naming a board that does not exist,
// or a status (by id) of another board, fails the incident at once with an
// error naming the route and what is wrong; the feed shows it; nothing is
// retried.
func TestBadRouteFailsVisibly(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	for _, rt := range []storage.Route{
		{AlertType: "threat", Enabled: true, Board: storage.Ref{Name: "Nope Board"}, Status: storage.Ref{Name: "New"}},
		{AlertType: "dns_block", Enabled: true, Board: storage.Ref{ID: 4242}},
		{AlertType: "data_loss", Enabled: true, Board: storage.Ref{Name: "Security"}, Status: storage.Ref{ID: helpDeskNew}},
		{AlertType: "anomalous_login", Enabled: true, Board: storage.Ref{Name: "Legacy Board"}},
	} {
		if err := r.store.PutRoute("test", rt); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(id, typ string) storage.Incident {
		in := inc(id, "k-"+id, "firing")
		in.Type = typ
		return in
	}
	start := r.sim.Stats().ByRoute["POST service/tickets"]
	r.submit(mk("t1", "threat"), mk("t2", "dns_block"), mk("t3", "data_loss"), mk("t4", "anomalous_login"))
	got := r.waitSettled(10*time.Second, "t1", "t2", "t3", "t4")
	for id, want := range map[string][]string{
		"t1": {`route "threat"`, "board", "Nope Board", "not found", "Security"},
		"t2": {`route "dns_block"`, "board", "4242", "not found"},
		"t3": {`route "data_loss"`, "status", "107", "not found"},
		"t4": {`route "anomalous_login"`, "board", "Legacy Board"},
	} {
		g := got[id]
		if g.State != storage.StateFailed {
			t.Errorf("%s: %s %q, want failed", id, g.State, g.Error)
			continue
		}
		for _, w := range want {
			if !strings.Contains(g.Error, w) {
				t.Errorf("%s: error %q lacks %q", id, g.Error, w)
			}
		}
	}
	if n := r.sim.Stats().ByRoute["POST service/tickets"] - start; n != 0 {
		t.Errorf("%d ticket creates tried for bad routes", n)
	}
	failed, _ := r.store.FailedItems()
	if len(failed) != 4 {
		t.Fatalf("failed items: %+v", failed)
	}
	for _, it := range failed {
		if it.Attempts != 0 {
			t.Errorf("failed item %s was retried %d times before giving up", it.Ref, it.Attempts)
		}
	}
	feed, _ := r.store.RecentFeed(20)
	seen := map[string]bool{}
	for _, ev := range feed {
		if ev.Kind == storage.FeedFailed && strings.Contains(ev.Message, "route ") {
			seen[ev.IncidentID] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("feed shows %d of the 4 failures: %+v", len(seen), feed)
	}
	if h := r.eng.Health(); h.Failed != 4 || h.Paused {
		t.Errorf("health: %+v", h)
	}
}
