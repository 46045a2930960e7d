package common

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// PageID names a top-level page.
type PageID int

const (
	PageSetup PageID = iota
	PageCompanies
	PageAlerts
	PageFeed
	PageHealth
	PageActivity
	PageBilling
	NumPages
)

var pageNames = [...]string{"Setup", "Companies", "Alerts", "Feed", "Health", "Activity", "Billing"}

func (p PageID) String() string { return pageNames[p] }

// Page is one screen under the root router (soft-serve's component shape,
// with pointer receivers: pages keep their own state).
type Page interface {
	Init() tea.Cmd
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	help.KeyMap
	// Capturing reports that a text field has focus, so the root leaves
	// printable keys (q, ?, 1-6) to the page.
	Capturing() bool
	// Dirty reports unsaved edits; quitting then asks first.
	Dirty() bool
}

// PageMsg routes an async result to the page that asked for it, even when
// the user has moved to another page meanwhile (gh-dash's section
// messages).
type PageMsg struct {
	Page PageID
	Msg  tea.Msg
}

// Route wraps cmd so its result is delivered to page.
func Route(page PageID, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		if msg == nil {
			return nil
		}
		return PageMsg{Page: page, Msg: msg}
	}
}

// HealthMsg carries a fresh engine health snapshot to every page.
type HealthMsg struct{ Health Health }
