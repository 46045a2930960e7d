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
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/storage/config"
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

	// Dispatch bookkeeping (dispatcher goroutine only, plus inflight under mu).
	mu       sync.Mutex
	inflight map[uint64]string // seq → key
	itemKeys map[uint64]string // seq → key, a cache to avoid rereading incidents

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
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	h := Health{
		ConnectWise: e.cwState, Paused: e.paused, PauseReason: e.pauseReason,
		Queue: e.store.QueueLen(), Retries: e.retries.Load(),
		LastError: e.lastErr, LastErrorAt: e.lastErrAt,
		CompanyErrors: make(map[string]string, len(e.companyErrs)),
	}
	for k, v := range e.companyErrs {
		h.CompanyErrors[k] = v
	}
	if failed, err := e.store.FailedItems(); err == nil {
		h.Failed = len(failed)
	}
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
	queues := make([]chan storage.OutboxItem, workers)
	var wg sync.WaitGroup
	// Work runs under its own context so a stop can give in-flight calls
	// a grace period instead of cutting them mid-request.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	for i := range queues {
		queues[i] = make(chan storage.OutboxItem, 64)
		wg.Add(1)
		go func(q chan storage.OutboxItem) {
			defer wg.Done()
			for it := range q {
				e.process(workCtx, it)
				e.mu.Lock()
				delete(e.inflight, it.Seq)
				delete(e.itemKeys, it.Seq)
				e.mu.Unlock()
				e.poke()
			}
		}(queues[i])
	}
	wg.Add(2)
	go func() { defer wg.Done(); e.actions.run(ctx) }()
	go func() { defer wg.Done(); e.probe(ctx) }()

	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		if !e.isPaused() {
			e.dispatch(queues)
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-tick.C:
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

// dispatch hands due items to workers. Items of one key always go to the
// same worker and never overtake an earlier item of that key that is in
// flight or waiting for a retry, so a resolve cannot pass its trigger.
func (e *Engine) dispatch(queues []chan storage.OutboxItem) {
	items, err := e.store.PeekDue(farFuture, dispatchScan)
	if err != nil && len(items) == 0 {
		e.log.Error("reading the outbox", "err", err)
		return
	}
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	blocked := map[string]bool{}
	for _, k := range e.inflight {
		blocked[k] = true
	}
	for _, it := range items {
		if _, busy := e.inflight[it.Seq]; busy {
			continue
		}
		key := e.itemKey(it)
		if blocked[key] {
			continue
		}
		if it.NextAttemptAt.After(now) {
			// A timer (fold flush) does not hold back its key; a retry does.
			if it.Kind != storage.OutboxFlush {
				blocked[key] = true
			}
			continue
		}
		q := queues[shard(key, len(queues))]
		select {
		case q <- it:
			e.inflight[it.Seq] = key
			blocked[key] = true
		default:
			blocked[key] = true // that worker is full; later items of the key wait
		}
	}
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
		k = "action:" + it.Ref
	case storage.OutboxUsage:
		k = "usage:" + it.Ref
	}
	if len(e.itemKeys) > 100_000 {
		clear(e.itemKeys)
	}
	e.itemKeys[it.Seq] = k
	return k
}

// incidentKey is the dedup key: the given one, or company|type|title.
func incidentKey(inc storage.Incident) string {
	if inc.Key != "" {
		return inc.Key
	}
	return inc.Company + "|" + inc.Type + "|" + inc.Title
}

// probe checks the credentials while paused, so forwarding resumes by
// itself once an admin fixes the API member.
func (e *Engine) probe(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
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
		_, err = c.SystemInfo(pctx)
		if err == nil {
			_, err = cwclient.Collect(c.Tickets(pctx, cwclient.Query{Fields: []string{"id"}, PageSize: 1}))
		}
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

// process runs one outbox item and acks, reschedules or fails it.
func (e *Engine) process(ctx context.Context, it storage.OutboxItem) {
	var err error
	switch it.Kind {
	case storage.OutboxIncident:
		err = e.processIncident(ctx, it)
	case storage.OutboxFlush:
		err = e.flushKey(ctx, it.Ref, it.Attempts > 0)
	case storage.OutboxAction:
		err = e.actions.process(ctx, it)
	case storage.OutboxUsage:
		// Wanted usage lives in storage's usage table, which the billing
		// sync reads; an item here carries nothing more.
		err = nil
	default:
		err = permanent(fmt.Errorf("unknown outbox item kind %q", it.Kind))
	}
	e.settle(it, err)
}

// settle records an item's outcome.
func (e *Engine) settle(it storage.OutboxItem, err error) {
	var p *permanentError
	switch {
	case err == nil:
		if aerr := e.store.Ack(it.Seq); aerr != nil && !errors.Is(aerr, storage.ErrNotFound) {
			e.log.Error("ack", "seq", it.Seq, "err", aerr)
		}
	case errors.As(err, &p) || it.Attempts+1 >= e.o.MaxAttempts:
		e.fail(it, err)
	case errors.Is(err, errRescheduled):
	case isPause(err) || errors.Is(err, context.Canceled):
		// Not the item's fault: try again once forwarding resumes, without
		// spending an attempt.
	default:
		e.retries.Add(1)
		e.m.retries.Inc()
		next := e.o.Now().Add(backoff(e.o.RetryBase, e.o.RetryMax, it.Attempts))
		if rerr := e.store.Reschedule(it.Seq, next, err.Error()); rerr != nil {
			e.log.Error("reschedule", "seq", it.Seq, "err", rerr)
		}
	}
}

func backoff(base, cap time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > cap {
		d = cap
	}
	return d/2 + time.Duration(int64(d/2)*int64(fnvJitter(attempt))/1000)
}

// fnvJitter is a cheap deterministic-enough spread in [0, 1000).
func fnvJitter(n int) int {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d-%d", n, time.Now().UnixNano())
	return int(h.Sum32() % 1000)
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
