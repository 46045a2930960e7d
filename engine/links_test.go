package engine

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// The first seeded client, with fixed contacts and configurations (see
// cwsim's seedDirectory): Ann Smith, two Chris Lee, PC-7, two KIOSK-1;
// and the threat route, which links (the default).
const acmeTOML = `
[[routes]]
alert_type = "threat"
board = "Security"
status = "New"
closed_status = "Closed"

[[workspaces]]
key = "acme"
cw_company = "AcmeDentalGroup"
`

const annEmail = "ann.smith@acmedentalgroup.example"

func linkInc(id, user, device string) storage.Incident {
	return storage.Incident{ID: id, Type: "threat", Company: "acme", Title: "Malware " + id, Severity: "high",
		Key: "k-" + id, Status: "firing", User: user, Device: device}
}

// links waits until the incident's ticket has its link outcome settled.
func (r *rig) links(id string) (storage.IncidentKey, map[string]any) {
	r.t.Helper()
	inc := r.waitSettled(10*time.Second, id)[id]
	if inc.State != storage.StateTicketed {
		r.t.Fatalf("%s: %+v", id, inc)
	}
	key := scopedKey("acme", "k-"+id)
	var k storage.IncidentKey
	r.waitFor(10*time.Second, id+"'s links settled", func() bool {
		var err error
		k, err = r.store.IncidentKey(key)
		return err == nil && (k.Links == nil || !k.Links.Pending)
	})
	for _, t := range r.sim.Records("tickets") {
		if num(t["id"]) == k.TicketID {
			return k, t
		}
	}
	r.t.Fatalf("ticket %d not in the simulator", k.TicketID)
	return k, nil
}

// simID finds the id of the simulator record of coll whose field is v
// (in the first client company).
func (r *rig) simID(coll, field, v string) int {
	r.t.Helper()
	for _, rec := range r.sim.Records(coll) {
		if co, _ := rec["company"].(map[string]any); co["identifier"] == "AcmeDentalGroup" && rec[field] == v {
			return num(rec["id"])
		}
	}
	r.t.Fatalf("no %s with %s %q", coll, field, v)
	return 0
}

// attached lists the configuration ids on a ticket (the simulator's
// ticket configurations, by their parent ticket).
func (r *rig) attached(ticketID int) []int {
	r.t.Helper()
	got, err := r.eng.Client().TicketConfigurations(context.Background(), ticketID)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []int
	for _, c := range got {
		out = append(out, c.ID)
	}
	return out
}

func (r *rig) routeCount(route string) int64 { return r.sim.Stats().ByRoute[route] }

const (
	getContacts = "GET company/contacts"
	getConfigs  = "GET company/configurations"
)

func TestLinksContactAndConfiguration(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, nil)
	ann := r.simID("contacts", "firstName", "Ann")
	pc7 := r.simID("configurations", "name", "PC-7")

	// Cold: the create goes out at once; a link item sets the contact
	// (with the email switch off) and attaches PC-7 after the lookups.
	r.submit(linkInc("a1", annEmail, "pc-7"))
	k, tk := r.links("a1")
	if c, _ := tk["contact"].(map[string]any); num(c["id"]) != ann || tk["automaticEmailContactFlag"] != false {
		t.Fatalf("a1 ticket: contact %v, automaticEmailContactFlag %v", tk["contact"], tk["automaticEmailContactFlag"])
	}
	if got := r.attached(k.TicketID); len(got) != 1 || got[0] != pc7 {
		t.Fatalf("a1 configurations: %v, want [%d]", got, pc7)
	}
	if l := k.Links; l.Contact != "contact linked: Ann Smith" || l.ContactID != ann || l.Configuration != "configuration attached: PC-7" {
		t.Fatalf("a1 outcome: %+v", l)
	}

	// Warm: the contact (by name) rides on the create; PC-7 by its device
	// identifier is attached after it.
	creates := r.routeCount("POST service/tickets")
	patches := r.routeCount("PATCH service/tickets/{id}")
	r.submit(linkInc("a2", "ann  SMITH", "9F1C2A7E-7B1D-4C55-A0E4-1D2E3F4A5B6C"))
	k, tk = r.links("a2")
	if c, _ := tk["contact"].(map[string]any); num(c["id"]) != ann || tk["automaticEmailContactFlag"] != false {
		t.Fatalf("a2 ticket: %v", tk)
	}
	if got := r.attached(k.TicketID); len(got) != 1 || got[0] != pc7 {
		t.Fatalf("a2 configurations: %v", got)
	}
	if d := r.routeCount("POST service/tickets") - creates; d != 1 {
		t.Fatalf("a2 took %d creates", d)
	}
	if d := r.routeCount("PATCH service/tickets/{id}") - patches; d != 0 {
		t.Fatalf("a2's cached contact was patched on (%d PATCH), not carried by the create", d)
	}

	// Several matches: none linked, and said so.
	r.submit(linkInc("a3", "Chris Lee", "KIOSK-1"))
	k, tk = r.links("a3")
	if tk["contact"] != nil || len(r.attached(k.TicketID)) != 0 {
		t.Fatalf("a3 linked: contact %v, configurations %v", tk["contact"], r.attached(k.TicketID))
	}
	if l := k.Links; l.Contact != "2 contacts match Chris Lee: none linked" || l.Configuration != "2 configurations named KIOSK-1: none attached" {
		t.Fatalf("a3 outcome: %+v", l)
	}

	// One lookup of each kind for the company, however many tickets.
	if c, g := r.routeCount(getContacts), r.routeCount(getConfigs); c != 1 || g != 1 {
		t.Fatalf("lookups: %d contacts, %d configurations; want 1 each (cached per company)", c, g)
	}
}

// TestLinksNothingMatches: the ticket is created as without linking, and
// the outcome says why; switched off, nothing is looked up at all.
func TestLinksNothingMatches(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML+`
[[routes]]
alert_type = "dns_block"
board = "Security"
link_contact = false
link_configuration = false
`, nil)
	r.submit(linkInc("n1", "nobody@nowhere.example", "NOPE-1"))
	k, tk := r.links("n1")
	if tk["contact"] != nil || tk["contactName"] != nil || len(r.attached(k.TicketID)) != 0 {
		t.Fatalf("n1 ticket changed: %v", tk)
	}
	if l := k.Links; l == nil || l.Contact != "no contact matched" || l.Configuration != "no configuration matched" {
		t.Fatalf("n1 outcome: %+v", k.Links)
	}

	before := r.sim.Stats().Requests
	off := linkInc("n2", annEmail, "PC-7")
	off.Type = "dns_block"
	r.submit(off)
	k, tk = r.links("n2")
	if tk["contact"] != nil || len(r.attached(k.TicketID)) != 0 || k.Links != nil {
		t.Fatalf("switched off, yet linked: %v %+v", tk["contact"], k.Links)
	}
	// n1 read each directory once; n2 reads nothing and attaches nothing
	// (the test itself lists the ticket's configurations).
	st := r.sim.Stats().ByRoute
	if st[getContacts] != 1 || st[getConfigs] != 1 || st["POST service/tickets/{id}/configurations"] != 0 {
		t.Fatalf("switched off, yet looked up or attached: %v", st)
	}
	if r.sim.Stats().Requests == before {
		t.Fatal("no request at all for n2")
	}
}

// TestLinkLookupNeverHoldsUpTheCreate: while the lookups hang, the ticket
// is created; when they come back, it is linked. A refused lookup (no
// permission for contacts) fails nothing and pauses nothing.
func TestLinkLookupNeverHoldsUpTheCreate(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, nil)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the rig halts (cleanups run last-in first)
	var held atomic.Int32
	hold := func(req *http.Request) {
		if strings.Contains(req.URL.Path, "/company/contacts") || strings.Contains(req.URL.Path, "/company/configurations") {
			held.Add(1)
			<-release
		}
	}
	r.seen.Store(&hold)

	r.submit(linkInc("s1", annEmail, "PC-7"))
	if got := r.waitSettled(10*time.Second, "s1")["s1"]; got.State != storage.StateTicketed {
		t.Fatalf("s1 while the lookups hang: %+v", got)
	}
	if held.Load() == 0 {
		t.Fatal("no lookup was in flight: the test proves nothing")
	}
	k, err := r.store.IncidentKey(scopedKey("acme", "k-s1"))
	if err != nil || k.Links == nil || !k.Links.Pending {
		t.Fatalf("s1 links before the lookups answered: %+v %v", k.Links, err)
	}
	free()
	k, tk := r.links("s1")
	if c, _ := tk["contact"].(map[string]any); c == nil || k.Links.Configuration != "configuration attached: PC-7" {
		t.Fatalf("s1 after the lookups: %v %+v", tk["contact"], k.Links)
	}

	// Refused: 403 on contacts.
	r2 := newRig(t, cwsim.Options{}, acmeTOML, nil)
	r2.sim.SetSecurity(cwsim.FuncContacts, cwsim.None, cwsim.None, cwsim.None, cwsim.None)
	r2.submit(linkInc("f1", annEmail, "PC-7"))
	k, tk = r2.links("f1")
	if tk["contact"] != nil || !strings.HasPrefix(k.Links.Contact, "contact lookup failed: ") {
		t.Fatalf("f1: contact %v, outcome %+v", tk["contact"], k.Links)
	}
	if k.Links.Configuration != "configuration attached: PC-7" {
		t.Fatalf("f1 configuration: %+v", k.Links)
	}
	if h := r2.eng.Health(); h.Paused {
		t.Fatalf("a refused lookup paused forwarding: %+v", h)
	}
	r2.submit(linkInc("f2", annEmail, ""))
	if got := r2.waitSettled(10*time.Second, "f2")["f2"]; got.State != storage.StateTicketed {
		t.Fatalf("f2 after a refused lookup: %+v", got)
	}
}

// TestLinkRefreshOnMiss: a contact made after the company was read is
// found once the directory is old enough to be read again, not before.
func TestLinkRefreshOnMiss(t *testing.T) {
	var clock atomic.Int64
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Duration(clock.Load())) }
	r := newRig(t, cwsim.Options{}, acmeTOML, func(o *Options) { o.Now, o.LinkRefresh = now, 5*time.Minute })
	const zed = "zed.new@acmedentalgroup.example"
	r.submit(linkInc("m1", zed, ""))
	if k, _ := r.links("m1"); k.Links.Contact != "no contact matched" {
		t.Fatalf("m1: %+v", k.Links)
	}
	id := r.sim.AddContact("AcmeDentalGroup", "Zed", "New", zed)

	clock.Add(int64(time.Minute))
	r.submit(linkInc("m2", zed, ""))
	if k, _ := r.links("m2"); k.Links.Contact != "no contact matched" {
		t.Fatalf("m2, a minute later: %+v", k.Links)
	}
	if n := r.routeCount(getContacts); n != 1 {
		t.Fatalf("contacts read %d times within the refresh window", n)
	}

	clock.Add(int64(5 * time.Minute))
	r.submit(linkInc("m3", zed, ""))
	k, tk := r.links("m3")
	if c, _ := tk["contact"].(map[string]any); num(c["id"]) != id || k.Links.Contact != "contact linked: Zed New" {
		t.Fatalf("m3, after the refresh: %v %+v", tk["contact"], k.Links)
	}
	if n := r.routeCount(getContacts); n != 2 {
		t.Fatalf("contacts read %d times, want 2", n)
	}
}

// TestTicketURL: the engine names a ticket's web page on the configured site.
func TestTicketURL(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	u := r.eng.TicketURL(250123)
	if !strings.HasPrefix(u, r.srv.URL+"/") || !strings.Contains(u, "ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=250123&companyName=") {
		t.Fatalf("TicketURL = %q", u)
	}
}

// TestLinkCacheForgottenOnReconnect: new credentials may mean another
// ConnectWise; its contacts are read afresh.
func TestLinkCacheForgottenOnReconnect(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, nil)
	r.submit(linkInc("c1", annEmail, ""))
	r.links("c1")
	r.eng.Reconnect()
	r.submit(linkInc("c2", annEmail, ""))
	if k, _ := r.links("c2"); k.Links.Contact != "contact linked: Ann Smith" {
		t.Fatalf("c2: %+v", k.Links)
	}
	if n := r.routeCount(getContacts); n != 2 {
		t.Fatalf("contacts read %d times, want 2 (once per connection)", n)
	}
}

// TestLinkedTicketCost: with the company cached, a linked ticket costs the
// store what any ticket does: the outcome rides on the create's commit.
func TestLinkedTicketCost(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, nil)
	r.submit(linkInc("w1", annEmail, "NOPE-1"))
	r.links("w1")
	r.waitFor(10*time.Second, "the warm-up drained", func() bool { return r.store.QueueLen() == 0 })
	r.halt()
	r.start()
	before := r.store.Stats().WriteTxs
	r.submit(linkInc("w2", annEmail, "NOPE-2"))
	k, tk := r.links("w2")
	r.halt()
	if c, _ := tk["contact"].(map[string]any); c == nil || k.Links.Configuration != "no configuration matched" {
		t.Fatalf("w2: %v %+v", tk["contact"], k.Links)
	}
	if got := r.store.Stats().WriteTxs - before; got != 3 {
		t.Fatalf("a linked ticket took %d write transactions, want 3 (enqueue, marker, outcome+links+ack)", got)
	}
}

// TestLinkBigCompanySearched: past LinkDirectoryMax contacts a company is
// searched per user, by email through childConditions, else by name.
func TestLinkBigCompanySearched(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, func(o *Options) { o.LinkDirectoryMax = 3 })
	ann := r.simID("contacts", "firstName", "Ann") // seeded after more than 3 others
	r.submit(linkInc("b1", annEmail, ""))
	k, tk := r.links("b1")
	if c, _ := tk["contact"].(map[string]any); num(c["id"]) != ann || k.Links.Contact != "contact linked: Ann Smith" {
		t.Fatalf("b1: %v %+v", tk["contact"], k.Links)
	}
	r.submit(linkInc("b2", "Ann Smith", ""))
	if k, _ := r.links("b2"); k.Links.ContactID != ann {
		t.Fatalf("b2: %+v", k.Links)
	}
	r.submit(linkInc("b3", "Chris Lee", ""))
	if k, _ := r.links("b3"); k.Links.Contact != "2 contacts match Chris Lee: none linked" {
		t.Fatalf("b3: %+v", k.Links)
	}
	// One directory read (3 kept), then one search per user.
	if n := r.routeCount(getContacts); n != 4 {
		t.Fatalf("contacts read %d times, want 4", n)
	}
}

// TestLinkRefusedContactStillTickets: a cached contact ConnectWise no
// longer takes (deleted since it was read) costs the link, not the ticket.
func TestLinkRefusedContactStillTickets(t *testing.T) {
	r := newRig(t, cwsim.Options{}, acmeTOML, nil)
	r.submit(linkInc("g1", annEmail, ""))
	r.links("g1")
	l := r.eng.links
	l.mu.Lock()
	p := l.partLocked("AcmeDentalGroup", dirContacts)
	p.contacts = []cwclient.Contact{{ID: 999999, FirstName: "Ann", LastName: "Smith",
		CommunicationItems: []cwclient.CommunicationItem{{Value: annEmail, CommunicationType: "Email"}}}}
	l.mu.Unlock()
	r.submit(linkInc("g2", annEmail, ""))
	k, tk := r.links("g2")
	if tk["contact"] != nil || !strings.HasPrefix(k.Links.Contact, "contact not linked: ") || !strings.Contains(k.Links.Contact, "999999") {
		t.Fatalf("g2: contact %v, outcome %+v", tk["contact"], k.Links)
	}
}
