package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// notesOn returns a ticket's note texts in order.
func (r *rig) notesOn(ticket int) []string {
	var out []string
	for _, n := range r.sim.Records("notes") {
		if num(n["ticketId"]) == ticket {
			out = append(out, n["text"].(string))
		}
	}
	return out
}

// foldNotesOn returns a ticket's fold notes.
func (r *rig) foldNotesOn(ticket int) []string {
	var out []string
	for _, n := range r.notesOn(ticket) {
		if foldCountRE.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

func (r *rig) openTicket(id, key string) int {
	r.t.Helper()
	r.submit(inc(id, key, "firing"))
	got := r.waitSettled(10*time.Second, id)[id]
	if got.State != storage.StateTicketed {
		r.t.Fatalf("%s: %+v", id, got)
	}
	return got.TicketID
}

func repeats(key string, from, n int, users ...string) ([]storage.Incident, []string) {
	var incs []storage.Incident
	var ids []string
	for i := range n {
		in := inc(fmt.Sprintf("%s-r%03d", key, from+i), key, "firing")
		in.User = users[i%len(users)]
		incs = append(incs, in)
		ids = append(ids, in.ID)
	}
	return incs, ids
}

// TestFoldBurst: a burst of repeats on an open key becomes one note naming
// the count and the users; the next burst inside the window waits for the
// window's end and is one more note: at most two calls per key per window.
func TestFoldBurst(t *testing.T) {
	const window = time.Second
	r := newRig(t, cwsim.Options{}, fastTOML, func(o *Options) { o.FoldWindow = window })
	ticket := r.openTicket("b0", "kb")
	r.sim.ResetStats()

	burst, ids := repeats("kb", 0, 25, "ann", "bob", "cy", "ann", "dee")
	r.submit(burst...)
	got := r.waitSettled(10*time.Second, ids...)
	for _, id := range ids {
		if got[id].State != storage.StateNoted || got[id].TicketID != ticket {
			t.Fatalf("%s: %+v", id, got[id])
		}
	}
	r.waitFor(5*time.Second, "the burst's note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	first := time.Now()
	n := r.foldNotesOn(ticket)[0]
	if !strings.HasPrefix(n, "25 more occurrences") || !strings.Contains(n, "users: ann, bob, cy, dee") {
		t.Fatalf("burst note: %q", n)
	}

	// A second burst inside the window is held until the window ends.
	burst2, ids2 := repeats("kb", 100, 10, "eve")
	r.submit(burst2...)
	r.waitSettled(10*time.Second, ids2...)
	time.Sleep(window / 4)
	if notes := r.foldNotesOn(ticket); len(notes) != 1 && time.Since(first) < window {
		t.Fatalf("second burst posted inside the window: %q", notes)
	}
	r.waitFor(5*time.Second, "the second note", func() bool { return len(r.foldNotesOn(ticket)) == 2 })
	if notes := r.foldNotesOn(ticket); !strings.HasPrefix(notes[1], "10 more occurrences") || !strings.Contains(notes[1], "users: eve") {
		t.Fatalf("second note: %q", notes[1])
	}
	r.waitDrained(5 * time.Second)
	st := r.sim.Stats()
	if st.Requests != 2 || st.ByRoute["POST service/tickets/{id}/notes"] != 2 {
		t.Fatalf("ConnectWise calls for 35 repeats over two windows: %v (want 2 note posts, nothing else)", st.ByRoute)
	}
	if k, _ := r.store.IncidentKey(scopedKey("acme", "kb")); k.Occurrences != 36 || k.Unnoted != 0 || k.FlushScheduled {
		t.Fatalf("key: %+v", k)
	}
}

// TestFoldFlushSurvivesRestart: repeats gathered for the end of the window
// are posted by the flush item after a restart.
func TestFoldFlushSurvivesRestart(t *testing.T) {
	const window = 700 * time.Millisecond
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.FoldWindow = window })
	ticket := r.openTicket("s0", "ks")
	r.submit(inc("s1", "ks", "firing"))
	r.waitSettled(10*time.Second, "s1")
	r.waitFor(5*time.Second, "the first note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	burst, ids := repeats("ks", 0, 4, "bob", "cy")
	r.submit(burst...)
	r.waitSettled(10*time.Second, ids...)
	r.halt()
	if notes := r.foldNotesOn(ticket); len(notes) != 1 {
		t.Fatalf("notes before the restart: %q", notes)
	}
	if k, _ := r.store.IncidentKey(scopedKey("acme", "ks")); k.Unnoted != 4 || !k.FlushScheduled {
		t.Fatalf("key before the restart: %+v", k)
	}
	r.restart(nil)
	r.waitFor(5*time.Second, "the owed note", func() bool { return len(r.foldNotesOn(ticket)) == 2 })
	if n := r.foldNotesOn(ticket)[1]; !strings.HasPrefix(n, "4 more occurrences") || !strings.Contains(n, "users: bob, cy") {
		t.Fatalf("owed note: %q", n)
	}
	r.waitDrained(5 * time.Second)
}

// TestFoldNoteRetriedAfterFailure: the first repeat's note fails to post
// (ConnectWise answers 500 throughout the client's retries); the repeat is
// attached to the ticket at once, and its note is owed and posted once
// ConnectWise recovers, not lost.
func TestFoldNoteRetriedAfterFailure(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	ticket := r.openTicket("q0", "kq")
	r.sim.SetFaults(cwsim.Faults{Error500: 1})
	r.submit(inc("q1", "kq", "firing"))
	if got := r.waitSettled(10*time.Second, "q1")["q1"]; got.State != storage.StateNoted {
		t.Fatalf("q1: %+v", got)
	}
	r.waitFor(10*time.Second, "failed note posts", func() bool { return r.sim.Stats().Served500 >= 6 })
	r.sim.SetFaults(cwsim.Faults{})
	r.waitFor(10*time.Second, "the note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	if n := r.foldNotesOn(ticket)[0]; !strings.HasPrefix(n, "1 more occurrence ") {
		t.Fatalf("note: %q", n)
	}
	r.waitDrained(5 * time.Second)
	if n := len(r.foldNotesOn(ticket)); n != 1 {
		t.Fatalf("%d fold notes", n)
	}
}

// TestResolveFlushesOwedRepeats: a resolve inside the window posts the
// gathered repeats before the resolution note; the flush timer then has
// nothing left to post.
func TestResolveFlushesOwedRepeats(t *testing.T) {
	const window = 500 * time.Millisecond
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.FoldWindow = window })
	ticket := r.openTicket("v0", "kv")
	r.submit(inc("v1", "kv", "firing"))
	r.waitFor(5*time.Second, "the first note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	burst, ids := repeats("kv", 0, 3, "bob")
	r.submit(burst...)
	r.waitSettled(10*time.Second, ids...)
	r.submit(inc("v9", "kv", "resolved"))
	if got := r.waitSettled(10*time.Second, "v9")["v9"]; got.State != storage.StateClosed {
		t.Fatalf("v9: %+v", got)
	}
	time.Sleep(window + 200*time.Millisecond)
	r.waitDrained(5 * time.Second)
	notes := r.notesOn(ticket)
	if len(notes) != 4 || !strings.HasPrefix(notes[1], "1 more occurrence ") || !strings.HasPrefix(notes[2], "3 more occurrences") ||
		!strings.HasPrefix(notes[3], "Resolved by the security platform") {
		t.Fatalf("notes: %q", notes)
	}
}

// TestFoldRetryDoesNotMistakeAnOlderNote: a fold note fails (500s) and is
// retried; an earlier fold note of the same ticket has the same count,
// users and minute. The retry must not take that older note for its own
// and skip posting.
func TestFoldRetryDoesNotMistakeAnOlderNote(t *testing.T) {
	const window = 100 * time.Millisecond
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.FoldWindow = window })
	ticket := r.openTicket("m0", "km")
	r.submit(inc("m1", "km", "firing"))
	r.waitFor(5*time.Second, "the first note", func() bool { return len(r.foldNotesOn(ticket)) == 1 })
	r.waitDrained(5 * time.Second)
	time.Sleep(window)
	r.sim.SetFaults(cwsim.Faults{Error500: 1})
	r.submit(inc("m2", "km", "firing"))
	r.waitFor(10*time.Second, "a failed flush", func() bool {
		items := r.outboxItems()
		return len(items) == 1 && items[0].Kind == storage.OutboxFlush && items[0].Attempts >= 1
	})
	r.sim.SetFaults(cwsim.Faults{})
	r.waitDrained(10 * time.Second)
	if sum, n := r.foldedOn(ticket); sum != 2 || n != 2 {
		t.Fatalf("fold notes count %d repeats in %d notes, want 2 in 2: %q", sum, n, r.foldNotesOn(ticket))
	}
}

// TestFoldNoteAnswerLost: the flush's note is committed but its answer is
// lost; the retry finds it and does not post it twice.
func TestFoldNoteAnswerLost(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	ticket := r.openTicket("x0", "kx")
	r.loseAnswers("POST", "/notes")
	burst, _ := repeats("kx", 0, 3, "ann")
	r.submit(burst...)
	r.waitFor(10*time.Second, "the lost note", func() bool { return r.lost.Load() >= 1 && len(r.foldNotesOn(ticket)) == 1 })
	r.loseAnswers("", "")
	r.waitDrained(10 * time.Second)
	if sum, n := r.foldedOn(ticket); sum != 3 || n != 1 {
		t.Fatalf("fold notes: %q", r.foldNotesOn(ticket))
	}
}

// A note whose post began before a crash (marker on disk, no retry
// recorded) is checked against the ticket instead of posted again.
func TestNoteNotPostedTwiceAfterCrashMidPost(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	r.submit(inc("c1", "kc", "firing"))
	ticket := r.waitSettled(10*time.Second, "c1")["c1"].TicketID
	c := r.eng.Client()
	n := cwclient.Note{Text: "37 more occurrences 10:02–10:04 UTC (38 in all)", DetailDescriptionFlag: true}
	// The first attempt posts; the process "dies" before recording anything.
	if err := r.eng.addNoteOnce(context.Background(), c, ticket, n, false, "acme"); err != nil {
		t.Fatal(err)
	}
	// The redelivered work has no retry record (again = false).
	if err := r.eng.addNoteOnce(context.Background(), c, ticket, n, false, "acme"); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, x := range r.sim.Records("notes") {
		if num(x["ticketId"]) == ticket && x["text"] == n.Text {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("note posted %d times", count)
	}
}
