package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// TestViewerChangesNothing: a viewer's session (role=viewer) sees every
// page, says read-only in the footer, and every save, toggle, retry,
// discard, test ticket and wizard run is refused with a clear message,
// the store unchanged.
func TestViewerChangesNothing(t *testing.T) {
	st := fixture(t)
	be := &tu.Backend{H: fixedHealth()}
	a, d := newApp(t, st, 120, 40, Options{ReadOnly: true, Backend: be})
	if foot := lastLine(a.Content()); !strings.Contains(foot, "read-only") {
		t.Fatalf("footer %q does not say read-only", foot)
	}
	before, _ := st.AuditLog(0)
	for _, tc := range []struct {
		page common.PageID
		keys []string
		what string
	}{
		{common.PageAlerts, []string{"space"}, "switch routes"},
		{common.PageAlerts, []string{"t"}, "send test tickets"},
		{common.PageAlerts, []string{"enter", "ctrl+s"}, "save routes"},
		{common.PageCompanies, []string{"c"}, "create workspaces"},
		{common.PageHealth, []string{"R"}, "retry failed items"},
		{common.PageSetup, []string{"w"}, "run the setup wizard"},
	} {
		a.switchTo(tc.page)
		d.Press(tc.keys...)
		if foot := ansi.Strip(lastLine(a.Content())); !strings.Contains(foot, "read-only: a viewer cannot "+tc.what) {
			t.Errorf("%v %v: footer %q", tc.page, tc.keys, foot)
		}
		d.Press("esc")
	}
	after, _ := st.AuditLog(0)
	if len(after) != len(before) || len(be.Tests) != 0 {
		t.Fatalf("a viewer changed something: %d audit entries (was %d), test tickets %v", len(after), len(before), be.Tests)
	}
}

// TestViewerNeverLandsInTheWizard: before setup is finished, a viewer
// opens on the Feed, and the Setup page says to ask an admin.
func TestViewerNeverLandsInTheWizard(t *testing.T) {
	st := tu.Store(t)
	a, d := newApp(t, st, 120, 40, Options{ReadOnly: true})
	if a.Active() == common.PageSetup {
		t.Fatal("a viewer opened on the wizard")
	}
	d.Press("1")
	if c := a.Content(); !strings.Contains(c, "Setup not finished — ask an admin") || strings.Contains(c, "Site") {
		t.Fatalf("Setup page for a viewer:\n%s", c)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
