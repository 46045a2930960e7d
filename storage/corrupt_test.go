package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestCorruptRecordsAreNamedAndContained(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	ctx := context.Background()
	if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: "abc"}, {ID: "good"}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := s.PutWorkspace("t", Workspace{Key: k}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutIncidentKey(IncidentKey{Key: k, State: KeyOpen, TicketID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReplaceCompanies([]Company{{ID: 1, Identifier: "one"}, {ID: 2, Identifier: "two"}, {ID: 3, Identifier: "three"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.AppendFeed(FeedEvent{Kind: FeedNoted}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	garbage := []byte("\x00\xffnot json{")
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		puts := []struct {
			p bucketPath
			k []byte
		}{
			{bktIncidents, []byte("abc")},
			{bktWorkspaces, []byte("b")},
			{bktKeys, []byte("b")},
			{bktCompanies, itob(2)},
			{bktFeed, itob(2)},
			{bktPending, itob(1)},
			{bktSettings, keyConnection},
		}
		for _, p := range puts {
			if err := mustBucket(t, tx, p.p).Put(p.k, garbage); err != nil {
				return err
			}
		}
		return nil
	})

	s = openT(t, dir, Options{})
	_, err := s.Incident("abc")
	wantCorrupt(t, err, "incidents", `"abc"`)
	if !strings.HasPrefix(err.Error(), `storage: incidents/"abc": invalid JSON: `) {
		t.Fatalf("error text %q", err)
	}
	if inc, err := s.Incident("good"); err != nil || inc.ID != "good" {
		t.Fatalf("neighbour unreadable: %v", err)
	}
	// The id is still taken: a resend is a duplicate, not a silent overwrite.
	if a, d, err := s.EnqueueIncidents(ctx, []Incident{{ID: "abc"}}); err != nil || a != 0 || d != 1 {
		t.Fatalf("re-enqueue of corrupt id: %d %d %v", a, d, err)
	}
	// A state update reports the corruption instead of guessing.
	wantCorrupt(t, s.SetIncidentState("abc", StateFailed, 0, "x"), "incidents", `"abc"`)

	ws, err := s.Workspaces()
	wantCorrupt(t, err, "workspaces", `"b"`)
	if len(ws) != 2 || ws[0].Key != "a" || ws[1].Key != "c" {
		t.Fatalf("listing did not skip-and-report: %+v", ws)
	}
	_, err = s.IncidentKey("b")
	wantCorrupt(t, err, "keys", `"b"`)
	if k, err := s.IncidentKey("c"); err != nil || k.TicketID != 1 {
		t.Fatalf("other key: %v", err)
	}
	_, err = s.IncidentKeys()
	wantCorrupt(t, err, "keys", `"b"`)

	cs, err := s.Companies()
	wantCorrupt(t, err, "cw/companies", "2")
	if len(cs) != 2 {
		t.Fatalf("companies %+v", cs)
	}
	_, err = s.CompanyByIdentifier("TWO")
	wantCorrupt(t, err, "cw/companies", "2")

	ev, err := s.RecentFeed(10)
	wantCorrupt(t, err, "feed", "2")
	if len(ev) != 2 || ev[0].Seq != 1 || ev[1].Seq != 3 {
		t.Fatalf("feed %+v", ev)
	}
	// Appending still works and still trims.
	if _, err := s.AppendFeed(FeedEvent{Kind: FeedClosed}); err != nil {
		t.Fatal(err)
	}

	due, err := s.PeekDue(time.Now(), 10)
	wantCorrupt(t, err, "outbox/pending", "1")
	if len(due) != 1 || due[0].Ref != "good" {
		t.Fatalf("due %+v", due)
	}
	wantCorrupt(t, s.Reschedule(1, time.Now(), "x"), "outbox/pending", "1")

	_, err = s.Connection()
	wantCorrupt(t, err, "settings", `"connectwise"`)
	// Writing a good value repairs it; the audit notes the old one unreadable.
	if err := s.SetConnection("admin", Connection{Site: "fixed"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Connection(); err != nil || c.Site != "fixed" {
		t.Fatalf("repaired connection: %v", err)
	}
	if log, err := s.AuditLog(1); err != nil || !strings.HasPrefix(log[0].Before, "unreadable") {
		t.Fatalf("audit of repair: %+v %v", log, err)
	}
}
