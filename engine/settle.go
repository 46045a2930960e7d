package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// process runs one outbox item and acks, reschedules or fails it. It
// reports whether the item is finished (done or given up on).
func (e *Engine) process(ctx context.Context, it storage.OutboxItem) bool {
	var err error
	a := &ack{seq: it.Seq}
	switch it.Kind {
	case storage.OutboxIncident:
		err = e.processIncident(ctx, it, a)
	case storage.OutboxFlush:
		err = e.flushKey(ctx, it.Ref, it.Attempts > 0, a)
	case storage.OutboxAction:
		err = e.actions.process(ctx, it, a)
	case storage.OutboxLink:
		err = e.processLink(ctx, it, a)
	case storage.OutboxUsage:
		// Wanted usage lives in storage's usage table, which the billing
		// sync reads; an item here carries nothing more.
		err = nil
	default:
		err = permanent(fmt.Errorf("unknown outbox item kind %q", it.Kind))
	}
	finished := e.settle(it, a, err)
	e.healthChanged()
	return finished
}

// settle records an item's outcome and reports whether the item is
// finished: acked or failed, not waiting for a retry or a resume. An item
// its handler's commit already acked is not acked again.
func (e *Engine) settle(it storage.OutboxItem, a *ack, err error) bool {
	var p *permanentError
	switch {
	case err == nil && a.done:
		return true
	case err == nil:
		if aerr := e.store.Ack(it.Seq); aerr != nil && !errors.Is(aerr, storage.ErrNotFound) {
			e.log.Error("ack", "seq", it.Seq, "err", aerr)
			return false
		}
		return true
	case errors.Is(err, errRescheduled):
	case errors.Is(err, errPaused) || errors.Is(err, context.Canceled):
		// Not the item's fault: forwarding is paused, or stopping. It runs
		// again once forwarding resumes, without spending an attempt.
	case errors.As(err, &p):
		e.fail(it, err)
		return true
	case isPause(err) && refusedForGood(err) && e.refusedAgain(it.Seq):
		// The probe found ConnectWise accepting us and resumed, and this
		// item was refused again at once: a permission only it needs
		// (the probe checks the common ones). Waiting cannot fix that, and
		// pausing again for it would stop every tenant's forwarding.
		e.fail(it, fmt.Errorf("refused again right after ConnectWise accepted the credentials: %w", err))
		return true
	case isPause(err):
		// ConnectWise refused as a whole: not the item's fault. It runs
		// again once forwarding resumes, without spending an attempt. A
		// call that did not report its fault has forwarding paused here,
		// or the item would be handed out again at once.
		if !e.isPaused() {
			e.noteCWResult(err, "")
		}
		if refusedForGood(err) {
			e.pauseCause(it.Seq)
		}
	case !transient(err) && it.Attempts+1 >= e.o.MaxAttempts:
		e.fail(it, err)
		return true
	default:
		// A transient fault (5xx, a lost or broken answer, a create still
		// being looked for) never uses up an item: it is retried, with a
		// capped backoff, for as long as it takes.
		e.reschedule(it, err)
	}
	return false
}

// reschedule records a failed attempt and when to try again (capped
// backoff); the item keeps its place.
func (e *Engine) reschedule(it storage.OutboxItem, err error) {
	e.retries.Add(1)
	e.m.retries.Inc()
	next := e.o.Now().Add(backoff(e.o.RetryBase, e.o.RetryMax, it.Attempts))
	if rerr := e.store.Reschedule(it.Seq, next, err.Error()); rerr != nil {
		e.log.Error("reschedule", "seq", it.Seq, "err", rerr)
	}
}

// refusedForGood: a refusal that, when the probe passes and the item still
// meets it, will not go away by waiting (401, 403, a login page). An
// outage or a throttle does.
func refusedForGood(err error) bool {
	switch cwclient.KindOf(err) {
	case cwclient.KindUnauthorized, cwclient.KindForbidden, cwclient.KindWrongHost:
		return true
	}
	return false
}

func backoff(base, cap time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > cap {
		d = cap
	}
	half := d / 2
	if half <= 0 {
		return half
	}
	return half + rand.N(half) // jitter: in [d/2, d)
}

// isPause: the call failed for a reason that paused forwarding as a whole
// (see noteCWResult), so the item waits for the resume, in its place.
func isPause(err error) bool {
	return systemic(cwclient.KindOf(err)) || errors.Is(err, errPaused)
}

// transient: retrying later can succeed, however often it failed so far.
func transient(err error) bool {
	switch cwclient.KindOf(err) {
	case cwclient.KindServer, cwclient.KindBadResponse, cwclient.KindOutcomeUnknown:
		return true
	}
	return errors.Is(err, errLateCommit) || errors.Is(err, context.DeadlineExceeded)
}

var errPaused = errors.New("forwarding paused")

// permanentError marks work that retrying cannot fix (a route naming a
// board that does not exist, a rejected ticket).
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }

func (p *permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return &permanentError{err} }

// fail parks an item in failed/ and tells the feed.
func (e *Engine) fail(it storage.OutboxItem, err error) {
	e.m.failures.Inc()
	msg := err.Error()
	ferr := e.store.Update(func(t *storage.Tx) error {
		if err := t.MoveToFailed(it.Seq, msg); err != nil {
			return err
		}
		ev := storage.FeedEvent{Kind: storage.FeedFailed, Message: msg}
		if it.Kind == storage.OutboxIncident {
			if inc, err := t.Incident(it.Ref); err == nil {
				ev.IncidentID, ev.Key, ev.Company, ev.Severity, ev.TicketID = inc.ID, storage.KeyOf(inc), inc.Company, inc.Severity, inc.TicketID
				if err := t.SetIncidentState(inc.ID, storage.StateFailed, 0, msg); err != nil {
					return err
				}
			}
		}
		_, err := t.AppendFeed(ev)
		return err
	})
	if ferr != nil {
		e.log.Error("failing an item", "seq", it.Seq, "err", ferr)
	}
	e.log.Warn("gave up on an item", "kind", it.Kind, "ref", it.Ref, "err", msg)
}
