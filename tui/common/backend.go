package common

import (
	"context"

	"github.com/cwbridge/cwbridge/engine"
)

// Health is the engine's own report.
type Health = engine.Health

// Backend is what the TUI needs from the forwarding engine.
type Backend interface {
	Health() Health
	// SendTestTicket creates one real ticket through the route of alertType
	// for workspace ("" = the fallback company) and returns its id.
	SendTestTicket(ctx context.Context, alertType, workspace string) (ticketID int, err error)
	// Reconnect tells the engine that the stored credentials changed.
	Reconnect()
}
