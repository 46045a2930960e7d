package companies

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

func newPage(t testing.TB, st *storage.Store, w, h int) (*Model, *tu.Driver) {
	t.Helper()
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(w, h)
	d := &tu.Driver{T: t, AsRoot: true, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	return m, d
}

func screen(m *Model) string { return ansi.Strip(m.View()) }

func cached(t testing.TB, n int) *storage.Store {
	t.Helper()
	st := tu.Store(t)
	if err := st.ReplaceCompanies(tu.Companies(n), tu.Clock); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFilterSortAndPage(t *testing.T) {
	st := cached(t, 2000)
	m, d := newPage(t, st, 100, 20)
	if m.idx.Len() != 2000 || len(m.shown) != 2000 {
		t.Fatalf("loaded %d, shown %d", m.idx.Len(), len(m.shown))
	}
	d.Press("/")
	if !m.Capturing() {
		t.Fatal("filter must capture keys")
	}
	d.Type("nrthwnd lgs") // fuzzy: letters in order
	if len(m.shown) == 0 {
		t.Fatal("fuzzy filter matched nothing")
	}
	for _, r := range m.shown[:min(5, len(m.shown))] {
		if n := m.idx.Row(r).Name; !strings.HasPrefix(n, "Northwind Logistics") {
			t.Errorf("top match %q, want Northwind Logistics…", n)
		}
	}
	d.Press("esc")
	if len(m.shown) != 2000 || m.Capturing() {
		t.Fatal("esc must clear the filter and release keys")
	}
	d.Press("s", "s") // name → identifier → id
	if m.idx.Sort() != SortID || m.idx.Row(m.shown[0]).ID != 19301 {
		t.Fatalf("sort by id: first %+v", m.idx.Row(m.shown[0]))
	}
	d.Press("home", "pgdown")
	if m.cwTable.Cursor() != m.listHeight() {
		t.Errorf("pgdown moved to %d, want %d", m.cwTable.Cursor(), m.listHeight())
	}
	d.Press("G")
	if !strings.Contains(screen(m), fmt.Sprintf("page %d/%d", (1999)/m.listHeight()+1, (1999)/m.listHeight()+1)) {
		t.Errorf("last page not shown:\n%s", screen(m))
	}
}

func TestNoMatch(t *testing.T) {
	m, d := newPage(t, cached(t, 50), 100, 20)
	d.Press("/")
	d.Type("zzzzqqq")
	if !strings.Contains(screen(m), `nothing matches "zzzzqqq"`) {
		t.Fatalf("want a no-match line:\n%s", screen(m))
	}
}

// TestRefreshFromConnectWise: a stale cache is refreshed in the background
// from ConnectWise, and the list follows the store.
func TestRefreshFromConnectWise(t *testing.T) {
	s := tu.Sim(t, 30)
	st := tu.Store(t)
	tu.Connect(t, st, s)
	m, d := newPage(t, st, 100, 20)
	d.WaitFor(func() bool { return m.idx.Len() > 0 }) // the list follows the store
	if m.idx.Len() != 31 {                            // 30 plus the catch-all
		t.Fatalf("after background refresh: %d companies\n%s", m.idx.Len(), screen(m))
	}
	if !strings.Contains(screen(m), "Acme Dental Group") {
		t.Fatalf("list lacks a simulator company:\n%s", screen(m))
	}
}

func agreementsOf(s interface{ Records(string) []map[string]any }) map[int]int {
	n := map[int]int{}
	for _, a := range s.Records("agreements") {
		co, _ := a["company"].(map[string]any)
		var id int
		switch v := co["id"].(type) {
		case float64:
			id = int(v)
		case int:
			id = v
		}
		if c, ok := a["cancelledFlag"].(bool); ok && c {
			continue
		}
		n[id]++
	}
	return n
}

func selectCompany(t *testing.T, m *Model, d *tu.Driver, name string) {
	t.Helper()
	d.Press("/")
	d.Type(name)
	d.Press("enter")
	if len(m.shown) == 0 || m.idx.Row(m.shown[0]).Name != name {
		t.Fatalf("cannot find %q:\n%s", name, screen(m))
	}
}

func TestCreateWorkspaceWithAgreement(t *testing.T) {
	s := tu.Sim(t, 10)
	st := tu.Store(t)
	tu.Connect(t, st, s)
	m, d := newPage(t, st, 100, 24)
	d.WaitFor(func() bool { return m.idx.Len() > 0 })
	selectCompany(t, m, d, "Acme Dental Group") // the simulator gives it an agreement
	d.Press("c")
	if m.form == nil || len(m.form.agreements) == 0 {
		t.Fatalf("form without agreements:\n%s", screen(m))
	}
	if m.form.key.Value() != "acmedentalgroup" && !strings.HasPrefix(m.form.key.Value(), "acme") {
		t.Errorf("suggested key %q", m.form.key.Value())
	}
	d.Press("down", "enter") // agreement picker
	if m.form.picker == nil {
		t.Fatalf("no agreement picker:\n%s", screen(m))
	}
	d.Press("down", "enter") // first real agreement
	agID := m.form.agreementID
	if agID == 0 {
		t.Fatalf("no agreement chosen:\n%s", screen(m))
	}
	d.Type("us-west")
	d.Press("down")
	d.Type("50")
	d.Press("ctrl+s")
	if m.form != nil {
		t.Fatalf("form still open:\n%s", screen(m))
	}
	ws, err := st.Workspaces()
	if err != nil || len(ws) != 1 {
		t.Fatalf("workspaces %+v %v", ws, err)
	}
	w := ws[0]
	if w.AgreementID != agID || w.PreferredServer != "us-west" || w.MaxUsers != 50 || w.CWCompanyID == 0 || w.CWCompany == "" {
		t.Fatalf("stored %+v", w)
	}
	if !strings.Contains(screen(m), w.Key) {
		t.Errorf("list does not show the workspace:\n%s", screen(m))
	}
}

func TestCreateWorkspaceCompanyWithoutAgreements(t *testing.T) {
	s := tu.Sim(t, 25)
	st := tu.Store(t)
	tu.Connect(t, st, s)
	m, d := newPage(t, st, 100, 24)
	ags := agreementsOf(s)
	name := ""
	for _, r := range m.shown {
		if co := m.idx.Row(r); ags[co.ID] == 0 && !co.Deleted && !strings.ContainsAny(co.Name, `"[%_+&'`) {
			name = co.Name
			break
		}
	}
	if name == "" {
		t.Skip("simulator seeded no company without agreements")
	}
	selectCompany(t, m, d, name)
	d.Press("c")
	if !strings.Contains(screen(m), "has no active agreements") || !strings.Contains(screen(m), "save without one") {
		t.Fatalf("want the no-agreement note:\n%s", screen(m))
	}
	d.Press("ctrl+s")
	ws, _ := st.Workspaces()
	if len(ws) != 1 || ws[0].AgreementID != 0 {
		t.Fatalf("want a workspace without agreement, got %+v", ws)
	}
}

func TestBadMaxUsersSavesNothing(t *testing.T) {
	st := cached(t, 20)
	m, d := newPage(t, st, 100, 24)
	d.Press("c")
	d.Press("down", "down", "down") // max users
	d.Type("lots")
	d.Press("ctrl+s")
	if m.form == nil {
		t.Fatal("form closed on bad input")
	}
	if !strings.Contains(screen(m), `"lots" is not a whole number`) {
		t.Fatalf("want an inline error:\n%s", screen(m))
	}
	d.Press("up", "up", "up")
	for range 40 {
		d.Press("backspace")
	}
	d.Type("Bad Key!")
	d.Press("ctrl+s")
	if !strings.Contains(screen(m), "key is lower-case letters") {
		t.Fatalf("want the key error:\n%s", screen(m))
	}
	if ws, _ := st.Workspaces(); len(ws) != 0 {
		t.Fatalf("saved %+v from bad input", ws)
	}
	if !m.Dirty() {
		t.Error("an edited form must count as dirty")
	}
}

func TestEditAndRemoveWorkspace(t *testing.T) {
	st := cached(t, 20)
	co := tu.Companies(20)[3]
	if err := st.PutWorkspace("t", storage.Workspace{Key: "ws1", CWCompany: co.Identifier, CWCompanyID: co.ID, MaxUsers: 5}); err != nil {
		t.Fatal(err)
	}
	m, d := newPage(t, st, 100, 24)
	d.Press("w", "e")
	if m.form == nil || m.form.editing != "ws1" {
		t.Fatalf("edit form not open:\n%s", screen(m))
	}
	d.Press("down", "down", "down")
	d.Press("backspace")
	d.Type("7")
	d.Press("ctrl+s")
	if w, _ := st.Workspace("ws1"); w.MaxUsers != 7 {
		t.Fatalf("edit not saved: %+v", w)
	}
	d.Press("d")
	if d.Confirm == nil || !strings.Contains(d.Confirm.Prompt, `Remove workspace "ws1"?`) {
		t.Fatalf("no confirm:\n%s", screen(m))
	}
	d.Press("n")
	if ws, _ := st.Workspaces(); len(ws) != 1 {
		t.Fatal("removed without a yes")
	}
	d.Press("d", "y")
	if ws, _ := st.Workspaces(); len(ws) != 0 {
		t.Fatalf("not removed: %+v", ws)
	}
}

// Benchmarks at the scale the issue names: 20,000 cached companies.

func BenchmarkFilterKeystroke(b *testing.B) {
	x := NewIndex(tu.Companies(20000))
	queries := []string{"a", "ac", "acm", "acme", "acme ", "acme d", "acme de", "acme den", "n", "no", "nor", "nort", "northw", "c0", "c01", "c012"}
	b.ResetTimer()
	for i := range b.N {
		x.Filter(queries[i%len(queries)]) // extending queries reuse the last matches, as typing does
	}
}

func BenchmarkFilterFreshQuery(b *testing.B) {
	x := NewIndex(tu.Companies(20000))
	b.ResetTimer()
	for i := range b.N {
		x.Filter("")
		x.Filter([]string{"e", "lgs", "dntl grp", "xyz"}[i%4]) // worst case: every row scored
	}
}

func BenchmarkFirstFrame20k(b *testing.B) {
	st := cached(b, 20000)
	c := tu.Common(st, &tu.Backend{})
	b.ResetTimer()
	for range b.N {
		m := New(c)
		m.SetSize(120, 38)
		m.Update(m.loadCache()().(common.PageMsg).Msg)
		_ = m.View()
	}
	b.StopTimer()
	b.ReportMetric(float64(rssKiB())/1024, "RSS-MiB")
}

func BenchmarkScroll20k(b *testing.B) {
	st := cached(b, 20000)
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(120, 38)
	m.Update(m.loadCache()().(common.PageMsg).Msg)
	b.ResetTimer()
	for i := range b.N {
		m.cwTable.SetCursor((i * 37) % len(m.shown))
		_ = m.View()
	}
}

// A save that lands after its form was closed (esc while saving) leaves
// the next form open.
func TestLateSaveKeepsTheNextForm(t *testing.T) {
	m, d := newPage(t, cached(t, 20), 100, 24)
	d.Press("c")
	old := m.form.token
	d.Press("esc", "down", "c")
	if m.form == nil || m.form.token == old {
		t.Fatal("second form not open")
	}
	d.Send(savedMsg{token: old, key: "late"})
	if m.form == nil {
		t.Fatal("a late save closed the open form")
	}
}

// Changing the sort keeps the cursor on its company; with a filter the
// label says the rows are in match order.
func TestSortKeepsTheCompanyAndSaysSo(t *testing.T) {
	m, d := newPage(t, cached(t, 200), 120, 30)
	d.Press("down", "down", "down", "down", "down")
	id := m.currentID()
	d.Press("s")
	if got := m.currentID(); got != id {
		t.Fatalf("after s the cursor is on company %d, want %d", got, id)
	}
	d.Press("/")
	d.Type("acme")
	if s := screen(m); strings.Contains(s, "sort: ") || !strings.Contains(s, "best match, then") {
		t.Fatalf("a filtered list claims a sort order:\n%s", s)
	}
}

// Creating a workspace for a deleted company, or a second one for a
// company, asks first.
func TestCreateWarnsDeletedAndSecondWorkspace(t *testing.T) {
	st := cached(t, 20)
	cos := tu.Companies(20)
	if err := st.PutWorkspace("t", storage.Workspace{Key: "ws1", CWCompany: cos[0].Identifier, CWCompanyID: cos[0].ID}); err != nil {
		t.Fatal(err)
	}
	m, d := newPage(t, st, 120, 30)
	m.selectID(cos[0].ID)
	d.Press("c")
	if d.Confirm == nil || !strings.Contains(d.Confirm.Prompt, "already has workspace ws1") || m.form != nil {
		t.Fatalf("a second workspace did not ask first (form open: %v)", m.form != nil)
	}
	d.Press("y")
	if m.form == nil {
		t.Fatal("y did not open the form")
	}
	d.Press("esc")
	cos[1].Deleted = true
	if err := st.ReplaceCompanies(cos, tu.Clock); err != nil {
		t.Fatal(err)
	}
	m2, d2 := newPage(t, st, 120, 30)
	m2.selectID(cos[1].ID)
	d2.Press("c")
	if d2.Confirm == nil || !strings.Contains(d2.Confirm.Prompt, "deleted in ConnectWise") {
		t.Fatal("a deleted company did not ask first")
	}
	d2.Press("n")
	if m2.form != nil {
		t.Fatal("n opened the form")
	}
}

// TestStaleWorkspaceFormIsRefused: a technician edits a workspace that
// another changed after the form opened; the save is refused naming the
// other, and a second save applies the form's values deliberately.
func TestStaleWorkspaceFormIsRefused(t *testing.T) {
	st := cached(t, 20)
	co := tu.Companies(20)[3]
	if err := st.PutWorkspace("t", storage.Workspace{Key: "ws1", CWCompany: co.Identifier, CWCompanyID: co.ID, MaxUsers: 5}); err != nil {
		t.Fatal(err)
	}
	m, d := newPage(t, st, 100, 24)
	d.Press("w", "e")
	if m.form == nil || m.form.editing != "ws1" {
		t.Fatalf("edit form not open:\n%s", screen(m))
	}
	// Meanwhile another technician raises the seat count.
	if err := st.PutWorkspace("ssh:bob@desk", storage.Workspace{Key: "ws1", CWCompany: co.Identifier, CWCompanyID: co.ID, MaxUsers: 50}); err != nil {
		t.Fatal(err)
	}
	d.Press("down", "down", "down")
	d.Press("backspace")
	d.Type("7")
	d.Press("ctrl+s")
	if w, _ := st.Workspace("ws1"); w.MaxUsers != 50 {
		t.Fatalf("the stale save went through: %+v", w)
	}
	if m.form == nil || !strings.Contains(m.form.err, "ssh:bob@desk") || !strings.Contains(m.form.err, "max_users") {
		t.Fatalf("refusal does not say who changed what: %+v", m.form)
	}
	d.Press("ctrl+s")
	if w, _ := st.Workspace("ws1"); w.MaxUsers != 7 || m.form != nil {
		t.Fatalf("the deliberate second save: %+v, form %v", w, m.form != nil)
	}
}
