package activity

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// On a quiet system the page still redraws, so "ago" stays true: its
// timer re-arms itself, and the next frame counts from the clock.
func TestAgoKeepsCounting(t *testing.T) {
	st := tu.Store(t)
	if err := st.PutWorkspace("ssh:ann", storage.Workspace{Key: "acme", CWCompany: "ACME", CWCompanyID: 1}); err != nil {
		t.Fatal(err)
	}
	c := tu.Common(st, &tu.Backend{})
	now := tu.Clock.Add(3 * time.Minute)
	c.Now = func() time.Time { return now }
	m := New(c)
	m.SetSize(100, 20)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Run(m.load())
	if got := ansi.Strip(m.View()); !strings.Contains(got, "3m ago") {
		t.Fatalf("want 3m ago:\n%s", got)
	}
	c.NoTicks = false
	if m.agoTick() == nil || m.Update(agoMsg{}) == nil {
		t.Fatal("the page has no timer to redraw \"ago\" by")
	}
	now = now.Add(5 * time.Minute)
	if got := ansi.Strip(m.View()); !strings.Contains(got, "8m ago") {
		t.Fatalf("want 8m ago:\n%s", got)
	}
}
