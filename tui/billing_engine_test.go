package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// TestBillingAgainstTheEngine: the page through the real engine and the
// simulator: s shows the creates, y makes them, and the stored picture
// then says in step.
func TestBillingAgainstTheEngine(t *testing.T) {
	sim := tu.Sim(t, 5)
	st := tu.Store(t)
	tu.Connect(t, st, sim)
	cfg, err := config.Parse("test.toml", []byte("[[products]]\nkey = \"users\"\ncw_identifier = \"SEC-USER\"\ndescription = \"Security seat (per user)\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Apply(st, cfg); err != nil {
		t.Fatal(err)
	}
	var agreement int
	var company string
	for _, a := range sim.Records("agreements") {
		if a["agreementStatus"] == "Active" {
			agreement, company = num(a["id"]), a["company"].(map[string]any)["identifier"].(string)
			break
		}
	}
	if agreement == 0 {
		t.Fatal("the simulator has no active agreement")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetOnboarding(storage.Onboarding{Step: "done"}))
	must(st.PutWorkspace("t", storage.Workspace{Key: "acme", CWCompany: company, AgreementID: agreement}))
	must(st.PutWorkspace("t", storage.Workspace{Key: "northwind", CWCompany: "C00001"}))
	_, err = st.SetWantedUsage("acme", "users", 40)
	must(err)
	_, err = st.SetWantedUsage("northwind", "users", 12)
	must(err)

	eng, err := engine.New(engine.Options{Store: st, Config: cfg, CompanySyncInterval: -1, BillingDebounce: time.Hour, PollInterval: time.Hour})
	must(err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	a, d := newApp(t, st, 120, 40, Options{Backend: eng})
	d.Press(billingKey(), "s")
	if got := ansi.Strip(a.Content()); !strings.Contains(got, "none → 40") || !strings.Contains(got, "no agreement: workspace northwind") ||
		!strings.Contains(got, "1 addition to create? y/N") {
		t.Fatalf("no diff and question after s:\n%s", got)
	}
	d.Press("y")
	d.WaitFor(func() bool {
		got := ansi.Strip(a.Content())
		return strings.Contains(got, "Stored") && strings.Contains(got, "in step")
	})
	if got := ansi.Strip(a.Content()); !strings.Contains(got, "billing synced: 1 created") {
		t.Fatalf("after y:\n%s", got)
	}
	n := 0
	for _, ad := range sim.Records("additions") {
		if num(ad["agreementId"]) == agreement && ad["cancelledDate"] == nil && num(ad["quantity"]) == 40 {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d active additions at 40 on agreement %d, want 1", n, agreement)
	}
}

// num reads a simulator record's number (an int, or a float64 from JSON).
func num(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return -1
}
