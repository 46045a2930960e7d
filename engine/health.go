package engine

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"time"
)

// Health is what the health view and /healthz show.
type Health struct {
	ConnectWise   string // one of the State constants
	Paused        bool
	PauseReason   string
	Queue, Failed int
	Retries       int64
	LastError     string
	LastErrorAt   time.Time
	CompanyErrors map[string]string // workspace or company → last error
	// ErrorRate is the share of the recent ConnectWise calls that failed
	// for ConnectWise's own reasons (unreachable, 5xx, 429, 401/403).
	ErrorRate float64
	// ThrottledUntil is when the Retry-After window ends (state throttled).
	ThrottledUntil time.Time
}

// Health reports the engine's state. It reads counters and the pause
// state only, so /healthz may call it per request.
func (e *Engine) Health() Health {
	h := Health{Queue: e.store.QueueLen(), Failed: e.store.FailedLen(), Retries: e.retries.Load()}
	e.pauseMu.Lock()
	h.ConnectWise, h.Paused, h.PauseReason = e.cwState, e.paused, e.pauseReason
	h.LastError, h.LastErrorAt = e.lastErr, e.lastErrAt
	h.CompanyErrors = maps.Clone(e.companyErrs)
	h.ErrorRate = e.errorRateLocked()
	e.pauseMu.Unlock()
	if c, err := e.cw(); err == nil && h.ConnectWise == StateThrottled {
		h.ThrottledUntil = c.HeldUntil()
	}
	return h
}

// WatchHealth delivers the engine's health now and again whenever it
// changes, at most every healthEvery, until ctx ends (then the channel is
// closed). Each watcher holds only the latest value: a slow screen skips
// stale ones and never holds back the engine or another session.
func (e *Engine) WatchHealth(ctx context.Context) <-chan Health {
	ch := make(chan Health, 1)
	ch <- e.Health()
	e.health.mu.Lock()
	e.health.subs[ch] = struct{}{}
	e.health.mu.Unlock()
	context.AfterFunc(ctx, func() {
		e.health.mu.Lock()
		delete(e.health.subs, ch)
		e.health.mu.Unlock()
		close(ch)
	})
	e.healthChanged()
	return ch
}

// healthEvery bounds how often health is pushed: a queue draining at
// thousands of items a second still costs a screen four frames.
const healthEvery = 250 * time.Millisecond

// healthHub relays health to the watching sessions (pug's broker).
type healthHub struct {
	mu    sync.Mutex
	subs  map[chan Health]struct{}
	dirty chan struct{} // cap 1: something may have changed
}

func (h *healthHub) init() {
	h.subs = map[chan Health]struct{}{}
	h.dirty = make(chan struct{}, 1)
}

// healthChanged marks health as possibly changed. It never blocks.
func (e *Engine) healthChanged() {
	select {
	case e.health.dirty <- struct{}{}:
	default:
	}
}

// relayHealth pushes health to the watchers when it changed, until ctx ends.
func (e *Engine) relayHealth(ctx context.Context) {
	var last Health
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.health.dirty:
		}
		if h := e.Health(); !reflect.DeepEqual(h, last) {
			last = h
			e.health.publish(h)
		}
		t.Reset(healthEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *healthHub) publish(v Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select { // replace an unread value with the newer one
		case <-ch:
		default:
		}
		ch <- v
	}
}
