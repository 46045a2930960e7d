package engine

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// TestResolveNoteAnswerLost: the resolution note is committed but its
// answer lost, then the close's answer too; the retry posts no second
// resolution note and the ticket ends closed.
func TestResolveNoteAnswerLost(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	ticket := r.openTicket("z0", "kz")
	r.loseWhen(func(req *http.Request) bool {
		return req.Method == "PATCH" || req.Method == "POST" && strings.HasSuffix(req.URL.Path, "/notes")
	})
	r.submit(inc("z1", "kz", "resolved"))
	r.waitFor(10*time.Second, "a lost close", func() bool {
		items := r.outboxItems()
		return r.simTicket(ticket)["closedFlag"] == true && len(items) == 1 && items[0].Attempts >= 2
	})
	r.loseAnswers("", "")
	if got := r.waitSettled(10*time.Second, "z1")["z1"]; got.State != storage.StateClosed || got.TicketID != ticket {
		t.Fatalf("z1: %+v", got)
	}
	n := 0
	for _, x := range r.notesOn(ticket) {
		if strings.HasPrefix(x, "Resolved by the security platform") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d resolution notes: %q", n, r.notesOn(ticket))
	}
	if k, _ := r.store.IncidentKey(scopedKey("acme", "kz")); k.State != storage.KeyClosed || k.ResolveNoted {
		t.Fatalf("key: %+v", k)
	}
}

// TestResolveWithoutTicketIsDropped: a resolve for a key that has no open
// ticket is dropped with a reason, never silently.
func TestResolveWithoutTicketIsDropped(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	r.submit(inc("y1", "ky", "resolved"))
	if got := r.waitSettled(10*time.Second, "y1")["y1"]; got.State != storage.StateDropped || !strings.Contains(got.Error, "no ticket") {
		t.Fatalf("y1: %+v", got)
	}
}

// TestFlushTimerWaitsForResolveRetry: a resolve posts the owed fold note,
// its answer is lost, and its retry is later than the key's fold timer.
// The timer must not post the same repeats again while the resolve's retry
// (which will find the note) is pending.
func TestFlushTimerWaitsForResolveRetry(t *testing.T) {
	const window = 300 * time.Millisecond
	r := newRig(t, cwsim.Options{}, "", func(o *Options) {
		o.FoldWindow = window
		o.RetryBase, o.RetryMax = 2*time.Second, 2*time.Second // a retry in 1-2s, after the timer
	})
	ticket := r.openTicket("t0", "kt")
	r.submit(inc("t1", "kt", "firing"))
	r.waitFor(5*time.Second, "the first note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	burst, ids := repeats("kt", 0, 2, "bob")
	r.submit(burst...)
	r.waitSettled(5*time.Second, ids...)
	r.loseAnswers("POST", "/notes")
	r.submit(inc("t9", "kt", "resolved"))
	r.waitFor(5*time.Second, "the resolve's lost note", func() bool {
		for _, it := range r.outboxItems() {
			if it.Kind == storage.OutboxIncident && it.Attempts >= 1 {
				return true
			}
		}
		return false
	})
	r.loseAnswers("", "")
	if got := r.waitSettled(10*time.Second, "t9")["t9"]; got.State != storage.StateClosed {
		t.Fatalf("t9: %+v", got)
	}
	r.waitDrained(5 * time.Second)
	if sum, n := r.foldedOn(ticket); sum != 3 || n != 2 {
		t.Fatalf("fold notes count %d repeats in %d notes, want 3 in 2: %q", sum, n, r.foldNotesOn(ticket))
	}
}
