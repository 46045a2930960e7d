package engine

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// shortTimeout gives each ConnectWise call 150 ms, so a slow commit is a
// timeout in the test's time.
func shortTimeout(o *Options) {
	base := o.ClientConfig
	o.ClientConfig = func(c *cwclient.Config) {
		if base != nil {
			base(c)
		}
		c.Timeout = 150 * time.Millisecond
	}
}

// TestSlowCreateIsNotDoubled: ConnectWise commits a create after the
// client gave up. The search right after the timeout finds nothing; that
// is no proof, so the engine keeps searching instead of creating again,
// and adopts the late ticket: one ticket, not two.
func TestSlowCreateIsNotDoubled(t *testing.T) {
	r := newRig(t, cwsim.Options{Faults: cwsim.Faults{SlowCommit: 700 * time.Millisecond}}, "", shortTimeout)
	seeded := int64(len(r.sim.Records("tickets")))
	r.submit(inc("s1", "ks", "firing"))
	got := r.waitSettled(20*time.Second, "s1")["s1"]
	if got.State != storage.StateTicketed || got.TicketID <= 0 {
		t.Fatalf("s1: %+v", got)
	}
	r.waitFor(10*time.Second, "every create to land", func() bool {
		return r.sim.Stats().ByRoute["POST service/tickets"] == int64(len(r.sim.Records("tickets")))-seeded
	})
	if x := r.ticketsByXRef(); len(x) != 1 || x[ExternalXRef(scopedKey("acme", "ks"), 1)] != 1 {
		t.Fatalf("tickets by xref: %v (creates sent: %d)", x, r.sim.Stats().ByRoute["POST service/tickets"])
	}
	if n := r.sim.Stats().ByRoute["POST service/tickets"]; n != 1 {
		t.Fatalf("create sent %d times, want 1", n)
	}
}

// TestBrokenCreateAnswerIsSearched: a 2xx that names no ticket ({"id":0},
// or a body cut short) is not success: the engine finds the real ticket by
// externalXRef and records its id, never 0.
func TestBrokenCreateAnswerIsSearched(t *testing.T) {
	for name, f := range map[string]cwsim.Faults{"zero id": {ZeroIDAnswer: 1}, "truncated": {TruncatedAnswer: 1}} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, cwsim.Options{Faults: f}, "", nil)
			r.submit(inc("b1", "kb", "firing"))
			got := r.waitSettled(10*time.Second, "b1")["b1"]
			var want int
			for _, tk := range r.sim.Records("tickets") {
				if tk["externalXRef"] == ExternalXRef(scopedKey("acme", "kb"), 1) {
					want = num(tk["id"])
				}
			}
			if got.State != storage.StateTicketed || got.TicketID != want || want <= 0 {
				t.Fatalf("b1: %+v; the ticket in ConnectWise is %d", got, want)
			}
			if x := r.ticketsByXRef(); len(x) != 1 {
				t.Fatalf("tickets by xref: %v", x)
			}
		})
	}
}

// TestOutageFailsNothing: while ConnectWise is unreachable, and while it
// answers only 500s, forwarding pauses, health says so, and no accepted
// incident is failed however long it lasts; afterwards every one gets its
// ticket, once.
func TestOutageFailsNothing(t *testing.T) {
	for _, tc := range []struct {
		name        string
		start, stop func(*rig)
		state       string
	}{
		{"refused", (*rig).down, (*rig).up, StateUnreachable},
		{"all 500", func(r *rig) { r.sim.SetFaults(cwsim.Faults{Error500: 1}) }, func(r *rig) { r.sim.SetFaults(cwsim.Faults{}) }, StateDegraded},
		{"hang-ups", func(r *rig) { r.sim.SetFaults(cwsim.Faults{HangUp: true}) }, func(r *rig) { r.sim.SetFaults(cwsim.Faults{}) }, StateDegraded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.MaxAttempts = 2; o.ProbeInterval = 20 * time.Millisecond })
			r.waitFor(10*time.Second, "the first answer", func() bool { return r.eng.Health().ConnectWise == StateOK })
			tc.start(r)
			var ids []string
			for i := range 10 {
				id := "o" + string(rune('a'+i))
				ids = append(ids, id)
				r.submit(inc(id, "ko"+id, "firing"))
			}
			r.waitFor(10*time.Second, "the pause", func() bool {
				h := r.eng.Health()
				return h.Paused && h.ConnectWise == tc.state && h.ErrorRate > 0
			})
			// Probes keep failing while it lasts; nothing is given up on.
			retries := r.eng.Health().LastErrorAt
			r.waitFor(20*time.Second, "probes during the outage", func() bool {
				return r.eng.Health().LastErrorAt.After(retries.Add(100 * time.Millisecond))
			})
			if h := r.eng.Health(); h.Failed != 0 || h.ConnectWise == StateOK {
				t.Fatalf("during the outage: %+v", h)
			}
			tc.stop(r)
			got := r.waitSettled(30*time.Second, ids...)
			for id, inc := range got {
				if inc.State != storage.StateTicketed {
					t.Errorf("%s: %+v", id, inc)
				}
			}
			for x, n := range r.ticketsByXRef() {
				if n != 1 {
					t.Errorf("%s has %d tickets", x, n)
				}
			}
			r.waitFor(10*time.Second, "ok again", func() bool { h := r.eng.Health(); return h.ConnectWise == StateOK && !h.Paused })
			if h := r.eng.Health(); h.Failed != 0 {
				t.Fatalf("after the outage: %+v", h)
			}
		})
	}
}

// TestHugeRetryAfterIsCapped: one "Retry-After: 86400" holds forwarding
// for the cap, not a day; health says throttled until when.
func TestHugeRetryAfterIsCapped(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", func(o *Options) {
		o.ProbeInterval = 20 * time.Millisecond
		base := o.ClientConfig
		o.ClientConfig = func(c *cwclient.Config) { base(c); c.MaxRetryAfter = 300 * time.Millisecond }
	})
	r.waitFor(10*time.Second, "the first answer", func() bool { return r.eng.Health().ConnectWise == StateOK })
	r.sim.SetFaults(cwsim.Faults{RateLimit: 1, RetryAfter: 24 * time.Hour})
	r.submit(inc("h1", "kh", "firing"))
	r.waitFor(10*time.Second, "the throttle", func() bool {
		h := r.eng.Health()
		return h.ConnectWise == StateThrottled && h.Paused && !h.ThrottledUntil.IsZero()
	})
	if h := r.eng.Health(); time.Until(h.ThrottledUntil) > time.Second {
		t.Fatalf("throttled until %v: more than the cap", h.ThrottledUntil)
	}
	r.sim.SetFaults(cwsim.Faults{})
	if got := r.waitSettled(10*time.Second, "h1")["h1"]; got.State != storage.StateTicketed {
		t.Fatalf("h1: %+v", got)
	}
	r.waitFor(10*time.Second, "ok again", func() bool { h := r.eng.Health(); return h.ConnectWise == StateOK && !h.Paused })
	_ = context.Background
}

// TestSameKeyTwoTenants: two workspaces sending the same explicit key get
// a ticket each, and an action on one tenant's ticket runs for that
// tenant's user, never the other's.
func TestSameKeyTwoTenants(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	a, g := inc("t1", "malware-PC-1", "firing"), inc("t2", "malware-PC-1", "firing")
	a.User = "ann@acme.test"
	g.Company, g.User = "globex", "gus@globex.test"
	r.submit(a)
	ta := r.waitSettled(10*time.Second, "t1")["t1"]
	r.submit(g)
	tg := r.waitSettled(10*time.Second, "t2")["t2"]
	if ta.State != storage.StateTicketed || tg.State != storage.StateTicketed || ta.TicketID == tg.TicketID {
		t.Fatalf("acme %+v, globex %+v: want a ticket each", ta, tg)
	}
	r.techNote(ta.TicketID, "Block User", true)
	r.poll()
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ta.TicketID)) == 1 })
	runs := readRuns(t, log)
	if len(runs) != 1 || runs[0].User != "ann@acme.test" || runs[0].IncidentKey != scopedKey("acme", "malware-PC-1") {
		t.Fatalf("action ran with %+v, want acme's user", runs)
	}
}

// TestSlowNoteIsNotDoubled: a note that ConnectWise commits after the
// client gave up is searched for, not posted again.
func TestSlowNoteIsNotDoubled(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", shortTimeout)
	ticket := r.openTicket("n0", "kn")
	before := len(r.notesOn(ticket))
	r.sim.SetFaults(cwsim.Faults{SlowCommit: 700 * time.Millisecond})
	r.submit(inc("n1", "kn", "firing"))
	r.waitFor(20*time.Second, "the repeat's note", func() bool { return len(r.notesOn(ticket)) > before && r.store.QueueLen() == 0 })
	r.waitFor(10*time.Second, "every post to land", func() bool {
		return r.sim.Stats().ByRoute["POST service/tickets/{id}/notes"] == int64(len(r.notesOn(ticket))-before)
	})
	if got := r.notesOn(ticket)[before:]; len(got) != 1 {
		t.Fatalf("%d notes for one repeat: %q", len(got), got)
	}
}

// TestGatewayTimeoutIsNotDoubled: a gateway answers 504 while ConnectWise
// is still committing the create. The search right after finds nothing;
// the engine keeps searching instead of creating again. A resolve arriving
// meanwhile waits too, so the late ticket is closed, not left open.
func TestGatewayTimeoutIsNotDoubled(t *testing.T) {
	r := newRig(t, cwsim.Options{Faults: cwsim.Faults{SlowCommit: 500 * time.Millisecond}}, "", nil)
	seeded := int64(len(r.sim.Records("tickets")))
	gateway := func(req *http.Request) bool {
		return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "service/tickets")
	}
	r.gateway.Store(&gateway)
	r.submit(inc("g1", "kg", "firing"))
	r.waitFor(10*time.Second, "the 504", func() bool { return r.sim.Stats().ByRoute["POST service/tickets"] >= 1 })
	r.gateway.Store(nil)
	r.submit(inc("g2", "kg", "resolved"))
	got := r.waitSettled(20*time.Second, "g1", "g2")
	if got["g1"].State != storage.StateTicketed || got["g1"].TicketID <= 0 {
		t.Fatalf("g1: %+v", got["g1"])
	}
	if got["g2"].State != storage.StateClosed {
		t.Fatalf("g2: %+v (the late ticket must be closed)", got["g2"])
	}
	r.waitFor(10*time.Second, "every create to land", func() bool {
		return r.sim.Stats().ByRoute["POST service/tickets"] == int64(len(r.sim.Records("tickets")))-seeded
	})
	if n := r.sim.Stats().ByRoute["POST service/tickets"]; n != 1 {
		t.Fatalf("create sent %d times, want 1", n)
	}
}
