package tui

import (
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
	"github.com/cwbridge/cwbridge/tui/setup"
)

// simApp is a session of technician actor on st whose ConnectWise is the
// simulator.
func simApp(t *testing.T, st *storage.Store, actor string) (*App, *tu.Driver) {
	t.Helper()
	return newApp(t, st, 100, 30, Options{Actor: actor, NewClient: tu.NewClient})
}

// A wizard draft belongs to the session that made it: a technician who
// leaves the wizard midway sends nobody else there, finds it again
// themselves, and finishing it is what everyone shares.
func TestWizardDraftIsPerSession(t *testing.T) {
	sim := tu.Sim(t, 3)
	cr := sim.Credentials()
	st := tu.Store(t)

	alice, d := simApp(t, st, "ssh:alice")
	if alice.Active() != common.PageSetup {
		t.Fatalf("first run opens on %v", alice.Active())
	}
	for _, v := range []string{cr.Site, cr.CompanyID, cr.PublicKey, cr.PrivateKey, cr.ClientID} {
		d.Type(v)
		d.Press("enter")
	}
	d.Press("enter") // verified: on to the agreement type
	if !strings.Contains(alice.Content(), "Used when you create a workspace") {
		t.Fatalf("alice is not at the agreement step:\n%s", alice.Content())
	}
	// Alice leaves here (her session ends without a word).

	bob, _ := simApp(t, st, "ssh:bob")
	sp := bob.Page(common.PageSetup).(*setup.Model)
	got := bob.Content()
	if !sp.InWizard() || strings.Contains(got, "Used when you create a workspace") || strings.Contains(got, cr.PublicKey) || strings.Contains(got, cr.Site) {
		t.Fatalf("bob's wizard opens on alice's draft, want his own empty credentials step:\n%s", got)
	}

	alice2, d2 := simApp(t, st, "ssh:alice")
	if !strings.Contains(alice2.Content(), "Used when you create a workspace") {
		t.Fatalf("alice's reconnect does not resume her draft at the agreement step:\n%s", alice2.Content())
	}
	d2.Press("enter")                 // the default agreement type
	d2.Press("down", "down", "enter") // products: Continue
	if !strings.Contains(alice2.Content(), "Summary") {
		t.Fatalf("alice is not at the summary:\n%s", alice2.Content())
	}
	d2.Press("enter") // save
	if o, _ := st.Onboarding(); o.Step != "done" {
		t.Fatalf("the saved summary left onboarding at %q", o.Step)
	}

	// Finished setup is shared: bob's next session (and anyone's) opens on
	// the Feed, with Setup complete.
	bob2, d3 := simApp(t, st, "ssh:bob")
	if bob2.Active() != common.PageFeed {
		t.Fatalf("after the setup was saved bob opens on %v", bob2.Active())
	}
	d3.Press("1")
	if !strings.Contains(bob2.Content(), "Setup complete") {
		t.Fatalf("bob's Setup page:\n%s", bob2.Content())
	}
}

// Re-running the wizard (w) changes nothing another session sees until its
// summary is saved, however far the re-run gets before it is left.
func TestRerunWizardInvisibleToOthers(t *testing.T) {
	sim := tu.Sim(t, 3)
	st := tu.Store(t)
	tu.Connect(t, st, sim)
	if err := st.SetOnboarding(storage.Onboarding{Step: "done"}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Connection()

	alice, d := simApp(t, st, "ssh:alice")
	d.Press("1", "w")
	d.Press("enter", "enter", "enter", "enter", "enter") // verify
	d.Press("enter")                                     // agreement type
	if !strings.Contains(alice.Content(), "Used when you create a workspace") {
		t.Fatalf("alice's re-run is not at the agreement step:\n%s", alice.Content())
	}
	// Alice's session ends here, mid re-run.

	for _, who := range []string{"ssh:bob", "ssh:alice"} {
		a, d := simApp(t, st, who)
		if a.Active() != common.PageFeed {
			t.Fatalf("%s opens on %v while a re-run was left midway", who, a.Active())
		}
		d.Press("1")
		if !strings.Contains(a.Content(), "Setup complete") {
			t.Fatalf("%s's Setup page:\n%s", who, a.Content())
		}
	}
	if after, _ := st.Connection(); !after.Equal(before) {
		t.Fatal("the re-run changed the stored connection")
	}
}
