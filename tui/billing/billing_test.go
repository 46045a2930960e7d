package billing

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// setup is a store with acme's and northwind's workspaces and a fake
// engine holding the fixture's billing picture.
func setup(t *testing.T) (*storage.Store, *tu.Backend) {
	t.Helper()
	st := tu.Store(t)
	for _, w := range []storage.Workspace{{Key: "acme", CWCompany: "C00000", CWCompanyID: 19301, AgreementID: 1001}, {Key: "northwind", CWCompany: "C00001", CWCompanyID: 19302}} {
		if err := st.PutWorkspace("t", w); err != nil {
			t.Fatal(err)
		}
	}
	be := &tu.Backend{}
	be.Billing, be.Plan, be.Synced = tu.Billing()
	return st, be
}

func newPage(t *testing.T, st *storage.Store, be *tu.Backend, readOnly bool) (*Model, *tu.Driver) {
	t.Helper()
	c := tu.Common(st, be)
	c.ReadOnly = readOnly
	m := New(c)
	m.SetSize(120, 30)
	d := &tu.Driver{T: t, AsRoot: true, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	return m, d
}

// screen is the page as text, each run of spaces one space (wrapped
// sentences compare whole).
func screen(m *Model) string { return strings.Join(strings.Fields(ansi.Strip(m.View())), " ") }

func TestStoredPicture(t *testing.T) {
	st, be := setup(t)
	m, _ := newPage(t, st, be, false)
	s := screen(m)
	for _, want := range []string{"last sync 5m ago (1 created, 1 error)", "acme C00000 users 40 35 will change 5m ago 35 → 40 at the next sync",
		"acme C00000 edr 10 10 in step 5m ago", "northwind C00001 users 12 – error never", "✗ error at the last sync (enter shows why): C00001 (northwind)"} {
		if !strings.Contains(s, want) {
			t.Fatalf("page lacks %q:\n%s", want, ansi.Strip(m.View()))
		}
	}
	if p, s := be.Calls(); p+s != 0 {
		t.Fatalf("opening the page asked ConnectWise: %d plans, %d syncs", p, s)
	}
}

// TestPlanShownBeforeApplying: s shows the diff and asks; nothing is
// applied before the answer.
func TestPlanShownBeforeApplying(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, false)
	d.Press("s")
	if d.Confirm == nil || !strings.Contains(d.Confirm.Prompt, "1 addition to create, 1 to change?") {
		t.Fatalf("no question after s: %+v", d.Confirm)
	}
	s := screen(m)
	for _, want := range []string{"Plan at 09:30:00", "1 to create, 1 to change, 1 error", "35 → 40 (addition 5)", "none → 7 (new addition)",
		"no agreement: workspace northwind has no agreement", "✗ no agreement: C00001 (northwind)"} {
		if !strings.Contains(s, want) {
			t.Fatalf("plan lacks %q:\n%s", want, ansi.Strip(m.View()))
		}
	}
	if plans, syncs := be.Calls(); plans != 1 || syncs != 0 {
		t.Fatalf("before the answer: %d plans, %d syncs; want 1, 0", plans, syncs)
	}
}

func TestNoAppliesNothing(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, false)
	d.Press("s", "n")
	if _, syncs := be.Calls(); syncs != 0 {
		t.Fatalf("n applied the plan (%d syncs)", syncs)
	}
	if m.plan == nil || !strings.Contains(screen(m), "35 → 40 (addition 5)") {
		t.Fatalf("the plan left the screen after n:\n%s", ansi.Strip(m.View()))
	}
}

func TestYesApplies(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, false)
	d.Press("s", "y")
	if _, syncs := be.Calls(); syncs != 1 {
		t.Fatalf("y: %d syncs, want 1", syncs)
	}
	if !d.Status.Err || !strings.Contains(d.Status.Text, "billing synced: 1 created, 1 changed, 1 error") {
		t.Fatalf("status after the sync: %+v", d.Status)
	}
	if m.plan != nil || m.syncing || !strings.Contains(screen(m), "Stored as the last sync left it") {
		t.Fatalf("after the sync the page shows the stored picture:\n%s", ansi.Strip(m.View()))
	}
}

// TestViewerRefused: a viewer's s changes nothing and says why; p (which
// only reads) still shows the plan, and asks nothing.
func TestViewerRefused(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, true)
	d.Press("s")
	if !strings.Contains(d.Status.Text, "read-only: a viewer cannot sync billing") || d.Confirm != nil {
		t.Fatalf("viewer's s: status %+v, question %+v", d.Status, d.Confirm)
	}
	if plans, syncs := be.Calls(); plans+syncs != 0 {
		t.Fatalf("viewer's s reached the engine: %d plans, %d syncs", plans, syncs)
	}
	d.Press("p")
	if plans, _ := be.Calls(); plans != 1 || d.Confirm != nil || m.plan == nil {
		t.Fatalf("viewer's p: %d plans, question %+v", plans, d.Confirm)
	}
	// A yes that reaches the page anyway (asked before) is refused too.
	d.Run(m.Update(applyMsg{}))
	if _, syncs := be.Calls(); syncs != 0 {
		t.Fatal("a viewer's session applied the plan")
	}
}

// TestErrorReadableInFull: enter on an error row shows the reason and the
// fix whole, wrapped, in the plan and in the stored picture.
func TestErrorReadableInFull(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, false)
	m.SetSize(60, 20) // the fix is longer than a line
	d.Press("end", "enter")
	s := screen(m)
	if !strings.Contains(s, "at the last sync: workspace northwind has no agreement — fix: pick the workspace's agreement on the Companies page (the company's agreements of the default agreement type come first)") {
		t.Fatalf("stored error not in full:\n%s", ansi.Strip(m.View()))
	}
	d.Press("esc", "p", "end", "enter")
	s = screen(m)
	for _, want := range []string{"northwind · users", "✗ no agreement", "Reason workspace northwind has no agreement",
		"Fix pick the workspace's agreement on the Companies page (the company's agreements of the default agreement type come first)"} {
		if !strings.Contains(s, want) {
			t.Fatalf("detail lacks %q:\n%s", want, ansi.Strip(m.View()))
		}
	}
	d.Press("esc")
	if m.detail || m.plan == nil {
		t.Fatalf("esc closes the detail and keeps the plan: detail %v, plan %v", m.detail, m.plan != nil)
	}
	d.Press("esc")
	if m.plan != nil {
		t.Fatal("esc did not go back to the stored picture")
	}
}

func TestNothingToApply(t *testing.T) {
	st, be := setup(t)
	be.Plan = engine.BillingPlan{At: tu.Clock, Errors: 1, Rows: be.Plan.Rows[3:]}
	m, d := newPage(t, st, be, false)
	d.Press("s")
	if d.Confirm != nil || !strings.Contains(d.Status.Text, "nothing to apply: 1 error") {
		t.Fatalf("status %+v, question %+v", d.Status, d.Confirm)
	}
	be.Plan = engine.BillingPlan{At: tu.Clock, Rows: be.Synced.Rows[:1]}
	d.Press("s")
	if d.Confirm != nil || d.Status.Text != "ConnectWise is in step: nothing to change" {
		t.Fatalf("status %+v, question %+v", d.Status, d.Confirm)
	}
	_ = m
}

func TestPlanFails(t *testing.T) {
	st, be := setup(t)
	be.PlanErr = errors.New("ConnectWise calls are paused (unreachable): dial tcp: connection refused")
	m, d := newPage(t, st, be, false)
	d.Press("s")
	if d.Confirm != nil || !d.Status.Err || !strings.Contains(d.Status.Text, "cannot work out the billing plan: ConnectWise calls are paused") {
		t.Fatalf("status %+v, question %+v", d.Status, d.Confirm)
	}
	if m.planning || m.plan != nil {
		t.Fatal("a failed plan left the page waiting or showing a plan")
	}
}

// TestPlanGoesStale: usage arriving while a plan is on screen says so.
func TestPlanGoesStale(t *testing.T) {
	st, be := setup(t)
	m, d := newPage(t, st, be, false)
	d.Press("p")
	if _, err := st.SetWantedUsage("acme", "users", 41); err != nil {
		t.Fatal(err)
	}
	d.WaitFor(func() bool { return m.planStale })
	if !strings.Contains(screen(m), "usage changed since this plan: p works it out again") {
		t.Fatalf("stale plan not marked:\n%s", ansi.Strip(m.View()))
	}
}
