package storage

import (
	"strconv"
	"time"
)

// Billing state: what the engine learned while making products real in
// ConnectWise and keeping agreement additions in step. The wanted and
// synced quantities themselves are Usage rows (usage.go).

// Catalog outcomes of a product.
const (
	CatalogMapped  = "mapped"  // "map to existing": the chosen item's id
	CatalogAdopted = "adopted" // "create new", but an item with the identifier existed
	CatalogCreated = "created" // created by cwbridge
	CatalogPending = "pending" // a create got no usable answer: searched for, not re-sent, for a while
	CatalogFailed  = "failed"  // see Error and Fix
)

// CatalogState is the ConnectWise catalog item behind one product mapping.
// It belongs to the mapping's identifier: when the admin maps the product to
// another identifier the state is stale and is worked out again.
type CatalogState struct {
	Product    string    `json:"product"`
	Identifier string    `json:"identifier"`
	ItemID     int       `json:"item_id,omitempty"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error,omitempty"`
	Fix        string    `json:"fix,omitempty"`
	At         time.Time `json:"at"`
	// PendingSince is set before a create is sent; UnknownSince when it
	// got no usable answer (ConnectWise may still commit it).
	PendingSince time.Time `json:"pending_since,omitzero"`
	UnknownSince time.Time `json:"unknown_since,omitzero"`
}

// Ready reports whether additions can name the item.
func (c CatalogState) Ready() bool {
	return c.ItemID > 0 && (c.Outcome == CatalogMapped || c.Outcome == CatalogAdopted || c.Outcome == CatalogCreated)
}

// AdditionCreate is the marker written before an agreement addition is
// POSTed, so a crash or a lost answer leads to a search, never a blind
// second create.
type AdditionCreate struct {
	AgreementID  int       `json:"agreement_id"`
	ItemID       int       `json:"item_id"`
	Workspace    string    `json:"workspace"`
	Product      string    `json:"product"`
	Quantity     int       `json:"quantity"`
	Since        time.Time `json:"since"`
	UnknownSince time.Time `json:"unknown_since,omitzero"`
}

func additionCreateKey(agreementID, itemID int) []byte {
	return []byte(strconv.Itoa(agreementID) + ":" + strconv.Itoa(itemID))
}

// CatalogState returns a product's state; ErrNotFound if never worked out.
func (t *Tx) CatalogState(product string) (CatalogState, error) {
	var c CatalogState
	err := getJSON(t.tx, bktBillingCatalog, []byte(product), &c)
	return c, err
}

// CatalogStates lists every product's state by product key.
func (t *Tx) CatalogStates() ([]CatalogState, error) {
	return listAll[CatalogState](t, bktBillingCatalog)
}

// PutCatalogState stores c (At defaulted to now).
func (t *Tx) PutCatalogState(c CatalogState) error {
	if c.Product == "" {
		return invalid("catalog state without product")
	}
	if c.At.IsZero() {
		c.At = t.now
	}
	if err := putJSON(t.tx, bktBillingCatalog, []byte(c.Product), c); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeBilling, Key: c.Product})
	return nil
}

// AdditionCreate returns the marker of (agreement, item); ErrNotFound if none.
func (t *Tx) AdditionCreate(agreementID, itemID int) (AdditionCreate, error) {
	var a AdditionCreate
	err := getJSON(t.tx, bktBillingCreates, additionCreateKey(agreementID, itemID), &a)
	return a, err
}

// PutAdditionCreate writes the marker (Since defaulted to now).
func (t *Tx) PutAdditionCreate(a AdditionCreate) error {
	if a.AgreementID <= 0 || a.ItemID <= 0 {
		return invalid("addition create marker for agreement %d, item %d", a.AgreementID, a.ItemID)
	}
	if a.Since.IsZero() {
		a.Since = t.now
	}
	return putJSON(t.tx, bktBillingCreates, additionCreateKey(a.AgreementID, a.ItemID), a)
}

// DeleteAdditionCreate drops the marker; a missing one is no error.
func (t *Tx) DeleteAdditionCreate(agreementID, itemID int) error {
	b, err := getBucket(t.tx, bktBillingCreates)
	if err != nil {
		return err
	}
	return b.Delete(additionCreateKey(agreementID, itemID))
}

// AdditionCreates lists every marker.
func (t *Tx) AdditionCreates() ([]AdditionCreate, error) {
	return listAll[AdditionCreate](t, bktBillingCreates)
}

// SetWantedSeats records a seat-based product's wanted quantity (the
// workspace's max_users) without touching UpdatedAt when unchanged.
func (t *Tx) SetWantedSeats(workspace, product string, qty int) (Usage, error) {
	return t.updateUsage(workspace, product, ChangeBilling, func(u *Usage) {
		if u.Wanted != qty || u.UpdatedAt.IsZero() {
			u.Wanted, u.UpdatedAt = qty, t.now
		}
	})
}

// BillingSync is the summary of the last finished sync.
type BillingSync struct {
	At      time.Time `json:"at"`
	Created int       `json:"created"`
	Changed int       `json:"changed"`
	Errors  int       `json:"errors"`
	Calls   int       `json:"calls"`
}

var keyLastBillingSync = []byte("last_sync")

// LastBillingSync returns the last sync's summary; ErrNotFound if none.
func (t *Tx) LastBillingSync() (BillingSync, error) {
	var s BillingSync
	err := getJSON(t.tx, bktBilling, keyLastBillingSync, &s)
	return s, err
}

// SetLastBillingSync stores the summary.
func (t *Tx) SetLastBillingSync(s BillingSync) error {
	if err := putJSON(t.tx, bktBilling, keyLastBillingSync, s); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeBilling})
	return nil
}

func (s *Store) CatalogState(product string) (CatalogState, error) {
	return viewGet(s, func(t *Tx) (CatalogState, error) { return t.CatalogState(product) })
}
func (s *Store) CatalogStates() ([]CatalogState, error) { return viewGet(s, (*Tx).CatalogStates) }
func (s *Store) PutCatalogState(c CatalogState) error {
	return s.Update(func(t *Tx) error { return t.PutCatalogState(c) })
}
func (s *Store) AdditionCreate(agreementID, itemID int) (AdditionCreate, error) {
	return viewGet(s, func(t *Tx) (AdditionCreate, error) { return t.AdditionCreate(agreementID, itemID) })
}
func (s *Store) AdditionCreates() ([]AdditionCreate, error) { return viewGet(s, (*Tx).AdditionCreates) }
func (s *Store) PutAdditionCreate(a AdditionCreate) error {
	return s.Update(func(t *Tx) error { return t.PutAdditionCreate(a) })
}
func (s *Store) DeleteAdditionCreate(agreementID, itemID int) error {
	return s.Update(func(t *Tx) error { return t.DeleteAdditionCreate(agreementID, itemID) })
}
func (s *Store) LastBillingSync() (BillingSync, error) { return viewGet(s, (*Tx).LastBillingSync) }
