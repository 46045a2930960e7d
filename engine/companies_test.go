package engine

import (
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// companiesRoute is the simulator's name for the company list.
const companiesRoute = "GET company/companies"

// TestCompanyCacheKeptFresh: Run fills the empty company cache by itself
// (a full sync), and later syncs ask only for what changed: an edit, a
// soft delete and a new company land in the cache, one request each sync,
// and a sync with nothing new costs one request and changes nothing.
func TestCompanyCacheKeptFresh(t *testing.T) {
	r := newRig(t, cwsim.Options{Companies: 40}, "", func(o *Options) { o.CompanySyncInterval = time.Hour })
	want := len(r.sim.Records("companies"))
	r.waitFor(10*time.Second, "the first full sync", func() bool {
		cs, _ := r.store.Companies()
		return len(cs) == want
	})
	cached, _ := r.store.Companies()
	deletedInCW := 0
	for i, rec := range r.sim.Records("companies") {
		if rec["deletedFlag"] == true {
			deletedInCW++
			if !cached[i].Deleted {
				t.Errorf("company %v deleted in ConnectWise, not in the cache", rec["id"])
			}
		}
	}
	if deletedInCW == 0 {
		t.Fatal("the simulator seeded no deleted company")
	}
	r.halt()

	recs := r.sim.Records("companies")
	renamed, removed := recs[3]["id"].(int), recs[4]["id"].(int)
	if err := r.sim.EditCompany(renamed, map[string]any{"name": "Renamed Dental"}); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.DeleteCompany(removed); err != nil {
		t.Fatal(err)
	}
	r.sim.AddCompanies(1)
	r.sim.ResetStats()
	res, err := r.eng.syncCompanies(t.Context())
	if err != nil || res.full || res.changed != 3 {
		t.Fatalf("incremental sync: %+v, %v; want 3 changes, not a full sync", res, err)
	}
	if n := r.sim.Stats().ByRoute[companiesRoute]; n != 1 {
		t.Errorf("incremental sync took %d requests, want 1", n)
	}
	if c, _ := r.store.Company(renamed); c.Name != "Renamed Dental" {
		t.Errorf("renamed company: %+v", c)
	}
	if c, _ := r.store.Company(removed); !c.Deleted {
		t.Errorf("deleted company: %+v", c)
	}
	if cs, _ := r.store.Companies(); len(cs) != want+1 {
		t.Errorf("cache holds %d companies, want %d", len(cs), want+1)
	}

	r.sim.ResetStats()
	sub := r.store.Subscribe(t.Context(), storage.ChangeCompanies)
	res, err = r.eng.syncCompanies(t.Context())
	if err != nil || res.full || res.changed != 0 {
		t.Fatalf("steady-state sync: %+v, %v", res, err)
	}
	if n := r.sim.Stats().Requests; n != 1 {
		t.Errorf("steady-state sync took %d requests, want 1", n)
	}
	select {
	case <-sub:
		t.Error("a sync that changed nothing made the screens reload")
	default:
	}
}

// A restart right after a sync does not sync again; a connection to
// another ConnectWise starts over with a full sync.
func TestCompanySyncRestartAndNewConnection(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", func(o *Options) { o.CompanySyncInterval = time.Hour })
	r.waitFor(10*time.Second, "the first full sync", func() bool {
		st, _ := r.store.CompanySync()
		return !st.FullAt.IsZero()
	})
	r.halt()
	if d := r.eng.firstCompanySync(); d < 50*time.Minute {
		t.Errorf("a restart right after a sync syncs again in %v, want in about an hour", d)
	}

	conn, err := r.store.Connection()
	if err != nil {
		t.Fatal(err)
	}
	conn.CompanyID = "another"
	if err := r.store.SetConnection("test", conn); err != nil {
		t.Fatal(err)
	}
	if res, _ := r.eng.syncCompanies(t.Context()); !res.full {
		t.Errorf("sync after the connection changed: %+v, want a full sync", res)
	}
}
