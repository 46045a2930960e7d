package common

import (
	"context"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
)

// Health is the engine's own report.
type Health = engine.Health

// Backend is what the TUI needs from the forwarding engine.
type Backend interface {
	// WatchHealth delivers the engine's health at once and again whenever
	// it changes, until ctx ends (then the channel closes). Screens wait on
	// it instead of polling.
	WatchHealth(ctx context.Context) <-chan Health
	// SendTestTicket creates one real ticket through the route of alertType
	// for workspace ("" = the fallback company) and returns its id.
	SendTestTicket(ctx context.Context, alertType, workspace string) (ticketID int, err error)
	// Reconnect tells the engine that the stored credentials changed.
	Reconnect()
	// ClientFor is the ConnectWise client for conn: the engine's own for
	// the stored connection, else one behind the same rate ceiling and
	// Retry-After window (the wizard checking unsaved credentials).
	ClientFor(conn storage.Connection) (*cwclient.Client, error)
	// EnsureCatalogItems makes every product mapping a real ConnectWise
	// catalog item (adopting one with the identifier, else creating it)
	// and says what happened to each.
	EnsureCatalogItems(ctx context.Context) []engine.CatalogOutcome

	// BillingStatus is the stored billing picture (no ConnectWise call):
	// subscribe to storage.ChangeUsage and ChangeBilling for changes.
	BillingStatus() (engine.BillingStatus, error)
	// BillingPlan works out, live and changing nothing, what a usage sync
	// would do.
	BillingPlan(ctx context.Context) (engine.BillingPlan, error)
	// SyncBilling applies the plan now (working it out afresh) and returns
	// it with each row's outcome.
	SyncBilling(ctx context.Context) (engine.BillingPlan, error)
}

// The engine is the backend every real session uses.
var _ Backend = (*engine.Engine)(nil)
