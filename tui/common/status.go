package common

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// StatusMsg is a short-lived message for the root's one status line
// (pug's message bar): it replaces the previous one and clears itself.
type StatusMsg struct {
	Text string
	Err  bool
}

// How long a status shows: errors stay longer, to be read.
const (
	StatusTimeout    = 5 * time.Second
	StatusErrTimeout = 15 * time.Second
)

// Status is a command that shows text in the status line ("" clears it).
func Status(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return StatusMsg{Text: text, Err: isErr} }
}

// ConfirmMsg asks the root to put a yes/no question on the prompt line;
// y runs Yes, any other key cancels. One prompt for every page, so a page
// never captures keys while asking.
type ConfirmMsg struct {
	Prompt string
	Yes    tea.Cmd
}

// Confirm is a command that asks prompt (the root adds "y/N").
func Confirm(prompt string, yes tea.Cmd) tea.Cmd {
	return func() tea.Msg { return ConfirmMsg{Prompt: prompt, Yes: yes} }
}
