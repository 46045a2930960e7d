package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// billingBackend is the fake engine with the fixture's billing picture.
func billingBackend() *tu.Backend {
	be := &tu.Backend{H: fixedHealth()}
	be.Billing, be.Plan, be.Synced = tu.Billing()
	return be
}

func billingKey() string { return fmt.Sprint(int(common.PageBilling) + 1) }

// TestBillingGoldens: the stored picture, the plan with its question on
// the prompt line, and an error in full.
func TestBillingGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			a, d := newApp(t, fixture(t), w, h, Options{Backend: billingBackend()})
			d.Press(billingKey())
			if a.Active() != common.PageBilling {
				t.Fatalf("key %s opens %v", billingKey(), a.Active())
			}
			shot := func(name string) {
				t.Helper()
				got := a.Content()
				assertFits(t, got, w, h)
				tu.Golden(t, fmt.Sprintf("%s_%dx%d", name, w, h), got)
			}
			shot("billing")
			d.Press("s")
			shot("billing_plan")
			d.Press("n", "end", "enter")
			shot("billing_detail")
		})
	}
}

// TestBillingThroughTheRoot: the root's own question guards the sync: n
// (or any key but y) applies nothing, y applies it once.
func TestBillingThroughTheRoot(t *testing.T) {
	be := billingBackend()
	a, d := newApp(t, fixture(t), 120, 40, Options{Backend: be})
	d.Press(billingKey(), "s")
	if !strings.Contains(a.Content(), "1 addition to create, 1 to change? y/N") || !strings.Contains(a.Content(), "35 → 40 (addition 5)") {
		t.Fatalf("no diff and question after s:\n%s", a.Content())
	}
	d.Press("n")
	if _, syncs := be.Calls(); syncs != 0 || strings.Contains(a.Content(), "y/N") {
		t.Fatalf("n: %d syncs\n%s", syncs, a.Content())
	}
	d.Press("s", "y")
	if _, syncs := be.Calls(); syncs != 1 {
		t.Fatalf("y: %d syncs, want 1", syncs)
	}
	if !strings.Contains(a.Content(), "billing synced: 1 created, 1 changed, 1 error") {
		t.Fatalf("no outcome after y:\n%s", a.Content())
	}
}

func TestBillingViewerRefusedThroughTheRoot(t *testing.T) {
	be := billingBackend()
	a, d := newApp(t, fixture(t), 120, 40, Options{Backend: be, ReadOnly: true})
	d.Press(billingKey(), "s", "y")
	if plans, syncs := be.Calls(); plans+syncs != 0 {
		t.Fatalf("viewer: %d plans, %d syncs", plans, syncs)
	}
	if !strings.Contains(a.Content(), "read-only: a viewer cannot sync billing (ask an admin)") {
		t.Fatalf("no refusal:\n%s", a.Content())
	}
}
