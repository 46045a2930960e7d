package storage

import (
	"context"
	"testing"
)

// Drafts are per technician, outside the shared onboarding record, and
// gone once setup is finished.
func TestDraftsPerActor(t *testing.T) {
	s := newT(t)
	ch := s.Subscribe(context.Background())
	a := Onboarding{Step: "agreement", Draft: Connection{Site: "a.example", PrivateKey: NewSecret("ka")}}
	if err := s.SetDraft("ssh:alice", a); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDraft("ssh:bob", Onboarding{Step: "verify"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Draft("ssh:alice"); got.Step != "agreement" || got.Draft.Site != "a.example" || got.Draft.PrivateKey.Reveal() != "ka" {
		t.Fatalf("alice's draft: %+v", got)
	}
	if got, _ := s.Draft("ssh:carol"); got.Step != "" {
		t.Fatalf("carol has no draft, got step %q", got.Step)
	}
	if o, _ := s.Onboarding(); o.Step != "" {
		t.Fatalf("a draft changed the shared record: %q", o.Step)
	}
	select {
	case c := <-ch:
		t.Fatalf("a draft was published to every session: %+v", c)
	default:
	}
	if err := s.Update(func(t *Tx) error { return t.ClearDrafts() }); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.View(func(t *Tx) error { ds, err := t.Drafts(); n = len(ds); return err }); err != nil || n != 0 {
		t.Fatalf("%d drafts after ClearDrafts (%v)", n, err)
	}
}
