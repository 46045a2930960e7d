package common

import (
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/storage"
)

// ChangesMsg carries storage changes to the page that watches them. Next
// re-arms the watch; a page returns it from Update to keep listening.
type ChangesMsg struct {
	Changes []storage.Change
	Missed  bool // the subscription overflowed: reload from the store
	Next    tea.Cmd
}

// maxBatch bounds how many queued changes one message coalesces, so a
// burst is one redraw rather than hundreds.
const maxBatch = 512

// Watch subscribes to storage changes for page. Delivery never blocks the
// writer (storage drops and counts for a slow reader); this side takes
// whatever is queued in one message.
func Watch(c *Common, page PageID, kinds ...storage.ChangeKind) tea.Cmd {
	ch := c.Store.Subscribe(c.Ctx, kinds...)
	var wait tea.Cmd
	wait = Route(page, func() tea.Msg {
		first, ok := <-ch
		if !ok {
			return nil
		}
		msg := ChangesMsg{Changes: []storage.Change{first}, Missed: first.Missed > 0, Next: wait}
		for len(msg.Changes) < maxBatch {
			select {
			case c, ok := <-ch:
				if !ok {
					msg.Next = nil
					return msg
				}
				msg.Changes = append(msg.Changes, c)
				msg.Missed = msg.Missed || c.Missed > 0
			default:
				return msg
			}
		}
		return msg
	})
	return wait
}
