package storage

import (
	"errors"
	"testing"
	"time"
)

func TestOutboxLifecycle(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := openT(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	for _, ref := range []string{"a", "b", "c", "d"} {
		if _, err := s.Enqueue(OutboxIncident, ref); err != nil {
			t.Fatal(err)
		}
	}
	refs := func(items []OutboxItem) (out []string) {
		for _, it := range items {
			out = append(out, it.Ref)
		}
		return out
	}
	due, err := s.PeekDue(now, 2)
	if err != nil || len(due) != 2 || due[0].Seq != 1 || due[1].Ref != "b" || !due[0].EnqueuedAt.Equal(now) {
		t.Fatalf("PeekDue FIFO: %+v %v", due, err)
	}
	// Peek does not consume.
	if again, _ := s.PeekDue(now, 2); again[0].Seq != 1 {
		t.Fatal("peek consumed")
	}
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double ack: %v", err)
	}
	// b fails once: back off a minute; it keeps its place but is not due.
	if err := s.Reschedule(2, now.Add(time.Minute), "CW 503"); err != nil {
		t.Fatal(err)
	}
	due, _ = s.PeekDue(now, 10)
	if got := refs(due); len(got) != 2 || got[0] != "c" || got[1] != "d" {
		t.Fatalf("after reschedule: %v", got)
	}
	due, _ = s.PeekDue(now.Add(time.Minute), 10)
	if len(due) != 3 || due[0].Ref != "b" || due[0].Attempts != 1 || due[0].LastError != "CW 503" {
		t.Fatalf("rescheduled item once due: %+v", due)
	}
	if s.QueueLen() != 3 {
		t.Fatalf("QueueLen %d", s.QueueLen())
	}

	// c gives up.
	if err := s.MoveToFailed(3, "400 bad board"); err != nil {
		t.Fatal(err)
	}
	if s.QueueLen() != 2 {
		t.Fatalf("QueueLen after move-to-failed %d", s.QueueLen())
	}
	failed, err := s.FailedItems()
	if err != nil || len(failed) != 1 || failed[0].Seq != 3 || failed[0].LastError != "400 bad board" || !failed[0].FailedAt.Equal(now) {
		t.Fatalf("failed: %+v %v", failed, err)
	}
	// Retry puts it at the tail, due now, attempts reset.
	seq, err := s.RetryFailed(3)
	if err != nil || seq != 5 {
		t.Fatalf("RetryFailed = %d %v", seq, err)
	}
	due, _ = s.PeekDue(now.Add(time.Minute), 10)
	if got := refs(due); len(got) != 3 || got[2] != "c" || due[2].Attempts != 0 {
		t.Fatalf("after retry: %+v", due)
	}
	if failed, _ := s.FailedItems(); len(failed) != 0 {
		t.Fatalf("still failed: %+v", failed)
	}
	if err := s.MoveToFailed(5, "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardFailed(5); err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardFailed(5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double discard: %v", err)
	}
	if _, err := s.RetryFailed(5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry discarded: %v", err)
	}
	if s.QueueLen() != 2 {
		t.Fatalf("QueueLen %d, want 2", s.QueueLen())
	}
	var stored uint64
	_ = s.View(func(tx *Tx) error {
		stored, _ = readCounter(tx.tx, keyOutboxPending)
		return nil
	})
	if stored != 2 {
		t.Fatalf("persisted counter %d, want 2", stored)
	}
}

// Ack of the outbox, the incident's new state, the key and a feed event in
// one transaction: the engine's "done" step cannot half-happen.
func TestTxCombinesSteps(t *testing.T) {
	s := newT(t)
	if _, _, err := s.EnqueueIncidents(t.Context(), []Incident{{ID: "i1", Key: "k1", Company: "acme"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginTicketCreate(IncidentKey{Key: "k1", Workspace: "acme", AlertType: "threat", ExternalXRef: "x1"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.TicketCreated("k1", 77); err != nil {
			return err
		}
		if err := tx.SetIncidentState("i1", StateTicketed, 77, ""); err != nil {
			return err
		}
		if err := tx.Ack(1); err != nil {
			return err
		}
		if _, err := tx.AppendFeed(FeedEvent{Kind: FeedCreated, TicketID: 77}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if k, _ := s.IncidentKey("k1"); k.State != KeyPendingCreate || s.QueueLen() != 1 {
		t.Fatalf("rolled-back tx left changes: %+v, QueueLen %d", k, s.QueueLen())
	}
	if ev, _ := s.RecentFeed(5); len(ev) != 0 {
		t.Fatalf("rolled-back feed event: %+v", ev)
	}
}

// TestFailedLenCountsWithoutScanning: the failed counter follows every
// move, retry and discard, and survives a restart.
func TestFailedLenCountsWithoutScanning(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for _, ref := range []string{"a", "b", "c"} {
		if _, err := s.Enqueue(OutboxIncident, ref); err != nil {
			t.Fatal(err)
		}
	}
	for seq := uint64(1); seq <= 3; seq++ {
		if err := s.MoveToFailed(seq, "boom"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RetryFailed(1); err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardFailed(2); err != nil {
		t.Fatal(err)
	}
	if got := s.FailedLen(); got != 1 {
		t.Fatalf("FailedLen = %d, want 1", got)
	}
	s.Close()
	s = openT(t, dir, Options{})
	if got, q := s.FailedLen(), s.QueueLen(); got != 1 || q != 1 {
		t.Fatalf("after reopen FailedLen = %d, QueueLen = %d; want 1, 1", got, q)
	}
}
