package testutil

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
)

var (
	prefixes   = []string{"Acme", "Northwind", "Blue Ridge", "Cedar", "Harbor", "Summit", "Pioneer", "Lakeside", "Granite", "Maple", "Silver", "Oak Valley", "Riverbend", "Keystone", "Evergreen", "Bright"}
	industries = []string{"Dental", "Logistics", "Law", "Clinic", "Foods", "Builders", "Accounting", "Realty", "Motors", "Labs", "Insurance", "Energy", "Schools", "Hotels"}
	suffixes   = []string{"Group", "LLC", "Inc", "Partners", "Co", "Ltd", "Associates", "Holdings"}
)

// Companies makes n deterministic companies with unique ids and
// identifiers, shaped like a real MSP's ConnectWise.
func Companies(n int) []storage.Company {
	out := make([]storage.Company, n)
	for i := range out {
		name := fmt.Sprintf("%s %s %s", prefixes[i%len(prefixes)], industries[(i/len(prefixes))%len(industries)], suffixes[(i/7)%len(suffixes)])
		if i >= len(prefixes)*len(industries) {
			name = fmt.Sprintf("%s %d", name, i)
		}
		out[i] = storage.Company{ID: 19301 + i, Identifier: fmt.Sprintf("C%05d", i), Name: name,
			LastUpdated: Clock.Add(-time.Duration(i) * time.Minute)}
	}
	return out
}

// Sim starts a simulator on loopback for the test.
func Sim(t testing.TB, companies int) *cwsim.Server {
	t.Helper()
	s := cwsim.New(cwsim.Options{Companies: companies})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Connect stores the simulator's credentials as the connection.
func Connect(t testing.TB, st *storage.Store, s *cwsim.Server) {
	t.Helper()
	cr := s.Credentials()
	err := st.SetConnection("test", storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"})
	if err != nil {
		t.Fatal(err)
	}
}

// Billing is a billing picture for screens, matching the workspaces of
// the TUI's fixtures (acme bills on agreement 1001, northwind has none):
// the stored status, the live plan (one create, one change, one in step,
// one error) and what a sync of it returns.
func Billing() (engine.BillingStatus, engine.BillingPlan, engine.BillingPlan) {
	synced := Clock.Add(-5 * time.Minute)
	status := engine.BillingStatus{
		Rows: []engine.BillingStatusRow{
			{Usage: storage.Usage{Workspace: "acme", Product: "edr", Wanted: 10, Synced: 10, SyncedAt: synced, UpdatedAt: synced}, State: engine.StateInStep},
			{Usage: storage.Usage{Workspace: "acme", Product: "users", Wanted: 40, Synced: 35, SyncedAt: synced, UpdatedAt: Clock.Add(-2 * time.Minute)}, State: engine.StateWillChange},
			{Usage: storage.Usage{Workspace: "contoso", Product: "users", Wanted: 7, UpdatedAt: Clock.Add(-time.Minute)}, State: engine.StateWillChange},
			{Usage: storage.Usage{Workspace: "northwind", Product: "users", Wanted: 12, UpdatedAt: Clock.Add(-3 * time.Hour),
				LastError: "workspace northwind has no agreement — fix: pick the workspace's agreement on the Companies page (the company's agreements of the default agreement type come first)"},
				State: engine.StateBillError},
		},
		LastSync: storage.BillingSync{At: synced, Created: 1, Errors: 1, Calls: 4},
	}
	in := func(n int) *int { return &n }
	plan := engine.BillingPlan{At: Clock, LastSync: synced, Calls: 3, Creates: 1, Updates: 1, Errors: 1, Rows: []engine.BillingRow{
		{Workspace: "acme", Company: "C00000", Product: "edr", Identifier: "SEC-EDR", ItemID: 78, AgreementID: 1001, Wanted: 10, InCW: in(10), AdditionID: 9, Action: engine.BillInStep, LastSync: synced},
		{Workspace: "acme", Company: "C00000", Product: "users", Identifier: "SEC-USER", ItemID: 77, AgreementID: 1001, Wanted: 40, InCW: in(35), AdditionID: 5, Action: engine.BillUpdate, LastSync: synced},
		{Workspace: "contoso", Company: "C00002", Product: "users", Identifier: "SEC-USER", ItemID: 77, AgreementID: 1003, Wanted: 7, Action: engine.BillCreate},
		{Workspace: "northwind", Company: "C00001", Product: "users", Identifier: "SEC-USER", ItemID: 77, Wanted: 12, Action: engine.BillError,
			Problem: engine.ProblemNoAgreement, Error: "workspace northwind has no agreement",
			Fix: "pick the workspace's agreement on the Companies page (the company's agreements of the default agreement type come first)"},
	}}
	done := plan
	done.Rows = slices.Clone(plan.Rows)
	done.Rows[1].Done, done.Rows[2].Done, done.Rows[2].AdditionID = engine.DoneUpdated, engine.DoneCreated, 11
	done.LastSync, done.Calls = Clock, 5
	return status, plan, done
}
