package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// Actions of a billing row.
const (
	BillInStep = "in_step" // ConnectWise has exactly one active addition at the wanted quantity
	BillCreate = "create"  // no active addition: one is POSTed
	BillUpdate = "update"  // one active addition at another quantity: PATCHed
	BillWait   = "wait"    // a create got no answer: searched for until the window ends
	BillError  = "error"   // see Problem, Error and Fix
)

// Problems of a row in error, for grouping on the Billing page.
const (
	ProblemNoAgreement     = "no_agreement"
	ProblemAgreement       = "agreement_unusable" // cancelled, gone, or another company's
	ProblemSharedAgreement = "shared_agreement"
	ProblemNotMapped       = "product_not_mapped"
	ProblemItemMissing     = "item_missing"
	ProblemPermission      = "permission_missing"
	ProblemSeveralActive   = "several_active"
	ProblemConnectWise     = "connectwise_error"
)

// BillingRow is one (workspace, product) line of the plan.
type BillingRow struct {
	Workspace   string `json:"workspace"`
	Company     string `json:"company"` // the workspace's CW company identifier
	Product     string `json:"product"`
	Identifier  string `json:"identifier,omitempty"` // catalog item identifier
	ItemID      int    `json:"item_id,omitempty"`
	AgreementID int    `json:"agreement_id,omitempty"`
	Wanted      int    `json:"wanted"`
	// InCW is the quantity of the active addition; nil when there is none
	// (or several, or it could not be read).
	InCW       *int      `json:"in_cw"`
	AdditionID int       `json:"addition_id,omitempty"`
	Action     string    `json:"action"`
	Problem    string    `json:"problem,omitempty"`
	Error      string    `json:"error,omitempty"`
	Fix        string    `json:"fix,omitempty"`
	LastSync   time.Time `json:"last_sync,omitzero"` // when ConnectWise last matched
	// Done is set by a sync: what it did to this row (created, updated,
	// adopted, failed, or empty when nothing).
	Done string `json:"done,omitempty"`
}

// Change describes the row's change in the from → to words the CLI and
// the page show.
func (r BillingRow) Change() string {
	switch r.Action {
	case BillCreate:
		if r.ItemID == 0 {
			return fmt.Sprintf("create catalog item %s, then its addition on agreement %d: quantity %d", r.Identifier, r.AgreementID, r.Wanted)
		}
		return fmt.Sprintf("create addition %s on agreement %d: quantity %d", r.Identifier, r.AgreementID, r.Wanted)
	case BillUpdate:
		return fmt.Sprintf("change addition %d (%s) on agreement %d: %d → %d", r.AdditionID, r.Identifier, r.AgreementID, *r.InCW, r.Wanted)
	case BillWait:
		return "waiting: " + r.Error
	case BillError:
		s := r.Error
		if r.Fix != "" {
			s += " — fix: " + r.Fix
		}
		return s
	}
	return fmt.Sprintf("in step at %d", r.Wanted)
}

// BillingPlan is what a usage sync would do (or, from SyncBilling, did).
type BillingPlan struct {
	At       time.Time    `json:"at"`
	LastSync time.Time    `json:"last_sync,omitzero"` // the last finished sync
	Rows     []BillingRow `json:"rows"`
	Creates  int          `json:"creates"`
	Updates  int          `json:"updates"`
	Waiting  int          `json:"waiting"`
	Errors   int          `json:"errors"`
	// Catalog is each product's catalog item outcome.
	Catalog []CatalogOutcome `json:"catalog"`
	// Calls is how many ConnectWise calls working it out (and applying
	// it) took.
	Calls int `json:"calls"`
}

// InStep reports whether ConnectWise matches and nothing failed.
func (p BillingPlan) InStep() bool { return p.Creates+p.Updates+p.Waiting+p.Errors == 0 }

func (p *BillingPlan) count() {
	p.Creates, p.Updates, p.Waiting, p.Errors = 0, 0, 0, 0
	for _, r := range p.Rows {
		switch r.Action {
		case BillCreate:
			p.Creates++
		case BillUpdate:
			p.Updates++
		case BillWait:
			p.Waiting++
		case BillError:
			p.Errors++
		}
	}
}

// Fixes shown with row problems.
const (
	fixNoAgreement = "pick the workspace's agreement on the Companies page (the company's agreements of the default agreement type come first)"
	fixShared      = "give each workspace its own agreement on the Companies page; an agreement carries one addition per product"
	fixNotMapped   = "map the product in the wizard (or add it to [[products]])"
	fixSeveral     = "cancel the extra additions in ConnectWise (made by hand?); cwbridge changes none of them while there are several"
)

// BillingPlan works out, without changing anything, what a usage sync
// would do: per workspace and product the wanted quantity, the quantity in
// ConnectWise and the change. It costs one call per agreement (its active
// additions of the mapped items) plus one per 150 agreements (their
// status), and one per product whose catalog item is not known yet.
func (e *Engine) BillingPlan(ctx context.Context) (BillingPlan, error) {
	e.bill.mu.Lock()
	defer e.bill.mu.Unlock()
	c, err := e.billingClient()
	if err != nil {
		return BillingPlan{}, err
	}
	p, _, err := e.plan(ctx, c, false)
	return p, err
}

// billingClient is the client, or why billing cannot talk to ConnectWise.
func (e *Engine) billingClient() (*cwclient.Client, error) {
	c, err := e.cw()
	if err != nil {
		return nil, fmt.Errorf("ConnectWise is not set up: %w", err)
	}
	if h := e.Health(); h.Paused {
		return nil, fmt.Errorf("ConnectWise calls are paused (%s): %s", h.ConnectWise, h.PauseReason)
	}
	return c, nil
}

// planState is what plan read from the store, kept for apply.
type planState struct {
	markers map[[2]int]storage.AdditionCreate
	seats   map[[2]string]int // seat-based rows: wanted quantity to record
}

// plan computes the plan. ensure runs EnsureCatalogItems first (a sync);
// otherwise unknown catalog items are only looked up.
func (e *Engine) plan(ctx context.Context, c *cwclient.Client, ensure bool) (BillingPlan, planState, error) {
	p := BillingPlan{At: e.o.Now()}
	ps := planState{markers: map[[2]int]storage.AdditionCreate{}, seats: map[[2]string]int{}}
	startCalls := e.bill.calls.Load()
	counted := func(err error, company string) error {
		e.billNote(err, company)
		return err
	}
	if ensure {
		p.Catalog = e.ensureCatalogItems(ctx)
	}
	var (
		wss     []storage.Workspace
		maps    []storage.ProductMapping
		usages  []storage.Usage
		states  []storage.CatalogState
		markers []storage.AdditionCreate
		last    storage.BillingSync
	)
	err := e.store.View(func(t *storage.Tx) error {
		var err error
		if wss, err = t.Workspaces(); err != nil && len(wss) == 0 {
			return err
		}
		if maps, err = t.ProductMappings(); err != nil && len(maps) == 0 {
			return err
		}
		if usages, err = t.Usages(); err != nil && len(usages) == 0 {
			return err
		}
		states, _ = t.CatalogStates()
		markers, _ = t.AdditionCreates()
		last, _ = t.LastBillingSync()
		return nil
	})
	if err != nil {
		return p, ps, fmt.Errorf("reading billing state: %w", err)
	}
	p.LastSync = last.At
	for _, m := range markers {
		ps.markers[[2]int{m.AgreementID, m.ItemID}] = m
	}

	// Catalog items of the products.
	type item struct {
		id                    int
		identifier            string
		problem, why, fix     string
		seatBased, hasMapping bool
		// later: no item yet, but the sync will make it (create new),
		// or is waiting for a create whose answer was lost (wait).
		later, wait bool
	}
	items := map[string]*item{}
	stateOf := map[string]storage.CatalogState{}
	for _, s := range states {
		stateOf[s.Product] = s
	}
	for _, m := range maps {
		it := &item{hasMapping: true, seatBased: m.SeatBased}
		items[m.Key] = it
		switch {
		case m.Existing != nil:
			it.identifier, it.id = m.Existing.Identifier, m.Existing.ID
		case m.CreateNew != nil:
			it.identifier = m.CreateNew.Identifier
		}
		if it.id > 0 {
			continue
		}
		if s, ok := stateOf[m.Key]; ok && s.Identifier == it.identifier {
			if s.Ready() {
				it.id = s.ItemID
				continue
			}
			if s.Outcome == storage.CatalogPending {
				it.wait, it.why = true, "catalog item "+it.identifier+": "+s.Error
				continue
			}
			if s.Outcome == storage.CatalogFailed {
				it.problem, it.why, it.fix = ProblemItemMissing, "catalog item "+it.identifier+": "+s.Error, s.Fix
				if strings.Contains(s.Fix, "security role") {
					it.problem = ProblemPermission
				}
				continue
			}
		}
		found, err := c.CatalogItemByIdentifier(ctx, it.identifier)
		if counted(err, "") != nil {
			it.problem, it.why, it.fix = ProblemConnectWise, "looking up catalog item "+it.identifier+": "+err.Error(), fixCatalogUnreached
			if cwclient.KindOf(err) == cwclient.KindForbidden {
				it.problem, it.fix = ProblemPermission, fixCatalogPermission
			}
			continue
		}
		if len(found) == 0 && m.CreateNew != nil {
			it.later = true // EnsureCatalogItems creates it at the sync
			continue
		}
		if len(found) == 0 || found[0].InactiveFlag {
			it.problem, it.why = ProblemItemMissing, "catalog item "+it.identifier+" is not in ConnectWise (or is inactive)"
			it.fix = "it is created at the next sync when the product is \"create new\"; otherwise " + fixCatalogMissing
			continue
		}
		it.id = found[0].ID
	}

	// The rows: /v1/usage quantities, and max_users for seat-based products.
	wsByKey := map[string]storage.Workspace{}
	for _, w := range wss {
		wsByKey[w.Key] = w
	}
	usageOf := map[[2]string]storage.Usage{}
	for _, u := range usages {
		usageOf[[2]string{u.Workspace, u.Product}] = u
		if _, ok := wsByKey[u.Workspace]; !ok {
			continue // workspace deleted: nothing to bill
		}
		if it := items[u.Product]; it != nil && it.seatBased {
			continue // billed from max_users below
		}
		p.Rows = append(p.Rows, BillingRow{Workspace: u.Workspace, Product: u.Product, Wanted: u.Wanted, LastSync: u.SyncedAt})
	}
	for _, m := range maps {
		if !m.SeatBased {
			continue
		}
		for _, w := range wss {
			u, had := usageOf[[2]string{w.Key, m.Key}]
			if w.MaxUsers == 0 && !had {
				continue // no seats and never billed: nothing to say
			}
			ps.seats[[2]string{w.Key, m.Key}] = w.MaxUsers
			p.Rows = append(p.Rows, BillingRow{Workspace: w.Key, Product: m.Key, Wanted: w.MaxUsers, LastSync: u.SyncedAt})
		}
	}
	slices.SortFunc(p.Rows, func(a, b BillingRow) int {
		if c := strings.Compare(a.Workspace, b.Workspace); c != 0 {
			return c
		}
		return strings.Compare(a.Product, b.Product)
	})

	// Per row: its agreement and item, or the problem.
	fail := func(r *BillingRow, problem, why, fix string) {
		r.Action, r.Problem, r.Error, r.Fix = BillError, problem, why, fix
	}
	agItems := map[int][]int{}           // agreement → item ids wanted on it
	owners := map[[2]int][]*BillingRow{} // (agreement, item) → rows
	for i := range p.Rows {
		r := &p.Rows[i]
		w := wsByKey[r.Workspace]
		r.Company, r.AgreementID = w.CWCompany, w.AgreementID
		it := items[r.Product]
		switch {
		case it == nil:
			fail(r, ProblemNotMapped, fmt.Sprintf("product %q is not mapped to a ConnectWise catalog item", r.Product), fixNotMapped)
			continue
		case it.id == 0 && it.wait:
			r.Identifier, r.Action, r.Error = it.identifier, BillWait, it.why
			continue
		case it.id == 0 && it.later && w.AgreementID != 0:
			// Its agreement is checked once the item exists.
			r.Identifier, r.Action = it.identifier, BillCreate
			continue
		case it.id == 0 && !it.later:
			r.Identifier = it.identifier
			fail(r, it.problem, it.why, it.fix)
			continue
		case w.AgreementID == 0:
			r.Identifier, r.ItemID = it.identifier, it.id
			fail(r, ProblemNoAgreement, fmt.Sprintf("workspace %s has no agreement", w.Key), fixNoAgreement)
			continue
		}
		r.Identifier, r.ItemID = it.identifier, it.id
		k := [2]int{w.AgreementID, it.id}
		if len(owners[k]) == 0 {
			agItems[w.AgreementID] = append(agItems[w.AgreementID], it.id)
		}
		owners[k] = append(owners[k], r)
	}
	for _, rows := range owners {
		if len(rows) < 2 {
			continue
		}
		names := make([]string, len(rows))
		for i, r := range rows {
			names[i] = r.Workspace
		}
		for _, r := range rows {
			fail(r, ProblemSharedAgreement, fmt.Sprintf("workspaces %s all bill %s on agreement %d", strings.Join(names, ", "), r.Identifier, r.AgreementID), fixShared)
		}
	}

	// Agreements: status and company, a batch at a time.
	agIDs := make([]int, 0, len(agItems))
	for id := range agItems {
		agIDs = append(agIDs, id)
	}
	slices.Sort(agIDs)
	agOf := map[int]cwclient.Agreement{}
	agErr := map[int]error{}
	if len(agIDs) > 0 {
		ags, err := c.AgreementsByID(ctx, agIDs)
		e.bill.calls.Add(int64((len(agIDs)+149)/150 - 1)) // billNote counts one
		if e.billNote(err, ""); err != nil {
			for _, id := range agIDs {
				agErr[id] = err
			}
		}
		for _, a := range ags {
			agOf[a.ID] = a
		}
	}
	agRows := map[int][]*BillingRow{}
	for k, rows := range owners {
		agRows[k[0]] = append(agRows[k[0]], rows...)
	}
	for _, rows := range agRows {
		slices.SortFunc(rows, func(a, b *BillingRow) int {
			if c := strings.Compare(a.Workspace, b.Workspace); c != 0 {
				return c
			}
			return strings.Compare(a.Product, b.Product)
		})
	}
	usable := map[int]bool{}
	for _, id := range agIDs {
		rows := agRows[id]
		a, ok := agOf[id]
		switch {
		case agErr[id] != nil:
			for _, r := range rows {
				failCall(r, "reading agreement", agErr[id])
			}
		case !ok:
			for _, r := range rows {
				fail(r, ProblemAgreement, fmt.Sprintf("agreement %d of workspace %s is not in ConnectWise (deleted?)", id, r.Workspace), fixNoAgreement)
			}
		case a.CancelledFlag || (a.AgreementStatus != "" && a.AgreementStatus != "Active"):
			st := a.AgreementStatus
			if st == "" {
				st = "Cancelled"
			}
			for _, r := range rows {
				fail(r, ProblemAgreement, fmt.Sprintf("agreement %d (%s) of workspace %s is %s", id, a.Name, r.Workspace, strings.ToLower(st)), fixNoAgreement)
			}
		default:
			usable[id] = true
			for _, r := range rows {
				if a.Company != nil && a.Company.Identifier != "" && !strings.EqualFold(a.Company.Identifier, r.Company) {
					// Never bill one tenant's usage to another's agreement.
					fail(r, ProblemAgreement, fmt.Sprintf("agreement %d belongs to company %s, not %s", id, a.Company.Identifier, r.Company), fixNoAgreement)
				}
			}
		}
	}

	// Additions: one list call per usable agreement.
	window := e.o.Config.Engine.CreateSearchWindow.Duration
	for _, id := range agIDs {
		if !usable[id] {
			continue
		}
		if ctx.Err() != nil {
			return p, ps, ctx.Err()
		}
		live := []*BillingRow{}
		for _, r := range agRows[id] {
			if r.Action != BillError {
				live = append(live, r)
			}
		}
		if len(live) == 0 {
			continue
		}
		adds, err := c.ActiveAdditions(ctx, id, agItems[id])
		if counted(err, live[0].Workspace) != nil {
			for _, r := range live {
				failCall(r, "listing the additions of agreement "+fmt.Sprint(id), err)
			}
			continue
		}
		for _, r := range live {
			var mine []cwclient.Addition
			for _, a := range adds {
				if a.Product != nil && a.Product.ID == r.ItemID && a.CancelledDate == nil {
					mine = append(mine, a)
				}
			}
			switch len(mine) {
			case 0:
				r.Action = BillCreate
				if m, ok := ps.markers[[2]int{id, r.ItemID}]; ok && !m.UnknownSince.IsZero() {
					if left := m.UnknownSince.Add(window).Sub(p.At); left > 0 {
						r.Action = BillWait
						r.Error = fmt.Sprintf("a create on agreement %d got no answer; searching for it, %s before it may be created again", id, left.Round(time.Second))
					}
				}
			case 1:
				q := int(mine[0].Quantity)
				r.InCW, r.AdditionID = &q, mine[0].ID
				r.Action = BillInStep
				if mine[0].Quantity != float64(r.Wanted) {
					r.Action = BillUpdate
				}
			default:
				ids := make([]string, len(mine))
				for i, a := range mine {
					ids[i] = fmt.Sprint(a.ID)
				}
				fail(r, ProblemSeveralActive, fmt.Sprintf("agreement %d has %d active additions of %s (ids %s)", id, len(mine), r.Identifier, strings.Join(ids, ", ")), fixSeveral)
			}
		}
	}
	p.Calls = int(e.bill.calls.Load() - startCalls)
	p.count()
	return p, ps, nil
}

// failCall marks a row failed by a ConnectWise call.
func failCall(r *BillingRow, doing string, err error) {
	problem, fix := ProblemConnectWise, "it is tried again at the next sync"
	switch cwclient.KindOf(err) {
	case cwclient.KindForbidden:
		problem, fix = ProblemPermission, "give the API member's security role Finance › Agreements: Inquire, Add and Edit = All"
	case cwclient.KindValidation:
		fix = "ConnectWise refused it: see the reason; the other agreements go on"
	}
	r.Action, r.Problem, r.Error, r.Fix = BillError, problem, doing+": "+err.Error(), fix
}
