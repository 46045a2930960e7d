package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
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

// A kept data dir resumed with a new simulator (another port, another
// seed): the stored connection and a half-done wizard's draft get this
// run's credentials (the draft must be verified again).
func TestSeedDemoRefreshesSimulatorCredentials(t *testing.T) {
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := storage.Connection{Site: "http://127.0.0.1:40001", CompanyID: "cwbridge", PublicKey: "oldpub", PrivateKey: storage.NewSecret("oldpriv"), ClientID: "c1", FallbackCompany: "Catchall"}
	if err := st.SetConnection("t", old); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOnboarding(storage.Onboarding{Step: "agreement", Draft: old, VerifiedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDraft("tui:alice", storage.Onboarding{Step: "products", Draft: old, VerifiedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := storage.Connection{Site: "http://127.0.0.1:40002", CompanyID: "cwbridge", PublicKey: "newpub", PrivateKey: storage.NewSecret("newpriv"), ClientID: "c2"}
	if _, err := seedDemo(st, cwsim.New(cwsim.Options{Companies: 3}), now); err != nil {
		t.Fatal(err)
	}
	conn, _ := st.Connection()
	if conn.Site != now.Site || conn.PublicKey != "newpub" || conn.PrivateKey.Reveal() != "newpriv" || conn.FallbackCompany != "Catchall" {
		t.Fatalf("stored connection not refreshed: %+v", conn)
	}
	o, _ := st.Onboarding()
	if o.Draft.Site != now.Site || o.Draft.PublicKey != "newpub" || o.Draft.PrivateKey.Reveal() != "newpriv" || !o.VerifiedAt.IsZero() {
		t.Fatalf("saved progress not refreshed: site %q, verified %v", o.Draft.Site, o.VerifiedAt)
	}
	if o, _ := st.Draft("tui:alice"); o.Step != "products" || o.Draft.Site != now.Site || o.Draft.PrivateKey.Reveal() != "newpriv" || !o.VerifiedAt.IsZero() {
		t.Fatalf("a technician's draft not refreshed: step %q site %q, verified %v", o.Step, o.Draft.Site, o.VerifiedAt)
	}
}

// The simulator of a kept data dir numbers tickets (its seeded ones too)
// after the highest one the data dir knows.
func TestDemoTicketNumbersContinue(t *testing.T) {
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := highestTicket(st); n != 0 {
		t.Fatalf("empty data dir: highest ticket %d", n)
	}
	if _, err := st.AppendFeed(storage.FeedEvent{Kind: storage.FeedCreated, Company: "acme", TicketID: 250042}); err != nil {
		t.Fatal(err)
	}
	if n := highestTicket(st); n != 250042 {
		t.Fatalf("highest ticket %d, want 250042", n)
	}
	sim := cwsim.New(cwsim.Options{Companies: 3, FirstTicketID: highestTicket(st) + 1})
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cr := sim.Credentials()
	cl, err := cwclient.New(cwclient.Config{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey, PrivateKey: cr.PrivateKey, ClientID: cr.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := cl.CreateTicket(context.Background(), cwclient.Ticket{Summary: "first of this run",
		Company: &cwclient.Ref{Identifier: "Catchall"}, Board: &cwclient.Ref{Name: "Security"}})
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID <= 250042 {
		t.Fatalf("a ticket of this run is #%d: the data dir knows #250042 already", tk.ID)
	}
}
