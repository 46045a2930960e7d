package engine

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// TestRetentionPrunesInBackground: Run prunes by itself (at start, by the
// injected clock) what [retention] says has expired: a ticket closed 30
// days ago goes with its incidents and its key is cut to a tombstone; an
// open ticket's incidents stay. A new trigger on the pruned key opens a
// ticket with a new externalXRef.
func TestRetentionPrunesInBackground(t *testing.T) {
	var now atomic.Int64
	start := time.Now()
	now.Store(start.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	r := newRig(t, cwsim.Options{}, "\n[retention]\nclosed_incidents = \"720h\"\n", func(o *Options) { o.Now = clock })

	closedTicket := r.openTicket("c1", "kc")
	r.submit(inc("c2", "kc", "resolved"))
	if got := r.waitSettled(10*time.Second, "c2")["c2"]; got.State != storage.StateClosed {
		t.Fatalf("c2: %+v", got)
	}
	r.openTicket("o1", "ko")

	// 29 days on, nothing has expired: a restart prunes nothing.
	now.Store(start.Add(29 * 24 * time.Hour).UnixNano())
	r.restart(nil)
	if st, err := r.eng.prune(t.Context()); err != nil || st != (storage.PruneStats{}) {
		t.Fatalf("day 29: pruned %+v, %v", st, err)
	}

	// 31 days on, the engine prunes the closed ticket's state by itself.
	now.Store(start.Add(31 * 24 * time.Hour).UnixNano())
	r.restart(nil)
	r.waitFor(10*time.Second, "the closed ticket's incidents pruned", func() bool {
		_, err1 := r.store.Incident("c1")
		_, err2 := r.store.Incident("c2")
		return errors.Is(err1, storage.ErrNotFound) && errors.Is(err2, storage.ErrNotFound)
	})
	r.waitFor(10*time.Second, "key kc cut to its tombstone", func() bool {
		k, err := r.store.IncidentKey(scopedKey("acme", "kc"))
		return err == nil && k.TicketID == 0 && k.State == storage.KeyClosed && k.Generation == 1
	})
	if got, err := r.store.Incident("o1"); err != nil || got.State != storage.StateTicketed {
		t.Fatalf("open ticket's incident: %+v, %v", got, err)
	}

	// The key fires again: a second ticket, generation 2, not the first
	// ticket found again by its externalXRef.
	ticket := r.openTicket("c3", "kc")
	if ticket == closedTicket {
		t.Fatalf("c3 landed on the pruned key's old ticket %d", ticket)
	}
	if x := r.ticketsByXRef(); x[ExternalXRef(scopedKey("acme", "kc"), 1)] != 1 || x[ExternalXRef(scopedKey("acme", "kc"), 2)] != 1 {
		t.Fatalf("tickets by xref: %v", x)
	}
}
