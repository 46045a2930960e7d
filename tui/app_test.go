package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// fixture is a set-up store with fixed data for screen goldens; nothing
// in it reaches the network (lookups are cached, the cache is fresh).
func fixture(t testing.TB) *storage.Store {
	t.Helper()
	st := tu.Store(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetConnection("t", storage.Connection{Site: "na.myconnectwise.net", CompanyID: "contoso", PublicKey: "pubKEY123",
		PrivateKey: storage.NewSecret("PRIVATE-never-shown"), ClientID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", APIVersion: "2025.8"}))
	must(st.SetOnboarding(storage.Onboarding{Step: "done", VerifiedAt: tu.Clock.Add(-2 * time.Hour)}))
	must(st.SetAgreementType("t", storage.AgreementType{ID: 12, Name: "Managed Services"}))
	must(st.PutProductMapping("t", storage.ProductMapping{Key: "users", CreateNew: &storage.NewCatalogItem{Identifier: "SEC-USER", Description: "Security seat (per user)"}}))
	cos := tu.Companies(60)
	must(st.ReplaceCompanies(cos, tu.Clock))
	must(st.PutWorkspace("t", storage.Workspace{Key: "acme", CWCompany: cos[0].Identifier, CWCompanyID: cos[0].ID, AgreementID: 1001, PreferredServer: "us-west", MaxUsers: 50}))
	must(st.PutWorkspace("t", storage.Workspace{Key: "northwind", CWCompany: cos[1].Identifier, CWCompanyID: cos[1].ID}))
	must(st.PutLookup(storage.LookupTable{Kind: storage.LookupBoards, FetchedAt: tu.Clock, Items: []storage.LookupItem{{ID: 1, Name: "Security"}, {ID: 2, Name: "Help Desk"}}}))
	must(st.PutLookup(storage.LookupTable{Kind: storage.LookupPriorities, FetchedAt: tu.Clock, Items: []storage.LookupItem{{ID: 7, Name: "Priority 2 - Quick Response"}}}))
	for _, k := range []storage.LookupKind{storage.LookupStatuses, storage.LookupTypes, storage.LookupSubtypes} {
		must(st.PutLookup(storage.LookupTable{Kind: k, BoardID: 1, FetchedAt: tu.Clock, Items: []storage.LookupItem{{ID: 101, Name: "New"}, {ID: 105, Name: "Closed", Closed: true}}}))
	}
	must(st.PutRoute("t", storage.Route{AlertType: "threat", Enabled: true, Board: storage.Ref{ID: 1, Name: "Security"}, Status: storage.Ref{ID: 101, Name: "New"},
		Priority: storage.Ref{ID: 7, Name: "Priority 2 - Quick Response"}, Type: storage.Ref{Name: "Incident"}, ClosedStatus: storage.Ref{ID: 105, Name: "Closed"}}))
	must(st.PutRoute("t", storage.Route{AlertType: "phishing", Board: storage.Ref{ID: 1, Name: "Security"}, Status: storage.Ref{ID: 101, Name: "New"}}))
	kinds := []storage.FeedKind{storage.FeedCreated, storage.FeedNoted, storage.FeedNoted, storage.FeedClosed, storage.FeedFailed}
	for i := range 30 {
		ev := storage.FeedEvent{Time: tu.Clock.Add(time.Duration(i-30) * time.Minute), Kind: kinds[i%5], Company: []string{"acme", "northwind"}[i%2],
			Severity: []string{"low", "medium", "high", "critical"}[i%4], Key: fmt.Sprintf("k%d", i/5), TicketID: 250001 + i/5,
			Message: fmt.Sprintf("Malware quarantined on LAPTOP-%02d", i/5)}
		_, err := st.AppendFeed(ev)
		must(err)
	}
	for i := range 2 {
		seq, err := st.Enqueue(storage.OutboxIncident, fmt.Sprintf("inc-%d", i))
		must(err)
		must(st.MoveToFailed(seq, "ConnectWise validation failed: board Security has no status \"Nu\""))
	}
	return st
}

func fixedHealth() common.Health {
	return common.Health{ConnectWise: "ok", Queue: 3, Failed: 2, Retries: 14, LastError: "rate limited (HTTP 429)",
		LastErrorAt: tu.Clock.Add(-5 * time.Minute), CompanyErrors: map[string]string{"northwind": "company NORTHWIND not found"}}
}

func newApp(t testing.TB, st *storage.Store, w, h int, o Options) (*App, *tu.Driver) {
	t.Helper()
	o.Store, o.Now, o.NoTicks, o.Version = st, tu.Now, true, "test"
	if o.NewClient == nil { // goldens never reach a network
		o.NewClient = func(storage.Connection) (*cwclient.Client, error) {
			return nil, errors.New("ConnectWise is offline in this test")
		}
	}
	if o.Backend == nil {
		o.Backend = &tu.Backend{H: fixedHealth()}
	}
	a := New(context.Background(), o)
	d := &tu.Driver{T: t, Update: func(m tea.Msg) tea.Cmd { _, c := a.Update(m); return c }}
	d.Send(tea.WindowSizeMsg{Width: w, Height: h})
	d.Run(a.Init())
	// The engine's first health report comes through a wait the driver
	// does not finish on its own: without it a header could show "…".
	d.WaitFor(func() bool { return a.haveHealth })
	return a, d
}

func TestPageGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			a, d := newApp(t, fixture(t), w, h, Options{})
			if a.Active() != common.PageFeed {
				t.Fatalf("a set-up store opens on %v, want Feed", a.Active())
			}
			for i, name := range []string{"setup", "companies", "alerts", "feed", "health"} {
				d.Press(fmt.Sprint(i + 1))
				got := a.Content()
				assertFits(t, got, w, h)
				if strings.Contains(got, "PRIVATE-never-shown") {
					t.Fatalf("%s shows the private key", name)
				}
				tu.Golden(t, fmt.Sprintf("%s_%dx%d", name, w, h), got)
			}
			d.Press("4", "enter")
			tu.Golden(t, fmt.Sprintf("feed_detail_%dx%d", w, h), a.Content())
			d.Press("esc", "?")
			tu.Golden(t, fmt.Sprintf("help_%dx%d", w, h), a.Content())
		})
	}
}

func TestWizardGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		st := tu.Store(t)
		pre := &storage.Connection{Site: "http://127.0.0.1:8089", CompanyID: "cwbridge", PublicKey: "pubKEY123", PrivateKey: storage.NewSecret("PRIVATE-never-shown"), ClientID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}
		a, _ := newApp(t, st, w, h, Options{Prefill: pre, Banner: "Demo: the simulator's credentials are filled in."})
		if a.Active() != common.PageSetup {
			t.Fatalf("first run opens on %v", a.Active())
		}
		got := a.Content()
		assertFits(t, got, w, h)
		if strings.Contains(got, "PRIVATE-never-shown") {
			t.Fatal("wizard shows the private key")
		}
		tu.Golden(t, fmt.Sprintf("wizard_credentials_%dx%d", w, h), got)
	}
}

// assertFits checks the screen is exactly h lines of at most w cells.
func assertFits(t testing.TB, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n > w {
			t.Errorf("line %d is %d cells wide, want ≤ %d: %q", i, n, w, l)
		}
	}
}

func TestQuitKeys(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 24, Options{})
	d.Press("q")
	if !d.Quit {
		t.Fatal("q did not quit")
	}
	_ = a
}

func TestQuitAsksWhenDirty(t *testing.T) {
	a, d := newApp(t, fixture(t), 80, 24, Options{})
	d.Press("2", "c") // workspace form
	d.Type("x")       // edits the key field
	if !a.Dirty() {
		t.Fatal("form not dirty")
	}
	d.Press("ctrl+c")
	if d.Quit || !strings.Contains(a.Content(), "Quit anyway? y/N") {
		t.Fatalf("want a confirm, quit=%v\n%s", d.Quit, a.Content())
	}
	d.Press("n")
	if d.Quit {
		t.Fatal("n quit")
	}
	d.Press("ctrl+c", "y")
	if !d.Quit {
		t.Fatal("y did not quit")
	}
}

func TestTypingQInAFieldDoesNotQuit(t *testing.T) {
	a, d := newApp(t, tu.Store(t), 80, 24, Options{})
	d.Type("q?1")
	if d.Quit || a.Active() != common.PageSetup || !strings.Contains(a.Content(), "q?1") {
		t.Fatalf("keys did not reach the site field: quit=%v page=%v\n%s", d.Quit, a.Active(), a.Content())
	}
}

func TestTabsAndHeader(t *testing.T) {
	be := &tu.Backend{H: common.Health{ConnectWise: "unauthorized", Queue: 42, Paused: true}}
	a, d := newApp(t, fixture(t), 100, 30, Options{Backend: be})
	c := a.Content()
	if !strings.Contains(c, "✗ unauthorized") || !strings.Contains(c, "queue 42") || !strings.Contains(c, "paused") {
		t.Fatalf("header:\n%s", strings.SplitN(c, "\n", 2)[0])
	}
	d.Press("tab")
	if a.Active() != common.PageHealth {
		t.Fatalf("tab from Feed went to %v", a.Active())
	}
	d.Press("tab", "tab")
	if a.Active() != common.PageSetup {
		t.Fatalf("tab wraps to %v", a.Active())
	}
	d.Press("shift+tab")
	if a.Active() != common.PageActivity {
		t.Fatalf("shift+tab went to %v", a.Active())
	}
}

// Small terminals: every page, with and without the full help, still fits
// the screen exactly (and nothing panics on a short list).
func TestSmallTerminals(t *testing.T) {
	for _, size := range [][2]int{{40, 10}, {80, 8}, {20, 5}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			a, d := newApp(t, fixture(t), w, h, Options{})
			for i := range common.NumPages {
				d.Press(fmt.Sprint(int(i)+1), "end", "pgdown", "home")
				assertFits(t, a.Content(), w, h)
				d.Press("?")
				assertFits(t, a.Content(), w, h)
				d.Press("?")
			}
			a, _ = newApp(t, tu.Store(t), w, h, Options{}) // the wizard
			assertFits(t, a.Content(), w, h)
		})
	}
}

// TestHeaderSaysWhyConnectWiseIsNotOK: degraded shows its error rate and
// throttled when it ends, in the header every page shows.
func TestHeaderSaysWhyConnectWiseIsNotOK(t *testing.T) {
	for _, tc := range []struct {
		h    common.Health
		want string
	}{
		{common.Health{ConnectWise: "degraded", ErrorRate: 0.4, Paused: true}, "degraded (40% errors)"},
		{common.Health{ConnectWise: "throttled", ThrottledUntil: tu.Clock.Add(90 * time.Second), Paused: true},
			"throttled until " + tu.Clock.Add(90*time.Second).Format("15:04:05")},
		{common.Health{ConnectWise: "unreachable", Paused: true}, "✗ unreachable"},
	} {
		a, _ := newApp(t, fixture(t), 120, 40, Options{Backend: &tu.Backend{H: tc.h}})
		if head := strings.SplitN(a.Content(), "\n", 2)[0]; !strings.Contains(head, tc.want) {
			t.Errorf("header %q, want %q", head, tc.want)
		}
	}
}
