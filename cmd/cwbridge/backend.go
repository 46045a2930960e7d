package main

import (
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/tui"
)

// engineBackend gives the TUI the engine's health in the TUI's own terms.
type engineBackend struct{ *engine.Engine }

func (b engineBackend) Health() tui.Health {
	h := b.Engine.Health()
	return tui.Health{
		ConnectWise: h.ConnectWise, Paused: h.Paused, PauseReason: h.PauseReason,
		Queue: h.Queue, Failed: h.Failed, Retries: h.Retries,
		LastError: h.LastError, LastErrorAt: h.LastErrorAt, CompanyErrors: h.CompanyErrors,
	}
}
