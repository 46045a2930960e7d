package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// TestReopen: with engine.reopen = "reopen", a trigger after a resolve
// puts the closed ticket back to the route's status with a note instead of
// opening a new one; repeats and a second resolve work on it as before.
func TestReopen(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "\n[engine]\nreopen = \"reopen\"\n", nil)
	ticket := r.openTicket("o1", "ko")
	r.submit(inc("o2", "ko", "resolved"))
	if got := r.waitSettled(10*time.Second, "o2")["o2"]; got.State != storage.StateClosed {
		t.Fatalf("o2: %+v", got)
	}
	if tk := r.simTicket(ticket); tk["closedFlag"] != true {
		t.Fatalf("not closed: %v", tk)
	}

	again := inc("o3", "ko", "firing")
	again.Device = "PC-9"
	r.submit(again)
	got := r.waitSettled(10*time.Second, "o3")["o3"]
	if got.State != storage.StateTicketed || got.TicketID != ticket {
		t.Fatalf("o3: %+v (ticket %d)", got, ticket)
	}
	tk := r.simTicket(ticket)
	if tk["closedFlag"] != false || refID(tk["status"]) != secNew {
		t.Fatalf("reopened ticket: closedFlag %v status %v", tk["closedFlag"], tk["status"])
	}
	notes := r.notesOn(ticket)
	if last := notes[len(notes)-1]; !strings.HasPrefix(last, "Reopened") || !strings.Contains(last, "PC-9") {
		t.Fatalf("notes: %q", notes)
	}
	if x := r.ticketsByXRef(); len(x) != 1 || x[ExternalXRef(scopedKey("acme", "ko"), 1)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
	k, _ := r.store.IncidentKey(scopedKey("acme", "ko"))
	if k.State != storage.KeyOpen || k.TicketID != ticket || k.Generation != 1 {
		t.Fatalf("key: %+v", k)
	}

	r.submit(inc("o4", "ko", "firing"))
	if got := r.waitSettled(10*time.Second, "o4")["o4"]; got.State != storage.StateNoted || got.TicketID != ticket {
		t.Fatalf("o4: %+v", got)
	}
	r.submit(inc("o5", "ko", "resolved"))
	if got := r.waitSettled(10*time.Second, "o5")["o5"]; got.State != storage.StateClosed || got.TicketID != ticket {
		t.Fatalf("o5: %+v", got)
	}
	if tk := r.simTicket(ticket); tk["closedFlag"] != true {
		t.Fatalf("not closed again: %v", tk)
	}
	resolutions := 0
	for _, n := range r.notesOn(ticket) {
		if strings.HasPrefix(n, "Resolved by the security platform") {
			resolutions++
		}
	}
	if resolutions != 2 {
		t.Fatalf("%d resolution notes, want 2: %q", resolutions, r.notesOn(ticket))
	}
	feed, _ := r.store.RecentFeed(50)
	reopened := 0
	for _, ev := range feed {
		if ev.Kind == storage.FeedReopened && ev.TicketID == ticket {
			reopened++
		}
	}
	if reopened != 1 {
		t.Fatalf("feed: %d reopen events", reopened)
	}
}

// TestReopenNoteNotDoubled: the reopen note's answer is lost; the retry
// finds it instead of posting a second one.
func TestReopenNoteNotDoubled(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "\n[engine]\nreopen = \"reopen\"\n", nil)
	ticket := r.openTicket("p1", "kp")
	r.submit(inc("p2", "kp", "resolved"))
	r.waitSettled(10*time.Second, "p2")
	r.loseAnswers("POST", "/notes")
	r.submit(inc("p3", "kp", "firing"))
	count := func() int {
		n := 0
		for _, x := range r.notesOn(ticket) {
			if strings.HasPrefix(x, "Reopened") {
				n++
			}
		}
		return n
	}
	r.waitFor(10*time.Second, "the lost reopen note", func() bool { return r.lost.Load() >= 1 && count() == 1 })
	r.loseAnswers("", "")
	if got := r.waitSettled(10*time.Second, "p3")["p3"]; got.State != storage.StateTicketed || got.TicketID != ticket {
		t.Fatalf("p3: %+v", got)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d reopen notes", n)
	}
}
