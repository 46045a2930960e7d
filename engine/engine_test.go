package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

func TestTicketLifecycle(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	r.submit(inc("a1", "k1", "firing"))
	got := r.waitSettled(10*time.Second, "a1")
	if got["a1"].State != storage.StateTicketed || got["a1"].TicketID == 0 {
		t.Fatalf("a1: %+v", got["a1"])
	}
	ticket := got["a1"].TicketID
	r.submit(inc("a2", "k1", "firing"))
	if got := r.waitSettled(10*time.Second, "a2"); got["a2"].State != storage.StateNoted || got["a2"].TicketID != ticket {
		t.Fatalf("a2: %+v", got["a2"])
	}
	r.submit(inc("a3", "k1", "resolved"))
	if got := r.waitSettled(10*time.Second, "a3"); got["a3"].State != storage.StateClosed {
		t.Fatalf("a3: %+v", got["a3"])
	}
	var tk map[string]any
	for _, x := range r.sim.Records("tickets") {
		if num(x["id"]) == ticket {
			tk = x
		}
	}
	if tk == nil || tk["closedFlag"] != true || !strings.HasPrefix(tk["summary"].(string), "[HIGH] Malware on PC-7") {
		t.Fatalf("ticket in ConnectWise: %v", tk)
	}
	var notes []string
	for _, n := range r.sim.Records("notes") {
		if num(n["ticketId"]) == ticket {
			notes = append(notes, n["text"].(string))
		}
	}
	if len(notes) != 3 || !strings.Contains(notes[1], "1 more occurrence") || !strings.Contains(notes[2], "Resolved") {
		t.Fatalf("notes: %q", notes)
	}
	// After a close, a new trigger opens a new ticket (reopen = "new").
	r.submit(inc("a4", "k1", "firing"))
	got4 := r.waitSettled(10*time.Second, "a4")["a4"]
	if got4.State != storage.StateTicketed || got4.TicketID == ticket {
		t.Fatalf("a4: %+v (first ticket %d)", got4, ticket)
	}
	if x := r.ticketsByXRef(); len(x) != 2 || x[ExternalXRef(scopedKey("acme", "k1"), 1)] != 1 || x[ExternalXRef(scopedKey("acme", "k1"), 2)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
	// Dropped, with the reason, never silently.
	d1 := inc("d1", "kd", "firing")
	d1.Type = "phishing"
	d2 := inc("d2", "kd2", "firing")
	d2.Type = "dns_block"
	r.submit(d1, d2)
	got = r.waitSettled(10*time.Second, "d1", "d2")
	if got["d1"].State != storage.StateDropped || !strings.Contains(got["d1"].Error, "disabled") ||
		got["d2"].State != storage.StateDropped || !strings.Contains(got["d2"].Error, "no route") {
		t.Fatalf("drops: %+v", got)
	}
	feed, _ := r.store.RecentFeed(50)
	kinds := map[storage.FeedKind]int{}
	for _, ev := range feed {
		kinds[ev.Kind]++
	}
	if kinds[storage.FeedCreated] != 2 || kinds[storage.FeedNoted] != 1 || kinds[storage.FeedClosed] != 1 || kinds[storage.FeedDropped] != 2 {
		t.Fatalf("feed kinds: %v", kinds)
	}
}
