package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// billingState serialises plans and syncs: two syncs at once could both
// see no addition and both create one.
type billingState struct {
	mu    sync.Mutex
	kick  chan struct{} // RequestBillingSync
	calls atomic.Int64  // ConnectWise calls billing made (billNote)
}

// billNote records a billing call's result for health, as every call does,
// and counts it for the plan's Calls.
func (e *Engine) billNote(err error, company string) {
	e.bill.calls.Add(1)
	e.noteCWResult(err, company)
}

// Results of a sync on a row (BillingRow.Done).
const (
	DoneCreated = "created"
	DoneUpdated = "updated"
	DoneUnknown = "unknown" // the create got no answer: searched for next time
	DoneFailed  = "failed"
	DoneSkipped = "skipped" // not tried: ConnectWise paused or the sync was stopped
)

// errBillingStopped: the sync stopped before every change was tried.
var errBillingStopped = errors.New("billing sync stopped early")

// SyncBilling makes ConnectWise match the plan now: catalog items first,
// then for every (agreement, product) exactly one active addition at the
// wanted quantity. It returns the plan with each row's Done. A validation
// error on one agreement fails that agreement's rows only. An addition is
// POSTed only after a marker is on disk, and while a create's outcome is
// unknown the addition is searched for, never created again, for the create
// search window.
func (e *Engine) SyncBilling(ctx context.Context) (BillingPlan, error) {
	e.bill.mu.Lock()
	defer e.bill.mu.Unlock()
	c, err := e.billingClient()
	if err != nil {
		return BillingPlan{At: e.o.Now()}, err
	}
	p, ps, err := e.plan(ctx, c, true)
	if err != nil {
		return p, err
	}
	start := e.bill.calls.Load() - int64(p.Calls)
	applyErr := e.apply(ctx, c, &p)
	p.Calls = int(e.bill.calls.Load() - start)
	if err := e.recordSync(p, ps); err != nil {
		return p, fmt.Errorf("recording the billing sync: %w", err)
	}
	p.LastSync = e.o.Now()
	return p, applyErr
}

// RequestBillingSync asks the background loop for a sync soon; it never
// blocks.
func (e *Engine) RequestBillingSync() {
	select {
	case e.bill.kick <- struct{}{}:
	default:
	}
}

func (e *Engine) apply(ctx context.Context, c *cwclient.Client, p *BillingPlan) error {
	var stopped error
	for i := range p.Rows {
		r := &p.Rows[i]
		if (r.Action != BillCreate && r.Action != BillUpdate) || r.ItemID == 0 {
			continue // an item not made yet: its rows wait for the next plan
		}
		if stopped == nil && ctx.Err() != nil {
			stopped = fmt.Errorf("%w: %v", errBillingStopped, ctx.Err())
		}
		if stopped == nil && e.isPaused() {
			stopped = fmt.Errorf("%w: ConnectWise calls are paused (%s)", errBillingStopped, e.Health().PauseReason)
		}
		if stopped != nil {
			r.Done = DoneSkipped
			continue
		}
		if r.Action == BillUpdate {
			_, err := c.SetAdditionQuantity(ctx, r.AgreementID, r.AdditionID, float64(r.Wanted))
			e.billNote(err, r.Workspace)
			if err != nil {
				failCall(r, fmt.Sprintf("changing addition %d on agreement %d", r.AdditionID, r.AgreementID), err)
				r.Done = DoneFailed
				continue
			}
			r.Done = DoneUpdated
			continue
		}
		e.createAddition(ctx, c, r)
	}
	return stopped
}

// createAddition POSTs one addition behind a durable marker.
func (e *Engine) createAddition(ctx context.Context, c *cwclient.Client, r *BillingRow) {
	mark := storage.AdditionCreate{AgreementID: r.AgreementID, ItemID: r.ItemID, Workspace: r.Workspace,
		Product: r.Product, Quantity: r.Wanted, Since: e.o.Now()}
	if err := e.store.PutAdditionCreate(mark); err != nil {
		r.Action, r.Problem, r.Error, r.Done = BillError, ProblemConnectWise, "cannot store the create marker: "+err.Error(), DoneFailed
		return
	}
	now := e.o.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	a, err := c.CreateAddition(ctx, r.AgreementID, cwclient.Addition{Product: &cwclient.Ref{ID: r.ItemID},
		Quantity: float64(r.Wanted), BillCustomer: cwclient.BillCustomerBillable, EffectiveDate: &today})
	e.billNote(err, r.Workspace)
	switch {
	case err == nil:
		r.AdditionID, r.Done = a.ID, DoneCreated
		if derr := e.store.DeleteAdditionCreate(r.AgreementID, r.ItemID); derr != nil {
			e.log.Warn("billing: cannot drop a create marker", "agreement", r.AgreementID, "error", derr)
		}
	case outcomeUnknown(err):
		// Remembered on disk: the next sync searches, and creates again only
		// after the create search window.
		mark.UnknownSince = e.o.Now()
		if merr := e.store.PutAdditionCreate(mark); merr != nil {
			e.log.Error("billing: cannot store an unknown create", "agreement", r.AgreementID, "error", merr)
		}
		r.Action, r.Done = BillWait, DoneUnknown
		r.Error = fmt.Sprintf("the create on agreement %d got no answer; it is searched for before any new create", r.AgreementID)
	default:
		if cwclient.KindOf(err) == cwclient.KindValidation {
			// Refused outright: nothing was made.
			_ = e.store.DeleteAdditionCreate(r.AgreementID, r.ItemID)
		}
		failCall(r, fmt.Sprintf("creating addition %s on agreement %d", r.Identifier, r.AgreementID), err)
		r.Done = DoneFailed
	}
}

// recordSync writes every row's result, the feed events and the summary in
// one transaction.
func (e *Engine) recordSync(p BillingPlan, ps planState) error {
	sum := storage.BillingSync{At: e.o.Now(), Calls: p.Calls}
	return e.store.Update(func(t *storage.Tx) error {
		for _, r := range p.Rows {
			if q, ok := ps.seats[[2]string{r.Workspace, r.Product}]; ok {
				if _, err := t.SetWantedSeats(r.Workspace, r.Product, q); err != nil {
					return err
				}
			}
			if r.Done == DoneSkipped {
				continue
			}
			prev, _ := t.Usage(r.Workspace, r.Product)
			errText := ""
			switch {
			case r.Done == DoneCreated || r.Done == DoneUpdated || r.Action == BillInStep:
				if r.AdditionID > 0 {
					// Found (or made): a marker left by a crash is settled.
					if err := t.DeleteAdditionCreate(r.AgreementID, r.ItemID); err != nil {
						return err
					}
				}
			default:
				errText = r.Change()
			}
			if _, err := t.RecordUsageSync(r.Workspace, r.Product, r.Wanted, errText); err != nil {
				return err
			}
			msg := ""
			switch r.Done {
			case DoneCreated:
				sum.Created++
				msg = fmt.Sprintf("%s: addition %s created on agreement %d, quantity %d", r.Workspace, r.Identifier, r.AgreementID, r.Wanted)
			case DoneUpdated:
				sum.Changed++
				msg = fmt.Sprintf("%s: addition %s on agreement %d changed %d → %d", r.Workspace, r.Identifier, r.AgreementID, *r.InCW, r.Wanted)
			}
			if errText != "" {
				sum.Errors++
				if errText != prev.LastError {
					msg = fmt.Sprintf("%s: %s not billed: %s", r.Workspace, r.Product, errText)
				}
			}
			if msg != "" {
				if _, err := t.AppendFeed(storage.FeedEvent{Kind: storage.FeedBilling, Company: r.Workspace, Key: r.Product, Message: msg}); err != nil {
					return err
				}
			}
		}
		return t.SetLastBillingSync(sum)
	})
}

// Background sync timing (Options.BillingDebounce, BillingRetry).
const (
	defaultBillingDebounce = 5 * time.Second
	maxBillingDelay        = 6 // × debounce: a steady trickle of usage still syncs
	defaultBillingRetry    = time.Minute
)

// billingLoop syncs on the [billing] interval, shortly after usage (or a
// workspace or product) changes, and when asked. It starts with one sync
// soon after start, so catalog items are made real when serve starts and
// nothing owed before a restart is forgotten.
func (e *Engine) billingLoop(ctx context.Context) {
	changes := e.store.Subscribe(ctx, storage.ChangeUsage, storage.ChangeWorkspaces, storage.ChangeProducts)
	interval := e.o.Config.Billing.Interval.Duration
	if interval <= 0 {
		interval = time.Hour
	}
	debounce, retry := e.o.BillingDebounce, e.o.BillingRetry
	due := time.Now().Add(debounce)
	var first time.Time // first change of a burst
	timer := time.NewTimer(debounce)
	defer timer.Stop()
	for {
		timer.Reset(max(time.Until(due), 0))
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			due = now.Add(debounce)
			if late := first.Add(maxBillingDelay * debounce); late.Before(due) {
				due = late
			}
		case <-e.bill.kick:
			due = time.Now()
		case <-timer.C:
			first = time.Time{}
			due = time.Now().Add(interval)
			if maps, err := e.store.ProductMappings(); err == nil && len(maps) == 0 {
				continue // nothing billed
			}
			p, err := e.SyncBilling(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil || needsRetry(p) {
				if err != nil {
					e.log.Warn("billing sync incomplete; trying again", "in", retry, "error", err)
				}
				due = time.Now().Add(min(retry, interval))
			}
		}
	}
}

// needsRetry: some rows failed for a passing reason (ConnectWise trouble,
// a create waiting to be found) rather than a setup problem.
func needsRetry(p BillingPlan) bool {
	for _, r := range p.Rows {
		if r.Action == BillWait || r.Problem == ProblemConnectWise {
			return true
		}
	}
	for _, c := range p.Catalog {
		if c.Outcome == storage.CatalogPending {
			return true
		}
	}
	return false
}
