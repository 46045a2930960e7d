package common

import (
	"context"
	"time"
)

// Health mirrors engine.Health so the TUI compiles and tests without the
// engine; cmd/cwbridge adapts the real engine to Backend.
type Health struct {
	ConnectWise   string // ok | unauthorized | forbidden | unreachable | unconfigured
	Paused        bool
	PauseReason   string
	Queue, Failed int
	Retries       int64
	LastError     string
	LastErrorAt   time.Time
	CompanyErrors map[string]string // workspace or CW company → last error
}

// Backend is what the TUI needs from the forwarding engine.
type Backend interface {
	Health() Health
	// SendTestTicket creates one real ticket through the route of alertType
	// for workspace ("" = the fallback company) and returns its id.
	SendTestTicket(ctx context.Context, alertType, workspace string) (ticketID int, err error)
	// Reconnect tells the engine that the stored credentials changed.
	Reconnect()
}
