package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Readers run against writers of every kind; run with -race. Each reader
// checks invariants that a torn read would break.
func TestConcurrentReadersDuringWrites(t *testing.T) {
	s := openT(t, t.TempDir(), Options{FeedCap: 50})
	ctx, cancel := context.WithCancel(context.Background())
	var wg, writers sync.WaitGroup
	var wrote atomic.Int64

	// Writers.
	for w := range 4 {
		writers.Go(func() {
			for i := 0; i < 150; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: id, Key: "k" + id}}); err != nil {
					t.Error(err)
					return
				}
				err := s.Update(func(tx *Tx) error {
					if err := tx.PutIncidentKey(IncidentKey{Key: "k" + id, State: KeyOpen, TicketID: i + 1, Occurrences: 1}); err != nil {
						return err
					}
					_, err := tx.AppendFeed(FeedEvent{Kind: FeedCreated, IncidentID: id, Key: "k" + id, TicketID: i + 1})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				wrote.Add(1)
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < 20; i++ {
			cs := make([]Company, 500)
			for j := range cs {
				cs[j] = Company{ID: j + 1, Identifier: fmt.Sprintf("C%d", j), Name: fmt.Sprint(i)}
			}
			if err := s.ReplaceCompanies(cs, time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	})
	subCh := s.Subscribe(ctx)
	wg.Go(func() {
		for range subCh { // a live reader alongside
		}
	})

	// Readers.
	var reads atomic.Int64
	stop := make(chan struct{})
	for r := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", r, reads.Load()%150)
				if k, err := s.IncidentKey("k" + id); err == nil {
					if k.TicketID == 0 || k.State != KeyOpen {
						t.Errorf("torn key %+v", k)
					}
					if inc, err := s.Incident(id); err != nil || inc.ID != id {
						t.Errorf("key written after incident, but incident %s: %v", id, err)
					}
				} else if !errors.Is(err, ErrNotFound) {
					t.Error(err)
				}
				ev, err := s.RecentFeed(50)
				if err != nil || len(ev) > 50 {
					t.Errorf("feed %d %v", len(ev), err)
				}
				for i := 1; i < len(ev); i++ {
					if ev[i].Seq != ev[i-1].Seq+1 {
						t.Errorf("feed gap %d -> %d", ev[i-1].Seq, ev[i].Seq)
					}
				}
				if cs, err := s.Companies(); err != nil || (len(cs) != 0 && len(cs) != 500) {
					t.Errorf("companies %d %v", len(cs), err)
				} else if len(cs) == 500 && cs[0].Name != cs[499].Name {
					t.Errorf("companies from two refreshes in one read")
				}
				if q := s.QueueLen(); q < 0 || q > 600 {
					t.Errorf("QueueLen %d", q)
				}
				reads.Add(1)
			}
		})
	}
	// Wait for the writers themselves, not a wall-clock deadline: a busy
	// machine makes them slow, never wrong.
	writers.Wait()
	close(stop)
	cancel()
	wg.Wait()
	if s.QueueLen() != 600 || reads.Load() == 0 {
		t.Fatalf("QueueLen %d, reads %d", s.QueueLen(), reads.Load())
	}
}

func TestSubscribeCloseRaces(t *testing.T) {
	s := newT(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			ch := s.Subscribe(ctx)
			if i%2 == 0 {
				cancel()
			}
			for range ch {
			}
			cancel()
		})
	}
	wg.Go(func() {
		for i := 0; i < 50; i++ {
			if _, err := s.AppendFeed(FeedEvent{Kind: FeedNoted}); err != nil && !errors.Is(err, ErrClosed) {
				t.Error(err)
			}
		}
	})
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait() // every channel got closed
}
