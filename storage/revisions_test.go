package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestStaleSaveIsRefused: the scenario of two technicians on one route.
// The first opens the route's form; the second switches the route off;
// the first's save of a priority change would switch it back on. It is
// refused, naming who changed what and when.
func TestStaleSaveIsRefused(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := openT(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	r := Route{AlertType: "threat", Enabled: true, Board: Ref{Name: "Security"}, Priority: Ref{Name: "P3"}}
	if err := s.PutRoute("tui:ann", r); err != nil {
		t.Fatal(err)
	}
	subj := RouteSubject("threat")
	opened, err := s.Revision(subj) // ann's form opens
	if err != nil || opened.Seq == 0 || opened.By != "tui:ann" {
		t.Fatalf("revision %+v %v", opened, err)
	}

	now = now.Add(2 * time.Minute) // bob switches the route off
	off := r
	off.Enabled = false
	if err := s.Update(func(tx *Tx) error {
		rev, err := tx.Revision(subj)
		if err != nil {
			return err
		}
		if err := tx.CheckRevision(subj, rev.Seq); err != nil {
			return err
		}
		return tx.PutRoute("ssh:bob@laptop", off)
	}); err != nil {
		t.Fatal(err)
	}

	now = now.Add(time.Minute) // ann saves her priority change on the old form
	mine := r
	mine.Priority = Ref{Name: "P1"}
	err = s.Update(func(tx *Tx) error {
		if err := tx.CheckRevision(subj, opened.Seq); err != nil {
			return err
		}
		return tx.PutRoute("tui:ann", mine)
	})
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("stale save: %v", err)
	}
	if ce.Now.By != "ssh:bob@laptop" || ce.Ago != time.Minute || !strings.Contains(err.Error(), "changed by ssh:bob@laptop 1m0s ago: enabled") {
		t.Fatalf("conflict %+v: %v", ce, err)
	}
	if got, _ := s.Route("threat"); got.Enabled || got.Priority.Name != "P3" {
		t.Fatalf("the stale save went through: %+v", got)
	}
	// Nothing changed in between: the save goes through.
	cur, _ := s.Revision(subj)
	if err := s.Update(func(tx *Tx) error {
		if err := tx.CheckRevision(subj, cur.Seq); err != nil {
			return err
		}
		return tx.PutRoute("tui:ann", mine)
	}); err != nil {
		t.Fatal(err)
	}
	// The listing hands out what a form needs, values and revision together.
	rs, revs, err := s.RoutesAt()
	if err != nil || len(rs) != 1 || revs["threat"] == 0 {
		t.Fatalf("RoutesAt: %+v %v %v", rs, revs, err)
	}
	if err := s.PutRouteAt("tui:ann", rs[0], revs["threat"]-1); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutRouteAt on an old revision: %v", err)
	}
	// A setting never written has revision 0, and a form opened on it saves.
	if rev, err := s.Revision(WorkspaceSubject("nobody")); err != nil || rev.Seq != 0 {
		t.Fatalf("unwritten: %+v %v", rev, err)
	}
}
