package intake

import (
	"context"
	"net/http"
	"time"

	"github.com/cwbridge/cwbridge/engine"
)

// Billing is what GET /v1/billing and POST /v1/billing/sync need: the
// engine (see engine.Engine.BillingPlan and SyncBilling).
type Billing interface {
	BillingPlan(ctx context.Context) (engine.BillingPlan, error)
	SyncBilling(ctx context.Context) (engine.BillingPlan, error)
}

// BillingAnswer is the JSON of both billing endpoints: the plan (for a
// sync, with each row's "done"), whether ConnectWise is in step, and the
// error that stopped the work, if any.
type BillingAnswer struct {
	engine.BillingPlan
	InStep bool   `json:"in_step"`
	Error  string `json:"error,omitempty"`
}

// billingTimeout bounds one plan or sync: thousands of agreements at the
// ConnectWise rate ceiling take minutes, more than the server's write
// timeout, which is lifted for these two routes.
const billingTimeout = 30 * time.Minute

func (s *Server) billing(w http.ResponseWriter, r *http.Request, sync bool) {
	if s.o.Billing == nil {
		writeError(w, http.StatusServiceUnavailable, "billing needs the engine; it is not running in this process")
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(billingTimeout + time.Minute))
	var (
		p   engine.BillingPlan
		err error
	)
	if sync {
		// A caller that hangs up does not stop a sync half-way through.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), billingTimeout)
		defer cancel()
		p, err = s.o.Billing.SyncBilling(ctx)
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), billingTimeout)
		defer cancel()
		p, err = s.o.Billing.BillingPlan(ctx)
	}
	if err != nil && len(p.Rows) == 0 {
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, "billing: "+err.Error())
		return
	}
	a := BillingAnswer{BillingPlan: p, InStep: err == nil && p.InStep()}
	if err != nil {
		a.Error = err.Error()
	}
	if a.Rows == nil {
		a.Rows = []engine.BillingRow{}
	}
	writeJSON(w, http.StatusOK, a)
}
