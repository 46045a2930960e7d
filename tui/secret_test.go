package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// TestStoredKeyOnNoScreen renders every page, the help, the feed detail
// and every step of a re-run wizard (with ctrl+r pressed on each) at
// 120x40, with a recognisable private key stored, and greps each screen
// for it. The key is write-only: it shows as set, never as itself.
func TestStoredKeyOnNoScreen(t *testing.T) {
	const secret = "PRIVATE-never-shown-KEY"
	sim := cwsim.New(cwsim.Options{Companies: 5, PrivateKey: secret})
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cr := sim.Credentials()
	st := fixture(t)
	if err := st.SetConnection("t", storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(secret), ClientID: cr.ClientID, APIVersion: cr.APIVersion}); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 120, 40, Options{NewClient: tu.NewClient})
	check := func(where string) {
		t.Helper()
		if c := a.Content(); strings.Contains(c, secret) {
			t.Fatalf("%s shows the stored private key:\n%s", where, c)
		}
	}
	for i := range common.NumPages {
		d.Press(fmt.Sprint(int(i) + 1))
		check(common.PageID(i).String())
		d.Press("?")
		check(common.PageID(i).String() + " help")
		d.Press("?", "enter")
		check(common.PageID(i).String() + " enter")
		d.Press("esc")
	}
	d.Press("1", "w")
	setup := a.Page(common.PageSetup).(interface{ InWizard() bool })
	if !setup.InWizard() {
		t.Fatalf("w did not open the wizard:\n%s", a.Content())
	}
	if !strings.Contains(ansi.Strip(a.Content()), storage.Mask+" (stored)") {
		t.Errorf("the stored key does not show as set:\n%s", a.Content())
	}
	steps := [][]string{
		{"down", "down", "down"}, // to the private key field
		{"enter", "enter"},       // to the client ID, submit: verify against the simulator
		{"enter"},                // agreement types
		{"enter"},                // products
		{"down", "m", "enter"},   // the catalog picker
		{"enter"},                // picked
		{"n"},                    // summary
	}
	for i, keys := range steps {
		d.Press(keys...)
		check(fmt.Sprintf("wizard step %d", i))
		d.Press("ctrl+r")
		check(fmt.Sprintf("wizard step %d after ctrl+r", i))
		d.Press("ctrl+r")
	}
	if !strings.Contains(a.Content(), "enter: save") {
		t.Fatalf("the walk did not reach the summary:\n%s", a.Content())
	}
}
