package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

func TestOpenCreatesDirAndFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := openT(t, dir, Options{})
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode: %v %v", fi.Mode(), err)
	}
	if s.Path() != filepath.Join(dir, FileName) {
		t.Fatalf("path %s", s.Path())
	}
	if fi, err := os.Stat(s.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", fi.Mode(), err)
	}
}

func TestOpenTightensLooseFileMode(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	s.Close()
	if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v not tightened", fi.Mode())
	}
}

func TestReopenPersists(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	ctx := context.Background()
	if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: "a", Type: "threat", Company: "acme", Title: "x"}, {ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorkspace("admin", Workspace{Key: "acme", CWCompany: "ACME", MaxUsers: 50}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnection("admin", Connection{Site: "na.example", PrivateKey: NewSecret("pk-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendFeed(FeedEvent{Kind: FeedCreated, Message: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, dir, Options{})
	inc, err := s.Incident("a")
	if err != nil || inc.Title != "x" || inc.State != StateQueued || inc.ReceivedAt.IsZero() {
		t.Fatalf("incident after reopen: %+v %v", inc, err)
	}
	if got := s.QueueLen(); got != 2 {
		t.Fatalf("QueueLen after reopen = %d, want 2", got)
	}
	if w, err := s.Workspace("acme"); err != nil || w.MaxUsers != 50 {
		t.Fatalf("workspace: %+v %v", w, err)
	}
	if c, err := s.Connection(); err != nil || c.PrivateKey.Reveal() != "pk-1" || c.Site != "na.example" {
		t.Fatalf("connection: %v %v", c, err)
	}
	if ev, err := s.RecentFeed(10); err != nil || len(ev) != 1 || ev[0].Message != "hi" {
		t.Fatalf("feed: %+v %v", ev, err)
	}
	// Sequences keep growing across restarts.
	seq, err := s.Enqueue(OutboxUsage, "acme\x00users")
	if err != nil || seq != 3 {
		t.Fatalf("seq after reopen = %d, %v", seq, err)
	}
}

func TestSecondOpenFailsFastWithInUse(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir, Options{})
	start := time.Now()
	s2, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrInUse) || !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("err %v does not match ErrInUse and ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "data dir in use by another cwbridge") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err text %q", err)
	}
	if elapsed > 5*time.Second { // a hang guard, not a timing assertion
		t.Fatalf("second Open took %v", elapsed)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	s := newT(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	checks := map[string]error{}
	_, _, checks["EnqueueIncidents"] = s.EnqueueIncidents(ctx, []Incident{{ID: "x"}})
	_, checks["Incident"] = s.Incident("x")
	_, checks["IncidentKey"] = s.IncidentKey("k")
	checks["PutWorkspace"] = s.PutWorkspace("a", Workspace{Key: "w"})
	_, checks["PeekDue"] = s.PeekDue(time.Now(), 10)
	checks["Ack"] = s.Ack(1)
	_, checks["AppendFeed"] = s.AppendFeed(FeedEvent{Kind: FeedNoted})
	_, checks["Companies"] = s.Companies()
	_, checks["Connection"] = s.Connection()
	_, checks["MarkNoteProcessed"] = s.MarkNoteProcessed("n")
	checks["View"] = s.View(func(*Tx) error { return nil })
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, ok := <-s.Subscribe(ctx); ok {
		t.Fatal("Subscribe after Close gave an open channel")
	}
	s2 := openT(t, t.TempDir(), Options{OneTxPerEnqueue: true})
	s2.Close()
	if _, _, err := s2.EnqueueIncidents(ctx, []Incident{{ID: "x"}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("one-tx enqueue after close: %v", err)
	}
}

func TestCloseWhileEnqueueing(t *testing.T) {
	s := newT(t)
	ctx := context.Background()
	done := make(chan struct{})
	var stored []string
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			id := "c" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
			if _, _, err := s.EnqueueIncidents(ctx, []Incident{{ID: id}}); err != nil {
				if !errors.Is(err, ErrClosed) {
					t.Errorf("enqueue: %v", err)
				}
				return
			}
			stored = append(stored, id)
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	if len(stored) == 0 {
		t.Fatal("nothing was enqueued before Close")
	}
	// Everything acknowledged before Close is on disk.
	s2 := openT(t, filepath.Dir(s.Path()), Options{})
	for _, id := range stored {
		if _, err := s2.Incident(id); err != nil {
			t.Fatalf("acknowledged %s lost: %v", id, err)
		}
	}
	if s2.QueueLen() != len(stored) {
		t.Fatalf("QueueLen %d, stored %d", s2.QueueLen(), len(stored))
	}
}
