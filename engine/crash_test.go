package engine

import (
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// outboxItems returns every pending outbox item (timers included).
func (r *rig) outboxItems() []storage.OutboxItem {
	r.t.Helper()
	items, err := r.store.PeekDue(farFuture, 10000)
	if err != nil {
		r.t.Fatal(err)
	}
	return items
}

// waitFor polls cond until it holds.
func (r *rig) waitFor(timeout time.Duration, what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %v waiting for %s; health %+v", timeout, what, r.eng.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCrashBetweenPendingMarkerAndCreate: the ticket POST is committed in
// ConnectWise but its answer never arrives, and cwbridge stops before it
// learns the outcome. After a restart the incident ends on the ticket that
// was committed, and no second ticket is made.
func TestCrashBetweenPendingMarkerAndCreate(t *testing.T) {
	// Retries far in the future: the first engine must not settle the
	// doubt itself before it "crashes".
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.RetryBase, o.RetryMax = time.Hour, time.Hour })
	r.sim.SetFaults(cwsim.Faults{LostResponse: 1})
	r.submit(inc("c1", "kc", "firing"))
	r.waitFor(10*time.Second, "the lost create", func() bool {
		k, err := r.store.IncidentKey(scopedKey("acme", "kc"))
		items := r.outboxItems()
		return err == nil && k.State == storage.KeyPendingCreate && len(items) == 1 && items[0].Attempts == 1
	})
	r.halt()
	committed := r.ticketFor(ExternalXRef(scopedKey("acme", "kc"), 1))
	if committed == 0 {
		t.Fatal("the create was not committed")
	}
	if got, _ := r.store.Incident("c1"); got.State != storage.StateQueued {
		t.Fatalf("c1 before the restart: %+v", got)
	}

	// The process died: its retry timer is as good as gone, the item is
	// due at once on start, as after a crash before the retry was written.
	items := r.outboxItems()
	if err := r.store.Reschedule(items[0].Seq, time.Now(), "crashed"); err != nil {
		t.Fatal(err)
	}
	r.sim.SetFaults(cwsim.Faults{})
	r.restart(func(o *Options) { o.RetryBase, o.RetryMax = 5*time.Millisecond, 100*time.Millisecond })

	got := r.waitSettled(10*time.Second, "c1")["c1"]
	if got.State != storage.StateTicketed || got.TicketID != committed {
		t.Fatalf("c1: %+v, want ticketed on %d", got, committed)
	}
	if x := r.ticketsByXRef(); len(x) != 1 || x[ExternalXRef(scopedKey("acme", "kc"), 1)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
	k, _ := r.store.IncidentKey(scopedKey("acme", "kc"))
	if k.State != storage.KeyOpen || k.TicketID != committed {
		t.Fatalf("key: %+v", k)
	}
	// The key works on: a repeat lands on the committed ticket.
	r.submit(inc("c2", "kc", "firing"))
	if got := r.waitSettled(10*time.Second, "c2")["c2"]; got.State != storage.StateNoted || got.TicketID != committed {
		t.Fatalf("c2: %+v", got)
	}
	if x := r.ticketsByXRef(); len(x) != 1 || x[ExternalXRef(scopedKey("acme", "kc"), 1)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
}

// ticketFor returns the id of the (last) simulator ticket carrying xref.
func (r *rig) ticketFor(xref string) int {
	id := 0
	for _, tk := range r.sim.Records("tickets") {
		if tk["externalXRef"] == xref {
			id = num(tk["id"])
		}
	}
	return id
}

// TestCrashBeforeCreateLanded: the marker is on disk but the POST never
// reached ConnectWise (500s until the process stopped). After a restart
// the search finds nothing and exactly one ticket is made.
func TestCrashBeforeCreateLanded(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.RetryBase, o.RetryMax = time.Hour, time.Hour })
	// Lookups first, so the only call that fails is the create.
	r.submit(inc("w1", "kw", "firing"))
	r.waitSettled(10*time.Second, "w1")
	r.sim.SetFaults(cwsim.Faults{Error500: 1})
	r.submit(inc("c1", "kc", "firing"))
	r.waitFor(10*time.Second, "the failed create", func() bool {
		k, err := r.store.IncidentKey(scopedKey("acme", "kc"))
		items := r.outboxItems()
		return err == nil && k.State == storage.KeyPendingCreate && len(items) == 1 && items[0].Attempts == 1
	})
	r.halt()
	if err := r.store.Reschedule(r.outboxItems()[0].Seq, time.Now(), "crashed"); err != nil {
		t.Fatal(err)
	}
	r.sim.SetFaults(cwsim.Faults{})
	r.restart(func(o *Options) { o.RetryBase, o.RetryMax = 5*time.Millisecond, 100*time.Millisecond })
	got := r.waitSettled(10*time.Second, "c1")["c1"]
	if got.State != storage.StateTicketed || got.TicketID == 0 {
		t.Fatalf("c1: %+v", got)
	}
	if x := r.ticketsByXRef(); x[ExternalXRef(scopedKey("acme", "kc"), 1)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
}
