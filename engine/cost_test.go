package engine

import (
	"context"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// TestNewTicketCost counts the store's write transactions for one new
// ticket, once the route's lookups are cached: the intake's commit, the
// pending-create marker before the call, and the outcome with its ack.
// Each takes bbolt's writer lock and fsyncs; a fourth (a second ack of an
// item already acked) would take the lock for nothing.
func TestNewTicketCost(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	r.submit(inc("warm", "k-warm", "firing"))
	r.waitSettled(10*time.Second, "warm")
	r.waitFor(10*time.Second, "the warm-up item acked", func() bool { return r.store.QueueLen() == 0 })
	r.halt()
	r.start()
	before := r.store.Stats().WriteTxs

	r.submit(inc("a1", "k1", "firing"))
	if got := r.waitSettled(10*time.Second, "a1")["a1"]; got.State != storage.StateTicketed {
		t.Fatalf("a1: %+v", got)
	}
	r.halt() // every worker done: a late ack would have run by now
	if got := r.store.Stats().WriteTxs - before; got != 3 {
		t.Fatalf("one new ticket took %d write transactions, want 3 (enqueue, marker, outcome+ack)", got)
	}
}

// TestHealthIsPushed: a session watching health hears of a change (here an
// item given up on, from outside the engine) without asking again.
func TestHealthIsPushed(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := r.eng.WatchHealth(ctx)
	if h := <-ch; h.Failed != 0 {
		t.Fatalf("first report: %+v", h)
	}
	r.halt() // the item stays put for MoveToFailed
	seq, err := r.store.Enqueue(storage.OutboxUsage, "acme\x00users")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.store.MoveToFailed(seq, "given up by hand"); err != nil {
		t.Fatal(err)
	}
	r.start()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case h := <-ch:
			if h.Failed == 1 {
				cancel()
				for range ch { // closed once ctx ends
				}
				return
			}
		case <-timeout:
			t.Fatal("no health report with the failed item")
		}
	}
}
