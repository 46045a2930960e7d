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
	"log/slog"
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
	// paused, so it resumes by itself (default 5s); an outage's probes back
	// off from it up to a minute.
	ProbeInterval time.Duration
	// CompanySyncInterval is how often the company cache is brought up
	// to date from ConnectWise (default 5m; negative: never).
	CompanySyncInterval time.Duration
	// MaxAttempts before an item is failed for a fault that is neither
	// transient nor permanent (default 8); transient faults never fail an
	// item, permanent ones at once.
	MaxAttempts int
	// RetryBase and RetryMax bound the backoff between attempts.
	RetryBase, RetryMax time.Duration
	// ClientConfig, when set, adjusts the ConnectWise client (tests).
	ClientConfig func(*cwclient.Config)
	// Registry receives the engine's metrics (nil: none registered).
	Registry prometheus.Registerer
	// BillingDebounce is how long usage must be quiet before the sync it
	// asks for runs (default 5s); BillingRetry how soon a sync that met
	// ConnectWise trouble runs again (default 1m).
	BillingDebounce, BillingRetry time.Duration
	// LinkRefresh is how old a company's cached contacts or configurations
	// must be before a miss reads them again (default DefaultLinkRefresh).
	LinkRefresh time.Duration
	// LinkDirectoryMax caps the contacts kept per company (default
	// DefaultLinkDirectoryMax); a bigger company is searched per name.
	LinkDirectoryMax int
}

// Engine is the forwarding engine. Its methods are safe for concurrent use.
type Engine struct {
	o     Options
	store *storage.Store
	log   *slog.Logger
	m     *metrics

	clientMu   sync.RWMutex
	client     *cwclient.Client
	clientConn storage.Connection // what client was built from
	clientOK   string             // "" or why there is no client
	gate       *cwclient.Gate     // every client's rate ceiling and Retry-After window

	wake chan struct{}

	// Pause state (connection.go): what ConnectWise as a whole is doing.
	pauseMu     sync.Mutex
	paused      bool
	pauseKind   pauseKind
	pauseReason string
	cwState     string // one of the State constants
	lastErr     string
	lastErrAt   time.Time
	companyErrs map[string]string
	serverErrs  int                // troubled calls (5xx, no answer) in a row
	results     [resultWindow]bool // recent calls, true = failed (a ring)
	resultsN    int
	probeWake   chan struct{}
	// cause is the item whose refusal paused forwarding; resumedCause the
	// one of the pause the probe last lifted (see refusedAgain).
	cause, resumedCause uint64

	retries atomic.Int64

	// Dispatch bookkeeping, under mu.
	mu       sync.Mutex
	inflight map[uint64]string // seq → key
	keyBusy  map[string]int    // key → items of it in flight
	pass     uint64            // dispatch passes so far

	resolver *resolver
	links    *linker
	actions  *actionPoller
	health   healthHub
	bill     billingState // billing_sync.go
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
	if o.CompanySyncInterval == 0 {
		o.CompanySyncInterval = defaultCompanySync
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
	if o.BillingDebounce <= 0 {
		o.BillingDebounce = defaultBillingDebounce
	}
	if o.BillingRetry <= 0 {
		o.BillingRetry = defaultBillingRetry
	}
	e := &Engine{
		o: o, store: o.Store, log: o.Logger,
		wake:        make(chan struct{}, 1),
		cwState:     StateUnconfigured,
		probeWake:   make(chan struct{}, 1),
		companyErrs: map[string]string{},
		inflight:    map[uint64]string{},
		keyBusy:     map[string]int{},
		bill:        billingState{kick: make(chan struct{}, 1)},
	}
	e.gate = cwclient.NewGate(o.Config.Engine.MaxRequestsPerMinute)
	e.health.init()
	e.m = newMetrics(o.Registry, e)
	e.resolver = newResolver(e)
	e.links = newLinker(e)
	e.actions = newActionPoller(e)
	e.Reconnect()
	return e, nil
}

// Submit stores incidents durably, as the intake does.
func (e *Engine) Submit(ctx context.Context, incs []storage.Incident) (accepted, duplicates int, err error) {
	// The store's outbox change wakes the dispatcher, as for the intake.
	return e.store.EnqueueIncidents(ctx, incs)
}
