package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

const billingTOML = `
[[products]]
key = "users"
cw_identifier = "SEC-USER"
description = "Security seat (per user)"

[[products]]
key = "devices"
cw_identifier = "AV-ENDPOINT"
description = "Endpoint protection"
`

// billRig is a rig whose background billing loop stays quiet, so the test
// drives syncs itself, with a clock it can move.
type billRig struct {
	*rig
	clock *atomic.Int64 // unix nanoseconds
}

func newBillRig(t testing.TB, simOpts cwsim.Options, extra string, edit func(*Options)) *billRig {
	t.Helper()
	clock := &atomic.Int64{}
	clock.Store(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano())
	r := newRig(t, simOpts, billingTOML+extra, func(o *Options) {
		o.BillingDebounce = time.Hour
		o.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
		if edit != nil {
			edit(o)
		}
	})
	return &billRig{rig: r, clock: clock}
}

func (r *billRig) advance(d time.Duration) { r.clock.Add(int64(d)) }

// agreements returns n active agreements of distinct companies (id and
// company identifier), in id order.
func (r *billRig) agreements(n int) [][2]any {
	r.t.Helper()
	var out [][2]any
	seen := map[string]bool{}
	for _, a := range r.sim.Records("agreements") {
		co := a["company"].(map[string]any)["identifier"].(string)
		if a["agreementStatus"] != "Active" || seen[co] {
			continue
		}
		seen[co] = true
		out = append(out, [2]any{num(a["id"]), co})
		if len(out) == n {
			return out
		}
	}
	r.t.Fatalf("the simulator has only %d active agreements of distinct companies", len(out))
	return nil
}

// workspace stores a workspace on an agreement.
func (r *billRig) workspace(key, company string, agreementID, maxUsers int) {
	r.t.Helper()
	if err := r.store.PutWorkspace("test", storage.Workspace{Key: key, CWCompany: company, AgreementID: agreementID, MaxUsers: maxUsers}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *billRig) want(ws, product string, q int) {
	r.t.Helper()
	if _, err := r.store.SetWantedUsage(ws, product, q); err != nil {
		r.t.Fatal(err)
	}
}

// itemID is the simulator's catalog item with that identifier (0: none);
// count is how many there are.
func (r *billRig) item(identifier string) (id, count int) {
	for _, it := range r.sim.Records("catalog") {
		if strings.EqualFold(it["identifier"].(string), identifier) {
			id, count = num(it["id"]), count+1
		}
	}
	return id, count
}

// active lists the quantities of the active additions of an item on an
// agreement, as the simulator holds them.
func (r *billRig) active(agreementID, itemID int) []int {
	var out []int
	for _, a := range r.sim.Records("additions") {
		if num(a["agreementId"]) == agreementID && num(a["product"].(map[string]any)["id"]) == itemID && a["cancelledDate"] == nil {
			out = append(out, num(a["quantity"]))
		}
	}
	return out
}

func (r *billRig) writes() int64 { return countWrites(r.sim.Stats()) }

func (r *billRig) sync() BillingPlan {
	r.t.Helper()
	p, err := r.eng.SyncBilling(context.Background())
	if err != nil {
		r.t.Fatalf("sync: %v", err)
	}
	return p
}

func rowOf(p BillingPlan, ws, product string) BillingRow {
	for _, r := range p.Rows {
		if r.Workspace == ws && r.Product == product {
			return r
		}
	}
	return BillingRow{}
}

// The story: usage for three workspaces × two products, twice, ends
// as exactly one active addition each at the latest quantity; the catalog
// item is created once, an existing identifier adopted; a sync in step
// writes nothing.
func TestBillingSyncCreatesAndUpdates(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ags := r.agreements(3)
	for i, a := range ags {
		r.workspace(fmt.Sprintf("ws%d", i), a[1].(string), a[0].(int), 0)
	}
	for round, base := range []int{10, 20} {
		for i := range ags {
			r.want(fmt.Sprintf("ws%d", i), "users", base+i)
			r.want(fmt.Sprintf("ws%d", i), "devices", base+i+100)
		}
		p := r.sync()
		if p.Errors != 0 {
			t.Fatalf("round %d: errors in %+v", round, p.Rows)
		}
	}
	userID, n := r.item("SEC-USER")
	if n != 1 {
		t.Fatalf("SEC-USER items: %d", n)
	}
	devID, n := r.item("AV-ENDPOINT")
	if n != 1 {
		t.Fatalf("AV-ENDPOINT items: %d (adopted, not duplicated)", n)
	}
	for i, a := range ags {
		if got := r.active(a[0].(int), userID); len(got) != 1 || got[0] != 20+i {
			t.Errorf("agreement %d users: %v", a[0], got)
		}
		if got := r.active(a[0].(int), devID); len(got) != 1 || got[0] != 120+i {
			t.Errorf("agreement %d devices: %v", a[0], got)
		}
	}
	cat, _ := r.store.CatalogStates()
	outcomes := map[string]string{}
	for _, c := range cat {
		outcomes[c.Identifier] = c.Outcome
	}
	if outcomes["SEC-USER"] != storage.CatalogCreated || outcomes["AV-ENDPOINT"] != storage.CatalogAdopted {
		t.Errorf("catalog outcomes %v", outcomes)
	}
	before, reqs := r.writes(), r.sim.Stats().Requests
	p := r.sync()
	if !p.InStep() || r.writes() != before {
		t.Errorf("in-step sync wrote %d times; plan %+v", r.writes()-before, p)
	}
	// One status batch and one list per agreement; Calls tells the truth.
	if got := r.sim.Stats().Requests - reqs; p.Calls != int(got) || got != 1+int64(len(ags)) {
		t.Errorf("in-step sync: %d requests, Calls %d", got, p.Calls)
	}
	if u, _ := r.store.Usage("ws0", "users"); !u.InSync() || u.Synced != 20 {
		t.Errorf("usage row %+v", u)
	}
	feed, _ := r.store.RecentFeed(100)
	var created, changed int
	for _, ev := range feed {
		if ev.Kind == storage.FeedBilling && strings.Contains(ev.Message, "created on agreement") {
			created++
		}
		if ev.Kind == storage.FeedBilling && strings.Contains(ev.Message, "→") {
			changed++
		}
	}
	if created < 3 || changed < 6 {
		t.Errorf("feed: %d created, %d changed events", created, changed)
	}
}

// Rows that cannot be billed are reported with their fix, never guessed,
// and the others go on.
func TestBillingReportsAgreementProblems(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ags := r.agreements(3)
	var cancelled int
	for _, a := range r.sim.Records("agreements") {
		if a["agreementStatus"] == "Cancelled" {
			cancelled = num(a["id"])
			break
		}
	}
	if cancelled == 0 {
		t.Fatal("no cancelled agreement in the simulator")
	}
	r.workspace("ok", ags[0][1].(string), ags[0][0].(int), 0)
	r.workspace("none", ags[1][1].(string), 0, 0)
	r.workspace("cancelled", ags[1][1].(string), cancelled, 0)
	r.workspace("gone", ags[1][1].(string), 999999, 0)
	r.workspace("foreign", ags[1][1].(string), ags[2][0].(int), 0) // another company's agreement
	for _, ws := range []string{"ok", "none", "cancelled", "gone", "foreign"} {
		r.want(ws, "users", 5)
	}
	p := r.sync()
	for ws, want := range map[string]string{"none": ProblemNoAgreement, "cancelled": ProblemAgreement,
		"gone": ProblemAgreement, "foreign": ProblemAgreement} {
		row := rowOf(p, ws, "users")
		if row.Action != BillError || row.Problem != want || !strings.Contains(row.Fix, "Companies page") {
			t.Errorf("%s: %+v", ws, row)
		}
	}
	if row := rowOf(p, "ok", "users"); row.Done != DoneCreated {
		t.Errorf("ok: %+v", row)
	}
	userID, _ := r.item("SEC-USER")
	if got := r.active(ags[2][0].(int), userID); len(got) != 0 {
		t.Errorf("another company's agreement got %v", got)
	}
	if u, _ := r.store.Usage("none", "users"); u.LastError == "" || u.InSync() {
		t.Errorf("usage row of none: %+v", u)
	}
}

// Two active additions of the item (one made by hand) are reported and
// left alone.
func TestBillingLeavesHandMadeDuplicates(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ag := r.agreements(1)[0]
	r.workspace("ws", ag[1].(string), ag[0].(int), 0)
	r.want("ws", "devices", 7)
	r.sync()
	devID, _ := r.item("AV-ENDPOINT")
	c := r.eng.Client()
	hand := cwclient.Addition{Product: &cwclient.Ref{ID: devID}, Quantity: 3, BillCustomer: cwclient.BillCustomerBillable}
	if _, err := c.CreateAddition(context.Background(), ag[0].(int), hand); err != nil {
		t.Fatal(err)
	}
	r.want("ws", "devices", 9)
	before := r.writes()
	p := r.sync()
	row := rowOf(p, "ws", "devices")
	if row.Problem != ProblemSeveralActive || r.writes() != before {
		t.Errorf("row %+v, writes %d", row, r.writes()-before)
	}
	if got := r.active(ag[0].(int), devID); len(got) != 2 || got[0]+got[1] != 10 {
		t.Errorf("additions changed: %v", got)
	}
}

// A create whose answer is lost and that has not shown up is searched for,
// not repeated, until the create search window ends.
func TestBillingLostCreateIsNotRepeated(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ag := r.agreements(1)[0]
	agID := ag[0].(int)
	r.workspace("ws", ag[1].(string), agID, 0)
	r.want("ws", "users", 4)
	r.eng.EnsureCatalogItems(context.Background())
	userID, _ := r.item("SEC-USER")
	// As if a POST had gone out and its answer was lost, and ConnectWise
	// has not committed it yet.
	if err := r.store.PutAdditionCreate(storage.AdditionCreate{AgreementID: agID, ItemID: userID, Workspace: "ws",
		Product: "users", Quantity: 4, Since: r.opts.Now(), UnknownSince: r.opts.Now()}); err != nil {
		t.Fatal(err)
	}
	p := r.sync()
	if row := rowOf(p, "ws", "users"); row.Action != BillWait || len(r.active(agID, userID)) != 0 {
		t.Fatalf("within the window: %+v", row)
	}
	r.advance(r.cfg.Engine.CreateSearchWindow.Duration + time.Second)
	p = r.sync()
	if row := rowOf(p, "ws", "users"); row.Done != DoneCreated {
		t.Fatalf("after the window: %+v", row)
	}
	if got := r.active(agID, userID); len(got) != 1 || got[0] != 4 {
		t.Errorf("additions %v", got)
	}
	if _, err := r.store.AdditionCreate(agID, userID); err == nil {
		t.Error("marker left behind")
	}
}

// A catalog create whose answer is lost is found by identifier, not POSTed
// again.
func TestCatalogLostCreateAdoptsCommittedItem(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	r.loseAnswers("POST", "/procurement/catalog")
	out := r.eng.EnsureCatalogItems(context.Background())
	if out[1].Product != "users" || out[1].Outcome != storage.CatalogPending {
		t.Fatalf("first: %+v", out)
	}
	r.loseAnswers("", "")
	out = r.eng.EnsureCatalogItems(context.Background())
	if id, n := r.item("SEC-USER"); n != 1 || out[1].ItemID != id || out[1].Outcome != storage.CatalogCreated {
		t.Fatalf("second: %+v (items %d)", out, n)
	}
}

// Against 10% 500s, 5% 429s and 5% lost answers, with a restart between
// syncs: after every round each (agreement, product) has exactly one active
// addition at the latest quantity.
func TestBillingUnderFaultsAndRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits out Retry-After windows")
	}
	r := newBillRig(t, cwsim.Options{Seed: 3}, "", func(o *Options) { o.ProbeInterval = 10 * time.Millisecond })
	ags := r.agreements(6)
	for i, a := range ags {
		r.workspace(fmt.Sprintf("ws%d", i), a[1].(string), a[0].(int), 0)
	}
	r.sim.SetFaults(cwsim.Faults{Error500: 0.10, RateLimit: 0.05, LostResponse: 0.05, RetryAfter: time.Second})
	for round := range 4 {
		for i := range ags {
			r.want(fmt.Sprintf("ws%d", i), "users", 10*round+i+1)
			r.want(fmt.Sprintf("ws%d", i), "devices", 100+10*round+i)
		}
		for attempt := 0; ; attempt++ {
			if attempt == 60 {
				t.Fatalf("round %d: not in step after %d syncs", round, attempt)
			}
			r.waitFor(30*time.Second, "ConnectWise calls resumed", func() bool { return !r.eng.isPaused() })
			p, err := r.eng.SyncBilling(context.Background())
			if err == nil && p.InStep() {
				break
			}
		}
		r.restart(nil) // as after a kill: only the store carries over
	}
	r.sim.SetFaults(cwsim.Faults{})
	userID, n := r.item("SEC-USER")
	if n != 1 {
		t.Fatalf("SEC-USER items: %d", n)
	}
	devID, _ := r.item("AV-ENDPOINT")
	for i, a := range ags {
		if got := r.active(a[0].(int), userID); len(got) != 1 || got[0] != 30+i+1 {
			t.Errorf("agreement %d users: %v", a[0], got)
		}
		if got := r.active(a[0].(int), devID); len(got) != 1 || got[0] != 130+i {
			t.Errorf("agreement %d devices: %v", a[0], got)
		}
	}
	if st := r.sim.Stats(); st.Served500+st.Served429+st.Lost == 0 {
		t.Error("no fault was injected")
	}
}

// The stored picture the Billing page lists: states per row, the catalog
// outcomes and the last sync, with no ConnectWise call.
func TestBillingStatus(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ag := r.agreements(1)[0]
	r.workspace("ok", ag[1].(string), ag[0].(int), 0)
	r.workspace("none", ag[1].(string), 0, 0)
	r.want("ok", "users", 3)
	r.want("none", "users", 3)
	r.sync()
	r.want("ok", "devices", 2)
	before := r.sim.Stats().Requests
	st, err := r.eng.BillingStatus()
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, row := range st.Rows {
		states[row.Workspace+"/"+row.Product] = row.State
	}
	want := map[string]string{"ok/users": StateInStep, "none/users": StateBillError, "ok/devices": StateWillChange}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states %v", states)
	}
	if st.LastSync.At.IsZero() || st.LastSync.Created != 1 || st.LastSync.Errors != 1 || len(st.Catalog) != 2 {
		t.Errorf("status %+v", st)
	}
	if r.sim.Stats().Requests != before {
		t.Error("BillingStatus called ConnectWise")
	}
}

// Without the Product Catalog add permission the new item fails with the
// fix in plain words; the existing one is still adopted. The wizard's lists
// come from ConnectWise with a sensible default picked by name.
func TestCatalogPermissionAndChoices(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ch, err := r.eng.CatalogChoices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	name := func(id int) string {
		for _, s := range ch.Subcategories {
			if s.ID == id {
				return s.Name
			}
		}
		for _, s := range ch.Types {
			if s.ID == id {
				return s.Name
			}
		}
		return ""
	}
	if name(ch.DefaultSubcategory) != "Security Software" || name(ch.DefaultType) != "Service" {
		t.Errorf("defaults %q, %q", name(ch.DefaultSubcategory), name(ch.DefaultType))
	}
	r.sim.SetSecurity(cwsim.FuncProductCatalog, cwsim.All, cwsim.None, cwsim.All, cwsim.None)
	out := r.eng.EnsureCatalogItems(context.Background())
	if out[0].Product != "devices" || out[0].Outcome != storage.CatalogAdopted {
		t.Errorf("devices: %+v", out[0])
	}
	if out[1].Outcome != storage.CatalogFailed || !strings.Contains(out[1].Fix, "Product Catalog") || out[1].ItemID != 0 {
		t.Errorf("users: %+v", out[1])
	}
	if _, n := r.item("SEC-USER"); n != 0 {
		t.Errorf("%d items made without the permission", n)
	}
}

// A validation error on one agreement fails that agreement's rows only,
// with ConnectWise's reason; the others are synced.
func TestBillingValidationErrorFailsOneAgreement(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ags := r.agreements(3)
	bad := fmt.Sprintf("/finance/agreements/%d/additions", ags[1][0].(int))
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, bad) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":"InvalidObject","message":"addition object is invalid","errors":[{"code":"InvalidField","message":"The agreement is closed for additions.","resource":"addition","field":"agreementId"}]}`)
			return
		}
		r.srv.Config.Handler.ServeHTTP(w, req)
	}))
	defer front.Close()
	conn, err := r.store.Connection()
	if err != nil {
		t.Fatal(err)
	}
	conn.Site = front.URL
	if err := r.store.SetConnection("test", conn); err != nil {
		t.Fatal(err)
	}
	r.eng.Reconnect()
	for i, a := range ags {
		r.workspace(fmt.Sprintf("ws%d", i), a[1].(string), a[0].(int), 0)
		r.want(fmt.Sprintf("ws%d", i), "users", 6)
	}
	p := r.sync()
	if row := rowOf(p, "ws1", "users"); row.Done != DoneFailed || !strings.Contains(row.Error, "closed for additions") {
		t.Errorf("ws1: %+v", row)
	}
	for _, ws := range []string{"ws0", "ws2"} {
		if row := rowOf(p, ws, "users"); row.Done != DoneCreated {
			t.Errorf("%s: %+v", ws, row)
		}
	}
	userID, _ := r.item("SEC-USER")
	if _, err := r.store.AdditionCreate(ags[1][0].(int), userID); err == nil {
		t.Error("a refused create left its marker")
	}
}

// The background loop syncs shortly after usage arrives and after a
// workspace's max_users changes (a seat-based product), with no call from
// outside.
func TestBillingLoopFollowsUsageAndSeats(t *testing.T) {
	seats := "\n[[products]]\nkey = \"backup\"\ncw_identifier = \"BACKUP-1TB\"\nseat_based = true\n"
	r := newBillRig(t, cwsim.Options{}, seats, func(o *Options) { o.BillingDebounce = 20 * time.Millisecond })
	ag := r.agreements(1)[0]
	agID := ag[0].(int)
	r.workspace("ws", ag[1].(string), agID, 12)
	r.want("ws", "users", 8)
	backupID, _ := r.item("BACKUP-1TB")
	r.waitFor(20*time.Second, "the first sync", func() bool {
		userID, _ := r.item("SEC-USER")
		u, b := r.active(agID, userID), r.active(agID, backupID)
		return userID > 0 && len(u) == 1 && u[0] == 8 && len(b) == 1 && b[0] == 12
	})
	r.workspace("ws", ag[1].(string), agID, 15)
	r.want("ws", "users", 9)
	r.waitFor(20*time.Second, "the sync after the changes", func() bool {
		userID, _ := r.item("SEC-USER")
		u, b := r.active(agID, userID), r.active(agID, backupID)
		return len(u) == 1 && u[0] == 9 && len(b) == 1 && b[0] == 15
	})
}

// A plan before any sync shows the catalog item to create as a pending
// create, not an error, and changes nothing.
func TestBillingPlanBeforeFirstSync(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ag := r.agreements(1)[0]
	r.workspace("ws", ag[1].(string), ag[0].(int), 0)
	r.want("ws", "users", 3)
	p, err := r.eng.BillingPlan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	row := rowOf(p, "ws", "users")
	if row.Action != BillCreate || row.ItemID != 0 || !strings.Contains(row.Change(), "create catalog item SEC-USER") || p.Errors != 0 {
		t.Errorf("row %+v", row)
	}
	if _, n := r.item("SEC-USER"); n != 0 || r.writes() != 0 {
		t.Errorf("the plan wrote to ConnectWise")
	}
}

// A crash after ConnectWise committed a create but before cwbridge learned
// it leaves the marker: after the restart the addition is found, not made
// again, and the marker is settled.
func TestBillingCrashAfterCommittedCreate(t *testing.T) {
	r := newBillRig(t, cwsim.Options{}, "", nil)
	ag := r.agreements(1)[0]
	agID := ag[0].(int)
	r.workspace("ws", ag[1].(string), agID, 0)
	r.want("ws", "users", 5)
	r.eng.EnsureCatalogItems(context.Background())
	userID, _ := r.item("SEC-USER")
	r.loseAnswers("POST", "/additions")
	p := r.sync()
	if row := rowOf(p, "ws", "users"); row.Done != DoneUnknown {
		t.Fatalf("lost create: %+v", row)
	}
	r.loseAnswers("", "")
	r.restart(nil)
	p = r.sync()
	if row := rowOf(p, "ws", "users"); row.Action != BillInStep || row.Done != "" {
		t.Errorf("after the restart: %+v", row)
	}
	if got := r.active(agID, userID); len(got) != 1 || got[0] != 5 {
		t.Errorf("additions %v", got)
	}
	if _, err := r.store.AdditionCreate(agID, userID); err == nil {
		t.Error("the marker was not settled")
	}
}
