package tui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// activityStore is a store whose clock the test moves, so the audit log
// holds changes made minutes apart by different technicians.
func activityStore(t testing.TB) (*storage.Store, func(time.Time)) {
	t.Helper()
	var mu sync.Mutex
	now := tu.Clock
	st, err := storage.Open(t.TempDir(), storage.Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	conn := storage.Connection{Site: "na.myconnectwise.net", CompanyID: "contoso", PublicKey: "pubKEY123",
		PrivateKey: storage.NewSecret("PRIVATE-never-shown"), ClientID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", APIVersion: "2025.8"}
	set(tu.Clock.Add(-3 * time.Hour))
	must(st.SetConnection("tui:root", conn))
	must(st.SetOnboarding(storage.Onboarding{Step: "done", VerifiedAt: tu.Clock.Add(-3 * time.Hour)}))
	set(tu.Clock.Add(-2 * time.Hour))
	must(st.PutRoute("ssh:alice@laptop", storage.Route{AlertType: "threat", Enabled: true, Board: storage.Ref{ID: 1, Name: "Security"}, Priority: storage.Ref{ID: 7, Name: "Priority 2 - Quick Response"}}))
	set(tu.Clock.Add(-45 * time.Minute))
	must(st.PutWorkspace("ssh:bob@desk", storage.Workspace{Key: "acme", CWCompany: "ACME", CWCompanyID: 1}))
	set(tu.Clock.Add(-3 * time.Minute))
	must(st.PutRoute("ssh:bob@desk", storage.Route{AlertType: "threat", Enabled: false, Board: storage.Ref{ID: 1, Name: "Security"}, Priority: storage.Ref{ID: 7, Name: "Priority 2 - Quick Response"}}))
	conn.PrivateKey = storage.NewSecret("ROTATED-never-shown")
	set(tu.Clock.Add(-40 * time.Second))
	must(st.SetConnection("ssh:alice@laptop", conn))
	set(tu.Clock)
	return st, set
}

func TestActivityGoldens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			st, _ := activityStore(t)
			a, d := newApp(t, st, w, h, Options{})
			d.Press("6")
			if a.Active() != common.PageActivity {
				t.Fatalf("6 goes to %v", a.Active())
			}
			got := a.Content()
			assertFits(t, got, w, h)
			for _, want := range []string{"40s ago", "ssh:alice@laptop", "settings/connectwise", "private_key", "3m ago", "routes/threat", "enabled", "3h ago", "tui:root"} {
				if !strings.Contains(got, want) {
					t.Errorf("the list lacks %q", want)
				}
			}
			if i, j := strings.Index(got, "40s ago"), strings.Index(got, "3h ago"); i > j {
				t.Error("the list is not newest first")
			}
			tu.Golden(t, fmt.Sprintf("activity_%dx%d", w, h), got)

			d.Press("enter")
			got = a.Content()
			assertFits(t, got, w, h)
			if strings.Contains(got, "PRIVATE-never-shown") || strings.Contains(got, "ROTATED-never-shown") {
				t.Fatal("the details show a private key")
			}
			if !strings.Contains(got, "private_key") || !strings.Contains(ansi.Strip(got), "a secret, replaced") {
				t.Errorf("the details do not say the private key was replaced:\n%s", got)
			}
			tu.Golden(t, fmt.Sprintf("activity_detail_%dx%d", w, h), got)

			// The route change: enabled true → false, named with its technician.
			d.Press("down")
			got = ansi.Strip(a.Content())
			if !strings.Contains(got, "true → false") || !strings.Contains(got, "ssh:bob@desk") {
				t.Errorf("the route change does not say enabled true → false by bob:\n%s", got)
			}
		})
	}
}

func TestActivityFilterByWho(t *testing.T) {
	st, _ := activityStore(t)
	a, d := newApp(t, st, 120, 40, Options{})
	d.Press("6", "/")
	d.Type("bob")
	d.Press("enter")
	got := a.Content()
	if strings.Contains(got, "alice") || strings.Contains(got, "tui:root") {
		t.Errorf("the filter on bob still shows others:\n%s", got)
	}
	if n := strings.Count(got, "ssh:bob@desk"); n != 2 {
		t.Errorf("bob made 2 changes, the list shows %d:\n%s", n, got)
	}
	if !strings.Contains(got, "2 of 5 changes") {
		t.Errorf("the filter line does not count 2 of 5:\n%s", got)
	}
	d.Press("/", "esc")
	if got := a.Content(); !strings.Contains(got, "5 of 5 changes") {
		t.Errorf("esc does not clear the filter:\n%s", got)
	}
}

// Another technician's save appears on an open Activity page by itself.
func TestActivityIsLive(t *testing.T) {
	st, _ := activityStore(t)
	a, d := newApp(t, st, 120, 40, Options{})
	d.Press("6")
	if err := st.PutWorkspace("ssh:carol@tablet", storage.Workspace{Key: "northwind", CWCompany: "NORTHWIND", CWCompanyID: 2}); err != nil {
		t.Fatal(err)
	}
	d.WaitFor(func() bool { return strings.Contains(a.Content(), "ssh:carol@tablet") })
	lines := strings.Split(a.Content(), "\n")
	var first string
	for _, l := range lines {
		if strings.Contains(l, " ago") {
			first = l
			break
		}
	}
	if !strings.Contains(first, "ssh:carol@tablet") || !strings.Contains(first, "workspaces/northwind") {
		t.Errorf("the newest change is not on top: %q", first)
	}
}

// A key without a comment is named by its fingerprint: at 80 columns the
// list still fits, and "when" stays whole while who and what give way.
func TestActivityLongNamesAt80(t *testing.T) {
	st, _ := activityStore(t)
	if err := st.PutWorkspace("ssh:SHA256:Xk4p0d8pQ2b7m1YF0aJcW9eLr3sT5uVvNn6oG8hI2jK", storage.Workspace{Key: "a-rather-long-workspace-key-name", CWCompany: "X", CWCompanyID: 3}); err != nil {
		t.Fatal(err)
	}
	a, d := newApp(t, st, 80, 24, Options{})
	d.Press("6")
	got := a.Content()
	assertFits(t, got, 80, 24)
	for _, want := range []string{"40s ago", "45m ago", "ssh:SHA256:Xk4p"} {
		if !strings.Contains(got, want) {
			t.Errorf("the list lacks %q:\n%s", want, got)
		}
	}
	d.Press("enter")
	got = ansi.Strip(a.Content())
	assertFits(t, got, 80, 24)
	if !strings.Contains(got, "ssh:SHA256:Xk4p0d8pQ2b7m1YF0aJcW9eLr3sT5uVvNn6oG8hI2jK") {
		t.Errorf("the details do not name the key whole:\n%s", got)
	}
}
