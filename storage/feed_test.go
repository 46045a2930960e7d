package storage

import (
	"context"
	"testing"
	"time"
)

func TestFeedCapTrimsOldest(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{FeedCap: 5})
	for i := 1; i <= 12; i++ {
		if seq, err := s.AppendFeed(FeedEvent{Kind: FeedNoted, TicketID: i}); err != nil || seq != uint64(i) {
			t.Fatalf("append %d: %d %v", i, seq, err)
		}
	}
	all, err := s.Feed(0, 0)
	if err != nil || len(all) != 5 || all[0].Seq != 8 || all[4].Seq != 12 || all[0].TicketID != 8 {
		t.Fatalf("after cap: %+v %v", all, err)
	}
	if recent, _ := s.RecentFeed(2); len(recent) != 2 || recent[0].Seq != 11 || recent[1].Seq != 12 {
		t.Fatalf("RecentFeed: %+v", recent)
	}
	if after, _ := s.Feed(10, 10); len(after) != 2 || after[0].Seq != 11 {
		t.Fatalf("Feed(after 10): %+v", after)
	}
	// A smaller cap on the next open trims on the next append.
	s.Close()
	s = openT(t, dir, Options{FeedCap: 2})
	if _, err := s.AppendFeed(FeedEvent{Kind: FeedClosed}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Feed(0, 0); len(all) != 2 || all[0].Seq != 12 || all[1].Seq != 13 {
		t.Fatalf("after lowering cap: %+v", all)
	}
}

func TestSubscribeDeliversAfterCommitAndFilters(t *testing.T) {
	s := newT(t)
	ctx, cancel := context.WithCancel(context.Background())
	all := s.Subscribe(ctx)
	feedOnly := s.Subscribe(ctx, ChangeFeed)

	if _, err := s.AppendFeed(FeedEvent{Kind: FeedCreated, Company: "acme", TicketID: 9}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorkspace("admin", Workspace{Key: "acme"}); err != nil {
		t.Fatal(err)
	}
	// A rolled-back write tells no one.
	_ = s.Update(func(tx *Tx) error {
		_, _ = tx.AppendFeed(FeedEvent{Kind: FeedFailed})
		return context.Canceled
	})
	if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: "a"}, {ID: "b"}}); err != nil {
		t.Fatal(err)
	}

	c := recv(t, all)
	if c.Kind != ChangeFeed || c.Event.TicketID != 9 || c.Event.Seq != 1 || c.Missed != 0 {
		t.Fatalf("first change %+v", c)
	}
	if c = recv(t, all); c.Kind != ChangeWorkspaces || c.Key != "acme" {
		t.Fatalf("second change %+v", c)
	}
	if c = recv(t, all); c.Kind != ChangeOutbox {
		t.Fatalf("third change %+v", c) // one per commit, not per incident
	}
	if c = recv(t, feedOnly); c.Kind != ChangeFeed {
		t.Fatalf("filtered %+v", c)
	}
	select {
	case c := <-feedOnly:
		t.Fatalf("filtered subscriber got %+v", c)
	case c := <-all:
		t.Fatalf("extra change %+v", c)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	for range all { // drained and closed
	}
	for range feedOnly {
	}
}

func TestSubscriberNeverBlocksWriters(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SubscriberBuffer: 4, FeedCap: 10})
	stuck := s.Subscribe(context.Background()) // never read until the end
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			if _, err := s.AppendFeed(FeedEvent{Kind: FeedNoted}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("writer blocked by a subscriber that does not read")
	}
	// The buffer holds the first 4; the next delivered change reports the
	// 96 dropped after them.
	for i := 1; i <= 4; i++ {
		if c := recv(t, stuck); c.Event.Seq != uint64(i) || c.Missed != 0 {
			t.Fatalf("buffered %d: %+v", i, c)
		}
	}
	if _, err := s.AppendFeed(FeedEvent{Kind: FeedClosed}); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, stuck); c.Event.Seq != 101 || c.Missed != 96 {
		t.Fatalf("after overflow: seq %d missed %d", c.Event.Seq, c.Missed)
	}
	// Close ends the subscription.
	s.Close()
	if _, ok := <-stuck; ok {
		t.Fatal("channel open after Close")
	}
}

func recv(t *testing.T, ch <-chan Change) Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change delivered")
	}
	return Change{}
}
