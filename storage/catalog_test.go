package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCompaniesReplaceUpsertAndIndex(t *testing.T) {
	s := newT(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var cs []Company
	for i := 20000; i >= 1; i-- { // unsorted on purpose
		cs = append(cs, Company{ID: i, Identifier: fmt.Sprintf("CO%05d", i), Name: fmt.Sprintf("Company %d", i)})
	}
	if err := s.ReplaceCompanies(cs, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Companies()
	if err != nil || len(got) != 20000 || got[0].ID != 1 || got[19999].ID != 20000 {
		t.Fatalf("Companies: %d %v", len(got), err)
	}
	if c, err := s.CompanyByIdentifier("co00042"); err != nil || c.ID != 42 {
		t.Fatalf("by identifier: %+v %v", c, err)
	}
	if fa, _ := s.CompaniesFetchedAt(); !fa.Equal(at) {
		t.Fatalf("fetched at %v", fa)
	}
	// Incremental: rename 42, mark 43 deleted.
	if n, err := s.UpsertCompanies([]Company{{ID: 42, Identifier: "NEW42"}, {ID: 43, Identifier: "CO00043", Deleted: true}}, at.Add(time.Hour)); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	if _, err := s.CompanyByIdentifier("CO00042"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old identifier still indexed: %v", err)
	}
	if c, _ := s.CompanyByIdentifier("new42"); c.ID != 42 {
		t.Fatalf("renamed: %+v", c)
	}
	if c, _ := s.Company(43); !c.Deleted {
		t.Fatalf("deleted flag: %+v", c)
	}
	// Full refresh drops what is gone.
	if err := s.ReplaceCompanies([]Company{{ID: 1, Identifier: "ONE"}}, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Companies(); len(got) != 1 {
		t.Fatalf("after replace: %d", len(got))
	}
	if _, err := s.CompanyByIdentifier("NEW42"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("index not replaced: %v", err)
	}
	if err := s.ReplaceCompanies([]Company{{ID: 0}}, at); !errors.Is(err, ErrInvalid) {
		t.Fatalf("id 0: %v", err)
	}
}

func TestLookups(t *testing.T) {
	s := newT(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := s.PutLookup(LookupTable{Kind: LookupBoards, FetchedAt: at, Items: []LookupItem{{ID: 1, Name: "Security"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLookup(LookupTable{Kind: LookupStatuses, BoardID: 1, FetchedAt: at, Items: []LookupItem{{ID: 5, Name: "New"}, {ID: 6, Name: "Closed", Closed: true}}}); err != nil {
		t.Fatal(err)
	}
	tbl, err := s.Lookup(LookupStatuses, 1)
	if err != nil || len(tbl.Items) != 2 || !tbl.Items[1].Closed || !tbl.FetchedAt.Equal(at) {
		t.Fatalf("%+v %v", tbl, err)
	}
	if _, err := s.Lookup(LookupStatuses, 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other board: %v", err)
	}
	for _, bad := range []LookupTable{{Kind: LookupTypes}, {Kind: LookupPriorities, BoardID: 3}, {Kind: "colors"}} {
		if err := s.PutLookup(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v accepted: %v", bad, err)
		}
	}
}

func TestConfigRecordsAndAudit(t *testing.T) {
	s := newT(t)
	r := Route{AlertType: "threat", Enabled: true, Board: Ref{Name: "Security", ID: 1}, Status: Ref{Name: "New"}, Priority: Ref{Name: "P2"}, ClosedStatus: Ref{Name: "Closed"}}
	if err := s.PutRoute("alice", r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Route("threat"); err != nil || got != r {
		t.Fatalf("route %+v %v", got, err)
	}
	if err := s.PutProductMapping("alice", ProductMapping{Key: "users", CreateNew: &NewCatalogItem{Identifier: "SEC-USER", Description: "seat"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProductMapping("alice", ProductMapping{Key: "devices", Existing: &CatalogItemRef{ID: 9, Identifier: "DEV"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProductMapping("alice", ProductMapping{Key: "both", Existing: &CatalogItemRef{ID: 9}, CreateNew: &NewCatalogItem{}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("both set: %v", err)
	}
	ms, err := s.ProductMappings()
	if err != nil || len(ms) != 2 || ms[0].Key != "devices" || ms[1].CreateNew.Identifier != "SEC-USER" {
		t.Fatalf("mappings %+v %v", ms, err)
	}
	if err := s.SetAgreementType("alice", AgreementType{ID: 3, Name: "Managed Security"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.AgreementType(); a.ID != 3 {
		t.Fatalf("agreement type %+v", a)
	}
	if err := s.DeleteRoute("bob", "threat"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRoute("bob", "threat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double delete: %v", err)
	}
	if err := s.DeleteProductMapping("bob", "devices"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorkspace("carol", Workspace{Key: "acme", CWCompany: "ACME"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorkspace("carol", "acme"); err != nil {
		t.Fatal(err)
	}
	if ws, _ := s.Workspaces(); len(ws) != 0 {
		t.Fatalf("workspaces %+v", ws)
	}
	log, err := s.AuditLog(0)
	if err != nil || len(log) != 8 {
		t.Fatalf("audit %d entries %v", len(log), err)
	}
	del := log[3] // newest first: ws delete, ws put, product delete, route delete
	if del.Action != "delete" || del.Subject != "routes/threat" || del.Actor != "bob" || del.After != "" || del.Before == "" {
		t.Fatalf("route delete entry %+v", del)
	}
	if log[0].Seq <= log[1].Seq {
		t.Fatal("audit not newest first")
	}
	if two, _ := s.AuditLog(2); len(two) != 2 || two[0].Seq != log[0].Seq {
		t.Fatalf("limit: %+v", two)
	}
}

// The sync state a background sync needs: when the last full sync ran,
// the newest lastUpdated cached (ConnectWise's clock), and whether an
// incremental sync changed anything (only then are screens told).
func TestCompanySyncState(t *testing.T) {
	s := newT(t)
	st, err := s.CompanySync()
	if err != nil || !st.Empty || !st.FetchedAt.IsZero() || !st.FullAt.IsZero() || !st.Watermark.IsZero() {
		t.Fatalf("new store: %+v %v", st, err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cw := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // ConnectWise's clock
	if err := s.ReplaceCompanies([]Company{{ID: 1, Identifier: "A", LastUpdated: cw}, {ID: 2, Identifier: "B", LastUpdated: cw.Add(time.Hour)}}, at); err != nil {
		t.Fatal(err)
	}
	st, _ = s.CompanySync()
	if st.Empty || !st.FullAt.Equal(at) || !st.FetchedAt.Equal(at) || !st.Watermark.Equal(cw.Add(time.Hour)) {
		t.Fatalf("after full sync: %+v", st)
	}

	sub := s.Subscribe(t.Context(), ChangeCompanies)
	// Nothing new: the watermark row comes back unchanged.
	n, err := s.UpsertCompanies([]Company{{ID: 2, Identifier: "B", LastUpdated: cw.Add(time.Hour)}}, at.Add(time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("unchanged upsert: %d %v", n, err)
	}
	select {
	case ch := <-sub:
		t.Fatalf("an unchanged sync told subscribers: %+v", ch)
	default:
	}
	// B deleted in ConnectWise: marked, watermark moves, subscribers told.
	n, err = s.UpsertCompanies([]Company{{ID: 2, Identifier: "B", Deleted: true, LastUpdated: cw.Add(2 * time.Hour)}}, at.Add(2*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("delete upsert: %d %v", n, err)
	}
	<-sub
	st, _ = s.CompanySync()
	if !st.FullAt.Equal(at) || !st.FetchedAt.Equal(at.Add(2*time.Minute)) || !st.Watermark.Equal(cw.Add(2*time.Hour)) {
		t.Fatalf("after incremental: %+v", st)
	}
	if c, _ := s.Company(2); !c.Deleted {
		t.Fatalf("B not marked deleted: %+v", c)
	}
	// An older row never moves the watermark back.
	if _, err := s.UpsertCompanies([]Company{{ID: 3, Identifier: "C", LastUpdated: cw}}, at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.CompanySync(); !st.Watermark.Equal(cw.Add(2 * time.Hour)) {
		t.Fatalf("watermark moved back: %+v", st)
	}
}
