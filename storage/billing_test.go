package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Markers and catalog states round-trip; a sync's own writes tell
// subscribers ChangeBilling, not ChangeUsage, so the billing loop (which
// follows ChangeUsage) is not woken by its own results.
func TestBillingState(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	usage := s.Subscribe(ctx, ChangeUsage)

	m := AdditionCreate{AgreementID: 1001, ItemID: 601, Workspace: "acme", Product: "users", Quantity: 4}
	if err := s.PutAdditionCreate(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.AdditionCreate(1001, 601)
	if err != nil || got.Quantity != 4 || got.Since.IsZero() {
		t.Fatalf("marker %+v, %v", got, err)
	}
	if err := s.PutAdditionCreate(AdditionCreate{AgreementID: 0, ItemID: 601}); err == nil {
		t.Error("a marker without agreement was stored")
	}
	if err := s.DeleteAdditionCreate(1001, 601); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdditionCreate(1001, 601); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.DeleteAdditionCreate(1001, 601); err != nil {
		t.Errorf("deleting a missing marker: %v", err)
	}
	if err := s.PutCatalogState(CatalogState{Product: "users", Identifier: "SEC-USER", ItemID: 9, Outcome: CatalogCreated}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CatalogState("users"); err != nil || !c.Ready() || c.At.IsZero() {
		t.Errorf("catalog state %+v, %v", c, err)
	}
	if _, err := s.RecordUsageSync("acme", "users", 4, ""); err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(t *Tx) error {
		if _, err := t.SetWantedSeats("acme", "seats", 12); err != nil {
			return err
		}
		return t.SetLastBillingSync(BillingSync{At: time.Now(), Created: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastBillingSync(); err != nil || last.Created != 1 {
		t.Errorf("last sync %+v, %v", last, err)
	}
	select {
	case c := <-usage:
		t.Errorf("a sync result woke a ChangeUsage subscriber: %+v", c)
	default:
	}
	if _, err := s.SetWantedUsage("acme", "users", 5); err != nil {
		t.Fatal(err)
	}
	select {
	case <-usage:
	case <-time.After(5 * time.Second):
		t.Error("a wanted quantity did not wake the ChangeUsage subscriber")
	}
}
