// Package common holds what every screen of the TUI shares: the
// per-session services (no globals: many SSH sessions share one process),
// styles, key bindings, the page contract and routed messages.
package common

import (
	"context"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// Common is one session's services. Pages hold a pointer to it; nothing in
// it is shared between sessions except what the caller passes in (store,
// backend, config), which are safe for concurrent use.
type Common struct {
	Ctx     context.Context
	Store   *storage.Store
	Backend Backend
	Config  *config.Config // may be nil
	Now     func() time.Time
	Styles  *Styles
	Keys    Keys
	Actor   string // audit actor for writes, e.g. "tui:alice"
	// ReadOnly is a viewer's session (an authorized_keys line with
	// role=viewer): everything shows, nothing changes (see Refuse).
	ReadOnly bool

	// NewClient gives the ConnectWise client for a connection: the
	// Backend's ClientFor (one rate ceiling and Retry-After window for the
	// whole process); tests replace it.
	NewClient func(storage.Connection) (*cwclient.Client, error)

	// NoTicks turns periodic refreshes off: unit tests drive time by
	// sending the tick messages themselves.
	NoTicks bool

	mu       sync.Mutex
	client   *cwclient.Client
	clientOf storage.Connection
}

// Client returns a ConnectWise client for the stored connection, rebuilt
// when the connection changes. Call it only inside a tea.Cmd (it reads the
// store).
func (c *Common) Client() (*cwclient.Client, error) {
	conn, err := c.Store.Connection()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && sameConn(c.clientOf, conn) {
		return c.client, nil
	}
	cl, err := c.NewClient(conn)
	if err != nil {
		return nil, err
	}
	c.client, c.clientOf = cl, conn
	return cl, nil
}

func sameConn(a, b storage.Connection) bool {
	return a.Site == b.Site && a.CompanyID == b.CompanyID && a.PublicKey == b.PublicKey &&
		a.PrivateKey.Equal(b.PrivateKey) && a.ClientID == b.ClientID && a.APIVersion == b.APIVersion
}

// FromConfigFile says, for a form, that the config file sets this record
// (kind "route" or "workspace", by key) and restarting applies the file
// again over edits made here; "" when the file does not set it.
func (c *Common) FromConfigFile(kind, key string) string {
	if c.Config == nil || c.Config.File == "" {
		return ""
	}
	set := false
	switch kind {
	case "route":
		for _, r := range c.Config.Routes {
			set = set || r.AlertType == key
		}
	case "workspace":
		for _, w := range c.Config.Workspaces {
			set = set || w.Key == key
		}
	}
	if !set {
		return ""
	}
	return "set by " + c.Config.File + ": a restart applies the file's values over edits made here"
}

// Refuse is the answer to a viewer who tries to change something (what,
// e.g. "save routes"), or nil when this session may. Every key that
// changes a setting, retries or discards work, or sends a ticket asks it
// first.
func (c *Common) Refuse(what string) tea.Cmd {
	if !c.ReadOnly {
		return nil
	}
	return Status("read-only: a viewer cannot "+what+" (ask an admin)", true)
}

// Tick schedules one message after d (re-armed by whoever handles it), or
// nothing when ticks are off.
func (c *Common) Tick(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	if c.NoTicks {
		return nil
	}
	return tea.Tick(d, fn)
}

// Since renders how long ago t was, against the injected clock.
func (c *Common) Since(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := c.Now().Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
