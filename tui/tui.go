// Package tui is cwbridge's terminal UI: a root router over the Setup,
// Companies, Alerts, Feed, Health, Activity and Billing pages (soft-serve's shape), with all
// I/O in commands and per-session state passed in, so many SSH sessions
// can share one process.
package tui

import (
	"context"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
)

// Backend is what the TUI needs from the engine; *engine.Engine is one.
type Backend = common.Backend

// Health mirrors engine.Health.
type Health = common.Health

// Options configure one session.
type Options struct {
	Store   *storage.Store // required
	Backend Backend        // required
	Config  *config.Config // optional: products, rate ceiling
	Actor   string         // audit actor, default "tui"
	// ReadOnly: a viewer's session; every change is refused (Common.Refuse).
	ReadOnly bool
	Now      func() time.Time
	// NewClient gives ConnectWise clients; default Backend.ClientFor, so
	// every session shares the engine's rate ceiling and Retry-After window.
	NewClient func(storage.Connection) (*cwclient.Client, error)
	// Prefill puts these credentials into an empty wizard (the demo).
	Prefill *storage.Connection
	// Banner is shown above the wizard's first step (the demo says where
	// the credentials come from).
	Banner string
	// Version is shown in the header and sent as the User-Agent.
	Version string
	// NoTicks turns periodic refresh off (tests).
	NoTicks bool
	// Light selects styles for a light background until the terminal
	// reports its colour.
	Light bool
}

func newCommon(ctx context.Context, o Options) *common.Common {
	if o.Actor == "" {
		o.Actor = "tui"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewClient == nil && o.Backend != nil {
		o.NewClient = o.Backend.ClientFor
	}
	return &common.Common{
		Ctx: ctx, Store: o.Store, Backend: o.Backend, Config: o.Config, Now: o.Now,
		Styles: common.DefaultStyles(!o.Light), Keys: common.DefaultKeys(), Actor: o.Actor, ReadOnly: o.ReadOnly,
		NewClient: o.NewClient, NoTicks: o.NoTicks,
	}
}
