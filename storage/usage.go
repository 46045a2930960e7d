package storage

import (
	"strings"
	"time"
)

// Usage is the wanted and the synced quantity of one product on one
// workspace's agreement.
type Usage struct {
	Workspace string    `json:"workspace"`
	Product   string    `json:"product"`
	Wanted    int       `json:"wanted"`
	UpdatedAt time.Time `json:"updated_at,omitzero"` // when Wanted last changed
	Synced    int       `json:"synced"`
	SyncedAt  time.Time `json:"synced_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// InSync reports whether ConnectWise has the wanted quantity.
func (u Usage) InSync() bool { return !u.SyncedAt.IsZero() && u.Synced == u.Wanted }

func usageKey(workspace, product string) ([]byte, error) {
	if workspace == "" || product == "" || strings.ContainsRune(workspace, 0) {
		return nil, invalid("usage key %q/%q", workspace, product)
	}
	return []byte(workspace + "\x00" + product), nil
}

// Usage returns one row; ErrNotFound if never set.
func (t *Tx) Usage(workspace, product string) (Usage, error) {
	var u Usage
	k, err := usageKey(workspace, product)
	if err != nil {
		return u, err
	}
	err = getJSON(t.tx, bktUsage, k, &u)
	return u, err
}

// Usages lists every row (by workspace, then product); corrupt ones are
// skipped and reported.
func (t *Tx) Usages() ([]Usage, error) { return listAll[Usage](t, bktUsage) }

// updateUsage changes one row and tells subscribers with kind: ChangeUsage
// when a wanted quantity was set, ChangeBilling for a sync result (so a
// sync's own writes do not start another sync).
func (t *Tx) updateUsage(workspace, product string, kind ChangeKind, fn func(*Usage)) (Usage, error) {
	k, err := usageKey(workspace, product)
	if err != nil {
		return Usage{}, err
	}
	u, err := t.Usage(workspace, product)
	if err != nil && !isNotFound(err) {
		return u, err
	}
	u.Workspace, u.Product = workspace, product
	fn(&u)
	if err := putJSON(t.tx, bktUsage, k, u); err != nil {
		return u, err
	}
	t.changed(Change{Kind: kind, Key: string(k)})
	return u, nil
}

// SetWantedUsage records the quantity /v1/usage asked for.
func (t *Tx) SetWantedUsage(workspace, product string, qty int) (Usage, error) {
	return t.updateUsage(workspace, product, ChangeUsage, func(u *Usage) { u.Wanted, u.UpdatedAt = qty, t.now })
}

// RecordUsageSync records a sync attempt: on success (errText empty) the
// quantity now on the agreement; on failure only the error.
func (t *Tx) RecordUsageSync(workspace, product string, synced int, errText string) (Usage, error) {
	return t.updateUsage(workspace, product, ChangeBilling, func(u *Usage) {
		u.LastError = errText
		if errText == "" {
			u.Synced, u.SyncedAt = synced, t.now
		}
	})
}

func (s *Store) Usage(workspace, product string) (Usage, error) {
	return viewGet(s, func(t *Tx) (Usage, error) { return t.Usage(workspace, product) })
}
func (s *Store) Usages() ([]Usage, error) { return viewGet(s, (*Tx).Usages) }
func (s *Store) SetWantedUsage(workspace, product string, qty int) (Usage, error) {
	return updateGet(s, func(t *Tx) (Usage, error) { return t.SetWantedUsage(workspace, product, qty) })
}
func (s *Store) RecordUsageSync(workspace, product string, synced int, errText string) (Usage, error) {
	return updateGet(s, func(t *Tx) (Usage, error) { return t.RecordUsageSync(workspace, product, synced, errText) })
}
