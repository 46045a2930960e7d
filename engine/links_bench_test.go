package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// linkFleet is a rig with 50 workspaces, each bound to a seeded company,
// and for each the emails of its active contacts and the names of its
// configurations (some names repeat within a company, as in real data).
type linkFleet struct {
	*rig
	workspaces []string
	users      map[string][]string
	devices    map[string][]string
}

func newLinkFleet(tb testing.TB) *linkFleet {
	simOpts := cwsim.Options{Companies: 60}
	probe := cwsim.New(simOpts) // same seed, same data: to name the companies
	f := &linkFleet{users: map[string][]string{}, devices: map[string][]string{}}
	var toml strings.Builder
	byIdent := map[string]string{}
	for _, c := range probe.Records("companies") {
		ident, _ := c["identifier"].(string)
		if del, _ := c["deletedFlag"].(bool); del || ident == "Catchall" || len(f.workspaces) == 50 {
			continue
		}
		ws := fmt.Sprintf("ws%02d", len(f.workspaces))
		f.workspaces = append(f.workspaces, ws)
		byIdent[ident] = ws
		fmt.Fprintf(&toml, "\n[[workspaces]]\nkey = %q\ncw_company = %q\n", ws, ident)
	}
	for _, c := range probe.Records("contacts") {
		ws := byIdent[c["company"].(map[string]any)["identifier"].(string)]
		if inactive, _ := c["inactiveFlag"].(bool); ws == "" || inactive {
			continue
		}
		for _, it := range c["communicationItems"].([]any) {
			if m := it.(map[string]any); m["communicationType"] == "Email" {
				f.users[ws] = append(f.users[ws], m["value"].(string))
			}
		}
	}
	for _, c := range probe.Records("configurations") {
		ws := byIdent[c["company"].(map[string]any)["identifier"].(string)]
		if active, _ := c["activeFlag"].(bool); ws != "" && active {
			f.devices[ws] = append(f.devices[ws], c["name"].(string))
		}
	}
	f.rig = newRig(tb, simOpts, fastTOML+`
[[routes]]
alert_type = "threat"
board = "Security"
status = "New"
`+toml.String(), nil)
	return f
}

// incident i: a workspace in turn, one of its contacts; withDevice adds one
// of its configurations' names.
func (f *linkFleet) incident(i int, withDevice bool) storage.Incident {
	ws := f.workspaces[i%len(f.workspaces)]
	n := i / len(f.workspaces)
	in := storage.Incident{ID: fmt.Sprintf("f%06d", i), Type: "threat", Company: ws, Title: fmt.Sprintf("Malware %d", i),
		Severity: "high", Key: fmt.Sprintf("fk%06d", i), Status: "firing", User: f.users[ws][n%len(f.users[ws])]}
	if withDevice {
		in.Device = f.devices[ws][n%len(f.devices[ws])]
	}
	return in
}

// run submits incidents from..to and waits until they are ticketed and
// their links settled (the outbox empty).
func (f *linkFleet) run(from, to int, withDevice bool) {
	var ids []string
	var incs []storage.Incident
	for i := from; i < to; i++ {
		in := f.incident(i, withDevice)
		incs = append(incs, in)
		ids = append(ids, in.ID)
	}
	f.submit(incs...)
	f.waitSettled(5*time.Minute, ids...)
	f.waitFor(5*time.Minute, "links settled", func() bool { return f.store.QueueLen() == 0 })
}

// callsSince splits the simulator's requests since before: all, the
// directory reads, and the configuration attaches.
func (f *linkFleet) callsSince(before cwsim.Stats) (all, lookups, attaches int64) {
	now := f.sim.Stats()
	all = now.Requests - before.Requests
	for _, r := range []string{getContacts, getConfigs} {
		lookups += now.ByRoute[r] - before.ByRoute[r]
	}
	attaches = now.ByRoute["POST service/tickets/{id}/configurations"] - before.ByRoute["POST service/tickets/{id}/configurations"]
	return all, lookups, attaches
}

// TestLinkCallsPerTicket: at steady state over 50 companies (each
// company's contacts and configurations read once), a linked ticket costs
// its create and nothing more for lookups; a configuration found adds the
// attach, which ConnectWise offers only as its own call.
func TestLinkCallsPerTicket(t *testing.T) {
	if testing.Short() {
		t.Skip("50 companies")
	}
	f := newLinkFleet(t)
	f.run(0, 50, true) // warm: one ticket per company reads its directories
	before := f.sim.Stats()
	f.run(50, 150, false)
	all, lookups, _ := f.callsSince(before)
	if per := float64(all) / 100; lookups != 0 || per > 1.2 {
		t.Fatalf("contact only: %.2f calls per ticket (%d lookups), want ≤ 1.2 and no lookup", per, lookups)
	}
	before = f.sim.Stats()
	f.run(150, 250, true)
	all, lookups, attaches := f.callsSince(before)
	if per := float64(all-attaches) / 100; lookups != 0 || per > 1.2 {
		t.Fatalf("with devices: %.2f calls per ticket besides %d attaches (%d lookups)", per, attaches, lookups)
	}
}

// BenchmarkLinkedTicketCalls reports ConnectWise calls per ticket with
// linking on, at steady state over 50 companies: calls/ticket (all, with
// a device named on every incident), lookups/ticket, attaches/ticket.
// One iteration is 100 tickets after a warm-up of one per company.
func BenchmarkLinkedTicketCalls(b *testing.B) {
	f := newLinkFleet(b)
	f.run(0, 50, true)
	before := f.sim.Stats()
	b.ResetTimer()
	next := 50
	for range b.N {
		f.run(next, next+100, true)
		next += 100
	}
	b.StopTimer()
	all, lookups, attaches := f.callsSince(before)
	tickets := float64(100 * b.N)
	b.ReportMetric(float64(all)/tickets, "calls/ticket")
	b.ReportMetric(float64(all-attaches)/tickets, "calls-besides-attach/ticket")
	b.ReportMetric(float64(lookups)/tickets, "lookups/ticket")
	b.ReportMetric(float64(attaches)/tickets, "attaches/ticket")
}
