package engine

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

const fastTOML = `
[engine]
max_requests_per_minute = 10000
`

// waitDrained waits until the outbox is empty (timers included).
func (r *rig) waitDrained(timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for r.store.QueueLen() > 0 {
		if time.Now().After(deadline) {
			items, _ := r.store.PeekDue(farFuture, 20)
			r.t.Fatalf("outbox still holds %d items after %v: %+v; health %+v", r.store.QueueLen(), timeout, items, r.eng.Health())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var foldCountRE = regexp.MustCompile(`^(\d+) more occurrences? `)

// foldedOn sums the "N more occurrences" of a ticket's fold notes.
func (r *rig) foldedOn(ticket int) (sum, notes int) {
	for _, n := range r.sim.Records("notes") {
		if num(n["ticketId"]) != ticket {
			continue
		}
		if m := foldCountRE.FindStringSubmatch(n["text"].(string)); m != nil {
			k, _ := strconv.Atoi(m[1])
			sum += k
			notes++
		}
	}
	return sum, notes
}

// TestForwardingUnderFaults runs a few hundred incidents over 20 keys
// (repeats, resolves, second generations) against a simulator that fails,
// rate-limits and loses answers, and checks nothing is lost or doubled.
func TestForwardingUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	r := newRig(t, cwsim.Options{}, fastTOML, func(o *Options) { o.FoldWindow = 300 * time.Millisecond })
	r.sim.SetFaults(cwsim.Faults{Error500: 0.10, RateLimit: 0.05, RetryAfter: time.Second, LostResponse: 0.05, Latency: 3 * time.Millisecond})

	rng := rand.New(rand.NewPCG(42, 1))
	users := []string{"ann", "bob", "cy", "dee"}
	type genPlan struct {
		key      string
		gen      int
		repeats  int
		resolved bool
	}
	var plans []genPlan
	script := map[string][]storage.Incident{} // per key, in order
	want := map[string]storage.IncidentState{}
	genOf := map[string]genPlan{} // incident id → its generation
	n := 0
	for k := 0; k < 20; k++ {
		key := fmt.Sprintf("key-%02d", k)
		gens := 1
		if k%2 == 0 {
			gens = 2 // fires again after the resolve
		}
		for g := 1; g <= gens; g++ {
			p := genPlan{key: key, gen: g, repeats: rng.IntN(18), resolved: g == 1 || k%4 == 0}
			plans = append(plans, p)
			for i := 0; i <= p.repeats; i++ {
				n++
				in := inc(fmt.Sprintf("f%04d", n), key, "firing")
				in.User = users[rng.IntN(len(users))]
				in.Title = "Malware on " + key
				script[key] = append(script[key], in)
				genOf[in.ID] = p
				if i == 0 {
					want[in.ID] = storage.StateTicketed
				} else {
					want[in.ID] = storage.StateNoted
				}
			}
			if p.resolved {
				n++
				in := inc(fmt.Sprintf("r%04d", n), key, "resolved")
				in.Title = "Malware on " + key
				script[key] = append(script[key], in)
				genOf[in.ID] = p
				want[in.ID] = storage.StateClosed
			}
		}
	}
	// Interleave the keys, keeping each key's order, and submit in small
	// batches over a couple of seconds so timers, retries and new work mix.
	var all []storage.Incident
	for len(all) < n {
		for k := 0; k < 20; k++ {
			key := fmt.Sprintf("key-%02d", k)
			take := min(len(script[key]), 1+rng.IntN(3))
			all = append(all, script[key][:take]...)
			script[key] = script[key][take:]
		}
	}
	var ids []string
	for len(all) > 0 {
		b := min(len(all), 15)
		r.submit(all[:b]...)
		for _, in := range all[:b] {
			ids = append(ids, in.ID)
		}
		all = all[b:]
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
	}
	t.Logf("%d incidents, %d ticket generations", n, len(plans))

	got := r.waitSettled(50*time.Second, ids...)
	r.waitDrained(20 * time.Second)

	tickets := map[genPlan]int{}
	for id, inc := range got {
		if inc.State != want[id] {
			t.Errorf("%s (%s): %s %q, want %s", id, inc.Key, inc.State, inc.Error, want[id])
			continue
		}
		p := genOf[id]
		if tk, ok := tickets[p]; ok && tk != inc.TicketID {
			t.Errorf("%s: ticket %d, but its generation %s/%d is on %d", id, inc.TicketID, p.key, p.gen, tk)
		}
		tickets[p] = inc.TicketID
	}
	xrefs := r.ticketsByXRef()
	if len(xrefs) != len(plans) {
		t.Errorf("%d externalXRefs in ConnectWise, want %d (one per key and generation)", len(xrefs), len(plans))
	}
	for _, p := range plans {
		if c := xrefs[ExternalXRef(scopedKey("acme", p.key), p.gen)]; c != 1 {
			t.Errorf("%s generation %d: %d tickets", p.key, p.gen, c)
		}
	}
	byID := map[int]map[string]any{}
	for _, tk := range r.sim.Records("tickets") {
		byID[num(tk["id"])] = tk
	}
	for _, p := range plans {
		tk := byID[tickets[p]]
		if tk == nil {
			t.Errorf("%s/%d: ticket %d not in ConnectWise", p.key, p.gen, tickets[p])
			continue
		}
		if tk["externalXRef"] != ExternalXRef(scopedKey("acme", p.key), p.gen) {
			t.Errorf("%s/%d: ticket %d carries %v", p.key, p.gen, tickets[p], tk["externalXRef"])
		}
		if closed, _ := tk["closedFlag"].(bool); closed != p.resolved {
			t.Errorf("%s/%d: ticket %d closedFlag %v, want %v", p.key, p.gen, tickets[p], closed, p.resolved)
		}
		// Every repeat is on exactly one fold note: none lost to a failed
		// post, none doubled by a retry whose first answer was lost.
		if sum, _ := r.foldedOn(tickets[p]); sum != p.repeats {
			t.Errorf("%s/%d: fold notes on ticket %d count %d repeats, want %d: %q", p.key, p.gen, tickets[p], sum, p.repeats, r.notesOn(tickets[p]))
		}
	}
	st := r.sim.Stats()
	t.Logf("simulator: %d requests, %d 500s, %d 429s, %d lost; engine retries %d", st.Requests, st.Served500, st.Served429, st.Lost, r.eng.Health().Retries)
	if st.InsideRetryAfter != 0 {
		t.Errorf("%d requests arrived inside a Retry-After window", st.InsideRetryAfter)
	}
	if st.Served500+st.Served429+st.Lost == 0 {
		t.Errorf("faults not exercised: %+v", st)
	}
	if h := r.eng.Health(); h.Failed != 0 || h.Paused {
		t.Errorf("health: %+v", h)
	}
}

// TestRetryAfterAtDefaultRate is the Retry-After check at the default
// max_requests_per_minute (600), where requests queue at the rate limiter:
// one waiting for a token when a 429 arrives must still wait the window out.
func TestRetryAfterAtDefaultRate(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	r.sim.SetFaults(cwsim.Faults{RateLimit: 0.05, RetryAfter: time.Second})
	var ids []string
	for i := range 80 {
		in := inc(fmt.Sprintf("x%03d", i), fmt.Sprintf("k%03d", i), "firing")
		r.submit(in)
		ids = append(ids, in.ID)
	}
	r.waitSettled(60*time.Second, ids...)
	if st := r.sim.Stats(); st.InsideRetryAfter != 0 {
		t.Fatalf("%d requests arrived inside a Retry-After window: %+v", st.InsideRetryAfter, st)
	}
}
