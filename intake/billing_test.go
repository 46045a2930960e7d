package intake

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
)

// The contract's bounds: 0–1,000,000, and a seat-based product takes no
// /v1/usage (its quantity is max_users); refused requests store nothing.
func TestUsageBounds(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.store.PutWorkspace("test", storage.Workspace{Key: "acme", CWCompany: "ACME"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []storage.ProductMapping{
		{Key: "users", CreateNew: &storage.NewCatalogItem{Identifier: "SEC-USER"}},
		{Key: "seats", SeatBased: true, CreateNew: &storage.NewCatalogItem{Identifier: "SEC-SEAT"}},
	} {
		if err := h.store.PutProductMapping("test", m); err != nil {
			t.Fatal(err)
		}
	}
	usage := func(body string) answer {
		return h.do(http.MethodPost, "/v1/usage", "application/json", body, "Bearer "+testToken)
	}
	usage(`{"company":"acme","product":"users","quantity":1000000}`).want(t, http.StatusAccepted)
	for _, tc := range []struct{ body, field string }{
		{`{"company":"acme","product":"users","quantity":1000001}`, "quantity"},
		{`{"company":"acme","product":"users","quantity":2147483647}`, "quantity"},
		{`{"company":"acme","product":"seats","quantity":5}`, "product"},
	} {
		if a := usage(tc.body).want(t, http.StatusBadRequest); a.json["field"] != tc.field {
			t.Errorf("%s: %s", tc.body, a.body)
		}
	}
	if u, _ := h.store.Usage("acme", "users"); u.Wanted != 1000000 {
		t.Errorf("stored %+v", u)
	}
	if _, err := h.store.Usage("acme", "seats"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("seat-based usage stored: %v", err)
	}
}

// fakeBilling stands in for the engine: the HTTP layer is under test here;
// the plan itself is tested in engine.
type fakeBilling struct {
	plan  engine.BillingPlan
	err   error
	syncs int
}

func (f *fakeBilling) BillingPlan(context.Context) (engine.BillingPlan, error) { return f.plan, f.err }
func (f *fakeBilling) SyncBilling(context.Context) (engine.BillingPlan, error) {
	f.syncs++
	return f.plan, f.err
}

func TestBillingEndpoints(t *testing.T) {
	q := 3
	fb := &fakeBilling{plan: engine.BillingPlan{Rows: []engine.BillingRow{{Workspace: "acme", Product: "users",
		Wanted: 5, InCW: &q, Action: engine.BillUpdate}}, Updates: 1}}
	h := newHarness(t, func(o *Options) { o.Billing = fb })
	h.do(http.MethodGet, "/v1/billing", "", "", "").want(t, http.StatusUnauthorized)
	h.do(http.MethodPost, "/v1/billing/sync", "", "", "").want(t, http.StatusUnauthorized)
	a := h.do(http.MethodGet, "/v1/billing", "", "", "Bearer "+testToken).want(t, http.StatusOK)
	rows, _ := a.json["rows"].([]any)
	if a.json["in_step"] != false || len(rows) != 1 || rows[0].(map[string]any)["in_cw"] != 3.0 || fb.syncs != 0 {
		t.Fatalf("plan %s", a.body)
	}
	h.do(http.MethodPost, "/v1/billing", "", "", "Bearer "+testToken).want(t, http.StatusMethodNotAllowed)
	h.do(http.MethodGet, "/v1/billing/sync", "", "", "Bearer "+testToken).want(t, http.StatusMethodNotAllowed)
	h.do(http.MethodPost, "/v1/billing/sync", "", "", "Bearer "+testToken).want(t, http.StatusOK)
	if fb.syncs != 1 {
		t.Errorf("syncs %d", fb.syncs)
	}
	fb.plan, fb.err = engine.BillingPlan{}, errors.New("ConnectWise is not set up")
	a = h.do(http.MethodGet, "/v1/billing", "", "", "Bearer "+testToken).want(t, http.StatusServiceUnavailable)
	if a.json["error"] != "billing: ConnectWise is not set up" {
		t.Errorf("error answer %s", a.body)
	}

	h2 := newHarness(t, nil)
	h2.do(http.MethodGet, "/v1/billing", "", "", "Bearer "+testToken).want(t, http.StatusServiceUnavailable)
}
