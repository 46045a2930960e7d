// Package engine forwards incidents to ConnectWise: one ticket per open
// incident key, repeats folded into notes, resolves closing the ticket,
// and resolution-note actions run and answered.
//
// Everything it does is driven by the durable outbox in storage, so a
// crash at any point repeats unfinished work instead of losing it. Work
// that could create a ticket twice is guarded by a pending-create marker
// written before the call and a search by externalXRef after any doubt.
package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// Options configure an Engine. Store and Config are required.
type Options struct {
	Store  *storage.Store
	Config *config.Config // engine, actions; routes, workspaces and the connection are read from Store
	Logger *slog.Logger
	Now    func() time.Time

	// FoldWindow is how long repeats of an open key are gathered into
	// one note (default 60s).
	FoldWindow time.Duration
	// PollInterval is how often tickets are checked for action notes
	// (default 30s).
	PollInterval time.Duration
	// ProbeInterval is how often ConnectWise is probed while forwarding is
	// paused on a 401/403, so it resumes by itself (default 5s).
	ProbeInterval time.Duration
	// MaxAttempts before an item is failed (default 8).
	MaxAttempts int
	// RetryBase and RetryMax bound the backoff between attempts.
	RetryBase, RetryMax time.Duration
	// ClientConfig, when set, adjusts the ConnectWise client (tests).
	ClientConfig func(*cwclient.Config)
	// Registry receives the engine's metrics (nil: none registered).
	Registry prometheus.Registerer
}

// Engine is the forwarding engine. Its methods are safe for concurrent use.
type Engine struct {
	o     Options
	store *storage.Store
	log   *slog.Logger
	m     *metrics

	clientMu sync.RWMutex
	client   *cwclient.Client
	clientOK string // "" or why there is no client

	wake chan struct{}

	// Pause state: 401/403 stop forwarding until credentials work again.
	pauseMu     sync.Mutex
	paused      bool
	pauseReason string
	cwState     string // ok|unauthorized|forbidden|unreachable|unconfigured
	lastErr     string
	lastErrAt   time.Time
	companyErrs map[string]string

	retries atomic.Int64

	// Dispatch bookkeeping, under mu.
	mu       sync.Mutex
	inflight map[uint64]string // seq → key
	keyBusy  map[string]int    // key → items of it in flight
	itemKeys map[uint64]string // seq → key, a cache to avoid rereading incidents
	pass     uint64            // dispatch passes so far

	resolver *resolver
	actions  *actionPoller
}

// Health is what the health view and /healthz show.
type Health struct {
	ConnectWise   string // ok|unauthorized|forbidden|unreachable|unconfigured
	Paused        bool
	PauseReason   string
	Queue, Failed int
	Retries       int64
	LastError     string
	LastErrorAt   time.Time
	CompanyErrors map[string]string // workspace or company → last error
}

// New builds an engine. It does no I/O with ConnectWise.
func New(o Options) (*Engine, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("engine: Store and Config are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FoldWindow <= 0 {
		o.FoldWindow = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	e := &Engine{
		o: o, store: o.Store, log: o.Logger,
		wake:        make(chan struct{}, 1),
		cwState:     "unconfigured",
		companyErrs: map[string]string{},
		inflight:    map[uint64]string{},
		keyBusy:     map[string]int{},
		itemKeys:    map[uint64]string{},
	}
	e.m = newMetrics(o.Registry, e)
	e.resolver = newResolver(e)
	e.actions = newActionPoller(e)
	e.Reconnect()
	return e, nil
}

// Reconnect rebuilds the ConnectWise client from the stored connection
// (after the wizard saved new credentials) and lifts a pause.
func (e *Engine) Reconnect() {
	conn, err := e.store.Connection()
	var c *cwclient.Client
	why := ""
	switch {
	case errors.Is(err, storage.ErrNotFound):
		why = "no ConnectWise connection configured"
	case err != nil:
		why = "cannot read the ConnectWise connection: " + err.Error()
	default:
		cfg := cwclient.Config{
			Site: conn.Site, CompanyID: conn.CompanyID, PublicKey: conn.PublicKey,
			PrivateKey: conn.PrivateKey.Reveal(), ClientID: conn.ClientID, APIVersion: conn.APIVersion,
			MaxRequestsPerMinute: e.o.Config.Engine.MaxRequestsPerMinute,
			Logger:               e.log, UserAgent: "cwbridge",
			Retry: cwclient.RetryPolicy{MaxAttempts: 3},
		}
		if e.o.ClientConfig != nil {
			e.o.ClientConfig(&cfg)
		}
		if c, err = cwclient.New(cfg); err != nil {
			why = err.Error()
			c = nil
		}
	}
	e.clientMu.Lock()
	if c != nil && e.client != nil {
		// ConnectWise throttles the member, not our client object.
		c.HoldUntil(e.client.HeldUntil())
	}
	e.client, e.clientOK = c, why
	e.clientMu.Unlock()
	e.resolver.reset()
	e.pauseMu.Lock()
	if c == nil {
		e.cwState, e.paused, e.pauseReason = "unconfigured", true, why
	} else {
		e.cwState, e.paused, e.pauseReason = "ok", false, ""
	}
	e.pauseMu.Unlock()
	e.poke()
}

func (e *Engine) cw() (*cwclient.Client, error) {
	e.clientMu.RLock()
	defer e.clientMu.RUnlock()
	if e.client == nil {
		return nil, errors.New(e.clientOK)
	}
	return e.client, nil
}

// Client returns the current ConnectWise client, nil when unconfigured.
func (e *Engine) Client() *cwclient.Client {
	c, _ := e.cw()
	return c
}

// Health reports the engine's state.
func (e *Engine) Health() Health {
	h := Health{Queue: e.store.QueueLen(), Retries: e.retries.Load()}
	// Read outside pauseMu: workers take it after every ConnectWise call.
	if failed, err := e.store.FailedItems(); err == nil {
		h.Failed = len(failed)
	}
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	h.ConnectWise, h.Paused, h.PauseReason = e.cwState, e.paused, e.pauseReason
	h.LastError, h.LastErrorAt = e.lastErr, e.lastErrAt
	h.CompanyErrors = maps.Clone(e.companyErrs)
	return h
}

// Submit stores incidents durably (as the intake does) and wakes the engine.
func (e *Engine) Submit(ctx context.Context, incs []storage.Incident) (accepted, duplicates int, err error) {
	accepted, duplicates, err = e.store.EnqueueIncidents(ctx, incs)
	if accepted > 0 {
		e.poke()
	}
	return accepted, duplicates, err
}

// Poke wakes the dispatcher (new work arrived). It never blocks.
func (e *Engine) Poke() { e.poke() }

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// noteCWResult records how the last ConnectWise call went, for health, and
// pauses forwarding on 401/403.
func (e *Engine) noteCWResult(err error, company string) {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	if err == nil {
		if e.cwState != "ok" && !e.paused {
			e.cwState = "ok"
		}
		if company != "" {
			delete(e.companyErrs, company)
		}
		return
	}
	e.lastErr, e.lastErrAt = err.Error(), e.o.Now()
	switch cwclient.KindOf(err) {
	case cwclient.KindUnauthorized:
		e.cwState, e.paused, e.pauseReason = "unauthorized", true, "ConnectWise rejected the credentials: "+err.Error()
	case cwclient.KindForbidden:
		e.cwState, e.paused, e.pauseReason = "forbidden", true, "the API member's security role refused: "+err.Error()
	case cwclient.KindNetwork, cwclient.KindWrongHost:
		e.cwState = "unreachable"
	}
	if company != "" && !e.paused {
		e.companyErrs[company] = err.Error()
	}
}

func (e *Engine) isPaused() bool {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	return e.paused
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
	wg.Add(2)
	go func() { defer wg.Done(); e.actions.run(ctx) }()
	go func() { defer wg.Done(); e.probe(ctx) }()

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

// dispatchScan bounds how far into the outbox one pass looks.
const dispatchScan = 2000

// maxBatch bounds the items of one key one pass hands out, and
// workerQueue the items waiting for one worker.
const (
	maxBatch    = 32
	workerQueue = 256
)

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
	delete(e.itemKeys, w.it.Seq)
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

// dispatch hands due items to workers. Items of one key always go to the
// same worker, in order, and never overtake an earlier item of that key
// that is in flight or waiting for a retry, so a resolve cannot pass its
// trigger. A pass hands out up to maxBatch consecutive items of a free key
// at once (the worker runs them in order and holds back the rest of the
// batch if one is not finished), so a storm on few keys does not cost a
// pass over the outbox per item. It returns when the earliest item it saw
// waiting for its time is due (zero if none).
func (e *Engine) dispatch(queues []chan work) (next time.Time) {
	items, err := e.store.PeekDue(farFuture, dispatchScan)
	if err != nil && len(items) == 0 {
		e.log.Error("reading the outbox", "err", err)
		return next
	}
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pass++
	blocked := map[string]bool{}
	for k := range e.keyBusy {
		blocked[k] = true // items from an earlier pass are in flight
	}
	// A key with an item waiting for its retry runs nothing before that
	// retry, not even a fold timer (which may sit ahead of it): the retry
	// must be the next to touch the key, or a timer could post, a second
	// time, the very note whose lost answer the retry is about to look for
	// (or repeats folded in meanwhile would change the note it looks for).
	// Note when the first waiting item is due.
	retrying := map[string]bool{}
	for _, it := range items {
		if _, busy := e.inflight[it.Seq]; busy {
			continue
		}
		notDue := it.NextAttemptAt.After(now)
		if notDue && (next.IsZero() || it.NextAttemptAt.Before(next)) {
			next = it.NextAttemptAt
		}
		if it.Attempts > 0 || notDue && it.Kind != storage.OutboxFlush {
			key := e.itemKey(it)
			retrying[key] = true
			if notDue {
				blocked[key] = true
			}
		}
	}
	handed := map[string]int{}
	for _, it := range items {
		if _, busy := e.inflight[it.Seq]; busy {
			continue
		}
		key := e.itemKey(it)
		if blocked[key] {
			continue
		}
		if it.NextAttemptAt.After(now) {
			// A timer (fold flush) waiting for its time does not hold back
			// its key; a retry (a flush's too) held it back above.
			continue
		}
		if retrying[key] && it.Kind == storage.OutboxFlush && it.Attempts == 0 {
			continue // a fold timer waits for its key's retry
		}
		if handed[key] >= maxBatch {
			blocked[key] = true
			continue
		}
		q := queues[shard(key, len(queues))]
		select {
		case q <- work{it: it, key: key, pass: e.pass}:
			e.inflight[it.Seq] = key
			e.keyBusy[key]++
			handed[key]++
		default:
			blocked[key] = true // that worker is full; later items of the key wait
		}
	}
	return next
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func shard(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// itemKey is the ordering key of an item: the incident key for incidents
// and flushes, the ticket for actions. Caller holds e.mu.
func (e *Engine) itemKey(it storage.OutboxItem) string {
	if k, ok := e.itemKeys[it.Seq]; ok {
		return k
	}
	k := it.Ref
	switch it.Kind {
	case storage.OutboxIncident:
		if inc, err := e.store.Incident(it.Ref); err == nil {
			k = incidentKey(inc)
		}
	case storage.OutboxAction:
		ticket, _, _ := strings.Cut(it.Ref, "/") // Ref is ticket/note
		k = "action:" + ticket
	case storage.OutboxUsage:
		k = "usage:" + it.Ref
	}
	if len(e.itemKeys) > 100_000 {
		clear(e.itemKeys)
	}
	e.itemKeys[it.Seq] = k
	return k
}

// incidentKey is the dedup key: the given one, or the default the intake
// would have given it.
func incidentKey(inc storage.Incident) string {
	if inc.Key != "" {
		return inc.Key
	}
	return storage.DefaultIncidentKey(inc.Company, inc.Type, inc.Title)
}

// probe checks the credentials while paused, so forwarding resumes by
// itself once an admin fixes the API member.
func (e *Engine) probe(ctx context.Context) {
	t := time.NewTicker(e.o.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !e.isPaused() {
			continue
		}
		c, err := e.cw()
		if err != nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = probeAccess(pctx, c)
		cancel()
		if err == nil {
			e.pauseMu.Lock()
			e.paused, e.pauseReason, e.cwState = false, "", "ok"
			e.pauseMu.Unlock()
			e.log.Info("ConnectWise accepts the credentials again; forwarding resumes")
			e.poke()
		} else {
			e.noteCWResult(err, "")
		}
	}
}

// probeAccess checks what forwarding needs: the credentials, reading
// tickets, and the security-role levels for the writes (which a probe must
// not try), so a role that still refuses to add tickets keeps the pause
// instead of resuming into the same 403 every probe.
func probeAccess(ctx context.Context, c *cwclient.Client) error {
	if _, err := c.SystemInfo(ctx); err != nil {
		return err
	}
	// One record is enough: Collect would page through every ticket.
	for _, err := range c.Tickets(ctx, cwclient.Query{Fields: []string{"id"}, PageSize: 1}) {
		if err != nil {
			return err
		}
		break
	}
	roles, err := c.MySecurity(ctx)
	if err != nil {
		return nil // the role is unreadable: let forwarding try
	}
	for _, need := range []struct{ function, level string }{
		{"Service Tickets", "add"}, {"Service Tickets", "edit"}, {"Service Tickets", "inquire"}, {"Table Setup", "inquire"},
	} {
		for _, r := range roles {
			if !strings.EqualFold(r.ModuleFunctionName, need.function) {
				continue
			}
			lvl := map[string]string{"add": r.AddLevel, "edit": r.EditLevel, "inquire": r.InquireLevel}[need.level]
			if strings.EqualFold(lvl, cwclient.LevelNone) || lvl == "" {
				return &cwclient.Error{Kind: cwclient.KindForbidden, Path: "system/mySecurity",
					Message: fmt.Sprintf("the API member's security role has %s > %s %s level None", r.ModuleName, r.ModuleFunctionName, need.level)}
			}
		}
	}
	return nil
}

// process runs one outbox item and acks, reschedules or fails it. It
// reports whether the item is finished (done or given up on).
func (e *Engine) process(ctx context.Context, it storage.OutboxItem) bool {
	var err error
	switch it.Kind {
	case storage.OutboxIncident:
		err = e.processIncident(ctx, it)
	case storage.OutboxFlush:
		err = e.flushKey(ctx, it.Ref, it.Attempts > 0, it.Seq)
	case storage.OutboxAction:
		err = e.actions.process(ctx, it)
	case storage.OutboxUsage:
		// Wanted usage lives in storage's usage table, which the billing
		// sync reads; an item here carries nothing more.
		err = nil
	default:
		err = permanent(fmt.Errorf("unknown outbox item kind %q", it.Kind))
	}
	return e.settle(it, err)
}

// settle records an item's outcome and reports whether the item is
// finished: acked or failed, not waiting for a retry or a resume.
func (e *Engine) settle(it storage.OutboxItem, err error) bool {
	var p *permanentError
	switch {
	case err == nil:
		if aerr := e.store.Ack(it.Seq); aerr != nil && !errors.Is(aerr, storage.ErrNotFound) {
			e.log.Error("ack", "seq", it.Seq, "err", aerr)
			return false
		}
		return true
	case errors.Is(err, errRescheduled):
	case isPause(err) || errors.Is(err, context.Canceled):
		// Not the item's fault: try again once forwarding resumes, without
		// spending an attempt (and never failing the item for it).
	case errors.As(err, &p) || it.Attempts+1 >= e.o.MaxAttempts:
		e.fail(it, err)
		return true
	default:
		e.retries.Add(1)
		e.m.retries.Inc()
		next := e.o.Now().Add(backoff(e.o.RetryBase, e.o.RetryMax, it.Attempts))
		if rerr := e.store.Reschedule(it.Seq, next, err.Error()); rerr != nil {
			e.log.Error("reschedule", "seq", it.Seq, "err", rerr)
		}
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

func isPause(err error) bool {
	k := cwclient.KindOf(err)
	return k == cwclient.KindUnauthorized || k == cwclient.KindForbidden || errors.Is(err, errPaused)
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
				ev.IncidentID, ev.Key, ev.Company, ev.Severity, ev.TicketID = inc.ID, incidentKey(inc), inc.Company, inc.Severity, inc.TicketID
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
