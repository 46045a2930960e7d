package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestEnqueueIdempotentAndAtomic(t *testing.T) {
	for _, oneTx := range []bool{false, true} {
		t.Run(fmt.Sprintf("oneTx=%v", oneTx), func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{OneTxPerEnqueue: oneTx})
			ctx := context.Background()
			a, d, err := s.EnqueueIncidents(ctx, []Incident{{ID: "1", Title: "first"}, {ID: "2"}, {ID: "1", Title: "second copy"}})
			if err != nil || a != 2 || d != 1 {
				t.Fatalf("got %d accepted %d dup %v", a, d, err)
			}
			if inc, _ := s.Incident("1"); inc.Title != "first" {
				t.Fatalf("duplicate overwrote: %+v", inc)
			}
			a, d, err = s.EnqueueIncidents(ctx, []Incident{{ID: "2"}, {ID: "3"}})
			if err != nil || a != 1 || d != 1 {
				t.Fatalf("got %d accepted %d dup %v", a, d, err)
			}
			// A bad item rejects the whole batch: "4" must not be stored.
			_, _, err = s.EnqueueIncidents(ctx, []Incident{{ID: "4"}, {ID: ""}})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("empty id: %v", err)
			}
			if _, err := s.Incident("4"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("partial batch stored: %v", err)
			}
			long := make([]byte, MaxIncidentIDLen+1)
			for i := range long {
				long[i] = 'x'
			}
			if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: string(long)}}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("long id: %v", err)
			}
			if s.QueueLen() != 3 {
				t.Fatalf("QueueLen %d, want 3", s.QueueLen())
			}
			due, err := s.PeekDue(time.Now(), 10)
			if err != nil || len(due) != 3 || due[0].Ref != "1" || due[1].Ref != "2" || due[2].Ref != "3" || due[0].Kind != OutboxIncident {
				t.Fatalf("outbox %+v %v", due, err)
			}
			if a, d, err := s.EnqueueIncidents(ctx, nil); a != 0 || d != 0 || err != nil {
				t.Fatal("empty batch")
			}
		})
	}
}

func TestEnqueueConcurrentOverlappingIDs(t *testing.T) {
	for _, oneTx := range []bool{false, true} {
		t.Run(fmt.Sprintf("oneTx=%v", oneTx), func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{OneTxPerEnqueue: oneTx})
			const workers, calls, pool = 32, 40, 300
			var accepted, dups, submitted atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for range calls {
						batch := make([]Incident, 1+r.IntN(4))
						for i := range batch {
							batch[i] = Incident{ID: fmt.Sprintf("id-%d", r.IntN(pool)), Title: fmt.Sprint(w)}
						}
						a, d, err := s.EnqueueIncidents(context.Background(), batch)
						if err != nil {
							t.Error(err)
							return
						}
						accepted.Add(int64(a))
						dups.Add(int64(d))
						submitted.Add(int64(len(batch)))
					}
				})
			}
			wg.Wait()
			if accepted.Load()+dups.Load() != submitted.Load() {
				t.Fatalf("accepted %d + dups %d != submitted %d", accepted.Load(), dups.Load(), submitted.Load())
			}
			var nInc int
			refs := map[string]int{}
			err := s.View(func(tx *Tx) error {
				nInc = mustBucket(t, tx.tx, bktIncidents).Stats().KeyN
				return mustBucket(t, tx.tx, bktPending).ForEach(func(k, v []byte) error {
					var it OutboxItem
					if err := decode(bktPending, k, v, &it); err != nil {
						return err
					}
					refs[it.Ref]++
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if int64(nInc) != accepted.Load() || int64(len(refs)) != accepted.Load() || int64(s.QueueLen()) != accepted.Load() {
				t.Fatalf("stored %d incidents, %d outbox refs, QueueLen %d; accepted %d", nInc, len(refs), s.QueueLen(), accepted.Load())
			}
			for ref, n := range refs {
				if n != 1 {
					t.Fatalf("%s has %d outbox items", ref, n)
				}
			}
		})
	}
}

// holdWriter keeps bbolt's writer lock until the returned func is called, so
// requests pile up in front of the committer.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	held, rel := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.db.Update(func(*bolt.Tx) error { close(held); <-rel; return nil })
	}()
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release) // runs before the store's Close on a failed test
	return release
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) { // a hang guard, not a timing check
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

func TestGroupCommitTakesWaitingBatchesTogether(t *testing.T) {
	s := newT(t)
	release := holdWriter(t, s)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := s.EnqueueIncidents(context.Background(), []Incident{{ID: fmt.Sprint(i)}}); err != nil {
				t.Error(err)
			}
		})
		// The first request is alone inside the committer, blocked on the
		// writer lock; the rest wait in the channel.
		if i == 0 {
			waitFor(t, func() bool { return s.groupCommits.Load() == 1 })
		}
	}
	waitFor(t, func() bool { return len(s.enq) == n-1 })
	release()
	wg.Wait()
	if got := s.groupCommits.Load(); got != 2 {
		t.Fatalf("%d enqueues took %d commits, want 2", n, got)
	}
	if s.QueueLen() != n {
		t.Fatalf("QueueLen %d", s.QueueLen())
	}
}

func TestGroupCommitFailureIsolatesRequests(t *testing.T) {
	s := newT(t)
	// A sub-bucket named like an incident id makes that one Put fail inside
	// the transaction, after validation passed.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := mustBucket(t, tx, bktIncidents).CreateBucket([]byte("evil"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	type res struct {
		a   int
		err error
	}
	results := make([]res, 4)
	var wg sync.WaitGroup
	batches := [][]Incident{{{ID: "first"}}, {{ID: "ok-1"}, {ID: "ok-2"}}, {{ID: "ok-3"}, {ID: "evil"}}, {{ID: "ok-4"}}}
	for i, b := range batches {
		wg.Go(func() {
			a, _, err := s.EnqueueIncidents(context.Background(), b)
			results[i] = res{a, err}
		})
		if i == 0 { // "first" is alone in the committer, stuck on the lock
			waitFor(t, func() bool { return s.groupCommits.Load() == 1 })
		} else {
			waitFor(t, func() bool { return len(s.enq) == i })
		}
	}
	release()
	wg.Wait()
	// [first], then the failed group of three, then each of the three alone.
	if got := s.groupCommits.Load(); got != 5 {
		t.Fatalf("%d commits, want 5", got)
	}
	want := []int{1, 2, 0, 1}
	for i, r := range results {
		if (i == 2) != (r.err != nil) || r.a != want[i] {
			t.Fatalf("request %d: accepted %d err %v", i, r.a, r.err)
		}
	}
	// The failing request is all-or-nothing: ok-3 was not kept.
	if _, err := s.Incident("ok-3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ok-3 stored from a failed batch: %v", err)
	}
	for _, id := range []string{"first", "ok-1", "ok-2", "ok-4"} {
		if _, err := s.Incident(id); err != nil {
			t.Fatalf("%s lost: %v", id, err)
		}
	}
	if s.QueueLen() != 4 {
		t.Fatalf("QueueLen %d, want 4", s.QueueLen())
	}
}

func TestEnqueueContextCancelled(t *testing.T) {
	s := newT(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: "x"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
