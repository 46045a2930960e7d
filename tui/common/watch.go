package common

import (
	"reflect"
	"sync/atomic"
	"time"

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

// WatchGap spaces one watch's deliveries: a burst (the engine ticketing a
// hundred incidents a second) is ten redraws a second per session, not a
// hundred, so twenty sessions on the live feed leave the engine its CPU
// (BenchmarkSessionsWatchingFeed in cmd/cwbridge). Changes meanwhile queue
// in the subscription and arrive together.
const WatchGap = 100 * time.Millisecond

// Watch subscribes to storage changes for page. Delivery never blocks the
// writer (storage drops and counts for a slow reader); this side takes
// whatever is queued in one message, at most one per WatchGap.
func Watch(c *Common, page PageID, kinds ...storage.ChangeKind) tea.Cmd {
	ch := c.Store.Subscribe(c.Ctx, kinds...)
	var last atomic.Int64 // when the previous message was delivered (UnixNano)
	var wait tea.Cmd
	wait = watching(Route(page, func() tea.Msg {
		first, ok := <-ch
		if !ok {
			return nil
		}
		if d := WatchGap - time.Since(time.Unix(0, last.Load())); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.Ctx.Done():
				t.Stop()
				return nil
			}
		}
		defer func() { last.Store(time.Now().UnixNano()) }()
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
	}))
	return wait
}

// watching marks cmd as a subscription's wait, which blocks until the
// next change (IsWatch tells it apart by the closure's code, so it must
// not be inlined: each inlined copy would have its own).
//
//go:noinline
func watching(cmd tea.Cmd) tea.Cmd { return func() tea.Msg { return cmd() } }

var watchCode = reflect.ValueOf(watching(nil)).Pointer()

// Waiting marks cmd as a wait on a stream that may not deliver for a long
// time (the engine's health pushes), like Watch's: drivers do not wait
// for it.
func Waiting(cmd tea.Cmd) tea.Cmd { return watching(cmd) }

// IsWatch reports whether cmd waits on a subscription (from Watch or a
// ChangesMsg's Next). A test driver runs everything else to completion and
// leaves these alone, instead of waiting for an idle timeout.
func IsWatch(cmd tea.Cmd) bool { return cmd != nil && reflect.ValueOf(cmd).Pointer() == watchCode }
