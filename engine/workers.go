package engine

import (
	"context"
	"sync"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

// poke wakes the dispatcher: a key is free again, or forwarding resumed.
// New work needs no poke: the store's outbox change wakes it. It never
// blocks.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run forwards until ctx ends, then lets in-flight work finish (or park:
// unfinished items stay in the outbox) and returns.
func (e *Engine) Run(ctx context.Context) error {
	workers := max(1, e.o.Config.Engine.Workers)
	queues := make([]chan work, workers)
	var wg sync.WaitGroup
	// Work runs under its own context so a stop can give in-flight calls
	// a grace period instead of cutting them mid-request.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	for i := range queues {
		queues[i] = make(chan work, workerQueue)
		wg.Add(1)
		go func(q chan work) {
			defer wg.Done()
			// stalled: keys whose item of that pass was not finished (a
			// retry, a pause): the rest of the key's batch waits for it.
			stalled := map[string]uint64{}
			for w := range q {
				if p, ok := stalled[w.key]; (ok && p == w.pass) || ctx.Err() != nil {
					// Held back behind its key's unfinished item, or
					// stopping: not run; the outbox keeps it.
					e.release(w)
					continue
				}
				delete(stalled, w.key)
				if !e.process(workCtx, w.it) {
					stalled[w.key] = w.pass
				}
				e.release(w)
			}
		}(queues[i])
	}
	// The engine's background loops, each in its own file: retention,
	// the company cache, contact and configuration links, action notes,
	// the pause probe, health pushes, billing.
	for _, loop := range []func(context.Context){e.retain, e.keepCompanies, e.links.run, e.actions.run, e.probe, e.relayHealth, e.billingLoop} {
		wg.Add(1)
		go func() { defer wg.Done(); loop(ctx) }()
	}
	// New work (the intake's, the engine's own, a retried failed item)
	// wakes the dispatcher through the store's own change events.
	outbox := e.store.Subscribe(ctx, storage.ChangeOutbox)
	// What changed while no engine ran (an item failed by hand) is news
	// to the sessions watching health.
	e.healthChanged()

	// The timer wakes the dispatcher when the next retry or fold flush is
	// due (or after idleWake, as a safety net).
	timer := time.NewTimer(idleWake)
	defer timer.Stop()
	for ctx.Err() == nil {
		wait := idleWake
		if !e.isPaused() {
			if next := e.dispatch(queues); !next.IsZero() {
				wait = min(wait, max(next.Sub(e.o.Now()), time.Millisecond))
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-outbox:
			e.healthChanged()
		case <-timer.C:
		}
	}
	for _, q := range queues {
		close(q)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(7 * time.Second):
		cancelWork() // park what is still running; the outbox keeps it
		<-done
	}
	return nil
}

// work is one item handed to a worker by dispatch pass pass.
type work struct {
	it   storage.OutboxItem
	key  string
	pass uint64
}

// release ends an item's time in flight; when it was the last of its key,
// the dispatcher is woken to hand out the key's next items.
func (e *Engine) release(w work) {
	e.mu.Lock()
	delete(e.inflight, w.it.Seq)
	free := false
	if e.keyBusy[w.key]--; e.keyBusy[w.key] <= 0 {
		delete(e.keyBusy, w.key)
		free = true
	}
	e.mu.Unlock()
	if free {
		e.poke()
	}
}

// idleWake is the longest the dispatcher sleeps without a poke.
const idleWake = 250 * time.Millisecond
