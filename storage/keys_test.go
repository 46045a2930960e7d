package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestIncidentKeyPendingCreateSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	s := openT(t, dir, Options{Now: func() time.Time { return now }})
	k := IncidentKey{Key: "acme|threat|x", Workspace: "acme", CWCompany: "ACME", AlertType: "threat", ExternalXRef: "cwb-1"}
	if err := s.BeginTicketCreate(k); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginTicketCreate(IncidentKey{Key: "other", State: KeyOpen}); err != nil {
		t.Fatal(err)
	}
	if err := s.TicketCreated("other", 5); err != nil {
		t.Fatal(err)
	}
	s.Close() // "crash" between marker and ticket

	s = openT(t, dir, Options{})
	pend, err := s.IncidentKey(k.Key)
	if err != nil || pend.State != KeyPendingCreate || pend.ExternalXRef != "cwb-1" || !pend.PendingSince.Equal(now) {
		t.Fatalf("pending marker after restart = %+v %v", pend, err)
	}
	if got, err := s.IncidentKeyByTicket(5); err != nil || got.Key != "other" {
		t.Fatalf("key of ticket 5 = %+v %v", got, err)
	}
	if _, err := s.IncidentKeyByTicket(42); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ticket 42 indexed before it exists: %v", err)
	}
	if err := s.TicketCreated(k.Key, 42); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IncidentKeyByTicket(42); err != nil || got.Key != k.Key {
		t.Fatalf("key of ticket 42 = %+v %v", got, err)
	}
	got, err := s.IncidentKey(k.Key)
	if err != nil || got.State != KeyOpen || got.TicketID != 42 || !got.PendingSince.IsZero() || got.CreatedAt.IsZero() {
		t.Fatalf("after create: %+v %v", got, err)
	}
	if err := s.BeginTicketCreate(k); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second ticket for an open key allowed: %v", err)
	}
	if err := s.TicketCreated("other", 6); !errors.Is(err, ErrInvalid) {
		t.Fatalf("TicketCreated on open key: %v", err)
	}
	err = s.UpdateIncidentKey(k.Key, func(k *IncidentKey, exists bool) error {
		if !exists {
			t.Error("exists false")
		}
		k.Occurrences += 3
		k.State = KeyClosed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.IncidentKey(k.Key); got.Occurrences != 3 || got.State != KeyClosed {
		t.Fatalf("update: %+v", got)
	}
	if err := s.PutIncidentKey(IncidentKey{Key: "bad", State: "weird"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad state accepted: %v", err)
	}
	if _, err := s.IncidentKey("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

func TestNotesProcessedOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if first, err := s.MarkNoteProcessed("ticket-1/note-9"); err != nil || !first {
		t.Fatalf("first mark: %v %v", first, err)
	}
	if first, _ := s.MarkNoteProcessed("ticket-1/note-9"); first {
		t.Fatal("marked twice")
	}
	s.Close()
	s = openT(t, dir, Options{})
	if first, _ := s.MarkNoteProcessed("ticket-1/note-9"); first {
		t.Fatal("forgotten across restart")
	}
	if ok, _ := s.NoteProcessed("ticket-1/note-9"); !ok {
		t.Fatal("NoteProcessed false")
	}
	n, err := s.PruneNotes(time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune %d %v", n, err)
	}
	if ok, _ := s.NoteProcessed("ticket-1/note-9"); ok {
		t.Fatal("pruned note still there")
	}
}

func TestUsage(t *testing.T) {
	s := newT(t)
	if _, err := s.SetWantedUsage("acme", "users", 42); err != nil {
		t.Fatal(err)
	}
	u, _ := s.Usage("acme", "users")
	if u.Wanted != 42 || u.InSync() {
		t.Fatalf("%+v", u)
	}
	if _, err := s.RecordUsageSync("acme", "users", 0, "agreement missing"); err != nil {
		t.Fatal(err)
	}
	if u, _ = s.Usage("acme", "users"); u.LastError != "agreement missing" || !u.SyncedAt.IsZero() {
		t.Fatalf("%+v", u)
	}
	if _, err := s.RecordUsageSync("acme", "users", 42, ""); err != nil {
		t.Fatal(err)
	}
	if u, _ = s.Usage("acme", "users"); !u.InSync() || u.LastError != "" {
		t.Fatalf("%+v", u)
	}
	if _, err := s.SetWantedUsage("acme", "devices", 3); err != nil {
		t.Fatal(err)
	}
	all, err := s.Usages()
	if err != nil || len(all) != 2 || all[0].Product != "devices" {
		t.Fatalf("%+v %v", all, err)
	}
	if _, err := s.SetWantedUsage("a\x00b", "users", 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NUL in workspace: %v", err)
	}
}

// The key cache must never serve a value older than one already seen, and a
// writer must read its own write.
func TestIncidentKeyCacheCoherent(t *testing.T) {
	s := openT(t, t.TempDir(), Options{KeyCacheSize: 4})
	const key, writes = "k", 300
	if err := s.PutIncidentKey(IncidentKey{Key: key, State: KeyOpen}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			last := -1
			for {
				select {
				case <-stop:
					return
				default:
				}
				k, err := s.IncidentKey(key)
				if err != nil {
					t.Error(err)
					return
				}
				if k.Occurrences < last {
					t.Errorf("reader %d went back from %d to %d", r, last, k.Occurrences)
					return
				}
				last = k.Occurrences
				// Churn other keys through the small cache.
				_, _ = s.IncidentKey(fmt.Sprint("other", last%7))
			}
		})
	}
	boom := errors.New("rollback")
	for i := 1; i <= writes; i++ {
		err := s.UpdateIncidentKey(key, func(k *IncidentKey, _ bool) error { k.Occurrences = i; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := s.IncidentKey(key); k.Occurrences != i {
			t.Fatalf("read after write: %d, want %d", k.Occurrences, i)
		}
		// A rolled-back write must not leave its value in the cache.
		_ = s.Update(func(tx *Tx) error {
			if err := tx.UpdateIncidentKey(key, func(k *IncidentKey, _ bool) error { k.Occurrences = -100; return nil }); err != nil {
				return err
			}
			return boom
		})
		if k, _ := s.IncidentKey(key); k.Occurrences != i {
			t.Fatalf("after rollback: %d, want %d", k.Occurrences, i)
		}
	}
	close(stop)
	wg.Wait()
}
