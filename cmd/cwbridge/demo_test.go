package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

type fakeSubmitter struct {
	mu   sync.Mutex
	incs []storage.Incident
}

func (f *fakeSubmitter) Submit(_ context.Context, incs []storage.Incident) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.incs = append(f.incs, incs...)
	return len(incs), 0, nil
}

func TestSeedDemo(t *testing.T) {
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sim := cwsim.New(cwsim.Options{Companies: 10})
	keys, err := seedDemo(st, sim, storage.Connection{Site: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := st.Routes()
	if len(rs) != len(demoTypes) || len(keys) == 0 {
		t.Fatalf("routes %d, workspaces %v", len(rs), keys)
	}
	for _, r := range rs {
		if err := config.ValidAlertType(r.AlertType); err != nil || !r.Enabled || r.Board.Name == "" {
			t.Fatalf("route %+v: %v", r, err)
		}
	}
	again, _ := seedDemo(st, sim, storage.Connection{})
	if len(again) != len(keys) {
		t.Fatal("a second run must not add workspaces again")
	}
}

// TestGenerate: the generator sends valid incidents with repeats (same key)
// and resolves.
func TestGenerate(t *testing.T) {
	f := &fakeSubmitter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { generate(ctx, f, []string{"acme", "northwind"}, time.Millisecond, 7); close(done) }()
	for {
		f.mu.Lock()
		n := len(f.incs)
		f.mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	keys := map[string]int{}
	resolved := 0
	ids := map[string]bool{}
	for _, inc := range f.incs {
		if inc.ID == "" || ids[inc.ID] || inc.Key == "" || inc.Title == "" || inc.Company == "" {
			t.Fatalf("bad incident %+v", inc)
		}
		if err := config.ValidAlertType(inc.Type); err != nil {
			t.Fatal(err)
		}
		ids[inc.ID] = true
		keys[inc.Key]++
		if inc.Status == "resolved" {
			resolved++
		}
	}
	repeats := 0
	for _, n := range keys {
		if n > 1 {
			repeats++
		}
	}
	if repeats == 0 || resolved == 0 {
		t.Fatalf("want repeats and resolves: %d keys repeated, %d resolved of %d", repeats, resolved, len(f.incs))
	}
}
