package engine

import (
	"fmt"

	"github.com/cwbridge/cwbridge/storage"
)

// Row states on the Billing page.
const (
	StateInStep     = "in step"
	StateWillChange = "will change"
	StateBillError  = "error"
)

// BillingStatusRow is one (workspace, product) as the last sync left it:
// what the Billing page lists without calling ConnectWise.
type BillingStatusRow struct {
	storage.Usage
	State string `json:"state"` // StateInStep, StateWillChange or StateBillError
}

// BillingStatus is the stored billing picture: every usage row with its
// state, each product's catalog outcome and the last sync's summary. It
// makes no ConnectWise call; BillingPlan does, to show the live diff.
type BillingStatus struct {
	Rows     []BillingStatusRow     `json:"rows"`
	Catalog  []storage.CatalogState `json:"catalog"`
	LastSync storage.BillingSync    `json:"last_sync"`
}

// BillingStatus reads the stored billing picture. Subscribe to
// storage.ChangeUsage and storage.ChangeBilling to know when it changed.
func (e *Engine) BillingStatus() (BillingStatus, error) {
	var out BillingStatus
	err := e.store.View(func(t *storage.Tx) error {
		us, err := t.Usages()
		if err != nil && len(us) == 0 {
			return err
		}
		for _, u := range us {
			out.Rows = append(out.Rows, BillingStatusRow{Usage: u, State: rowState(u)})
		}
		out.Catalog, _ = t.CatalogStates()
		out.LastSync, _ = t.LastBillingSync()
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("reading billing state: %w", err)
	}
	return out, nil
}

func rowState(u storage.Usage) string {
	switch {
	case u.LastError != "":
		return StateBillError
	case u.InSync():
		return StateInStep
	}
	return StateWillChange
}
