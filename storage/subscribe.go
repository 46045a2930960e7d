package storage

import (
	"context"
	"sync"
)

// ChangeKind says what changed.
type ChangeKind string

const (
	ChangeFeed       ChangeKind = "feed"       // a feed event was appended; Change.Event holds it
	ChangeSettings   ChangeKind = "settings"   // Key: one of the Setting names below
	ChangeProducts   ChangeKind = "products"   // Key: product key
	ChangeWorkspaces ChangeKind = "workspaces" // Key: workspace key
	ChangeRoutes     ChangeKind = "routes"     // Key: alert type
	ChangeCompanies  ChangeKind = "companies"  // the company cache was written
	ChangeLookups    ChangeKind = "lookups"    // Key: lookup table name
	ChangeOutbox     ChangeKind = "outbox"     // new work is pending (once per commit, not per item)
	ChangeUsage      ChangeKind = "usage"      // Key: workspace 0x00 product; a wanted quantity was set
	ChangeBilling    ChangeKind = "billing"    // a sync result, catalog outcome or last-sync summary was written
)

// The settings records, by their key in settings/ and in ChangeSettings.
const (
	SettingConnection    = "connectwise"
	SettingIntake        = "intake"
	SettingOnboarding    = "onboarding"
	SettingAgreementType = "agreement_type"
)

// Change is one notification. Missed counts the changes this subscriber lost
// to a full buffer since its previous delivered one; non-zero means "resync
// from the store".
type Change struct {
	Kind   ChangeKind
	Key    string
	Event  FeedEvent // set for ChangeFeed
	Missed uint64
}

// Subscribe delivers changes of the given kinds (all kinds if none) after
// they commit. Delivery never blocks a writer: when the subscriber's buffer
// is full the change is dropped and counted in the next delivered Change.
// The channel is closed when ctx ends or the store closes.
func (s *Store) Subscribe(ctx context.Context, kinds ...ChangeKind) <-chan Change {
	sub := &subscriber{ch: make(chan Change, s.hub.buf), gone: make(chan struct{})}
	if len(kinds) > 0 {
		sub.kinds = make(map[ChangeKind]bool, len(kinds))
		for _, k := range kinds {
			sub.kinds[k] = true
		}
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed || !s.hub.add(sub) {
		close(sub.ch)
		return sub.ch
	}
	go func() {
		select {
		case <-ctx.Done():
			s.hub.remove(sub)
		case <-sub.gone:
		}
	}()
	return sub.ch
}

type subscriber struct {
	ch     chan Change
	kinds  map[ChangeKind]bool // nil: all
	missed uint64              // guarded by hub.mu
	gone   chan struct{}       // closed on removal, ends the ctx watcher
}

type hub struct {
	mu     sync.Mutex
	buf    int
	subs   map[*subscriber]struct{}
	closed bool
}

func (h *hub) init(buf int) {
	h.buf = buf
	h.subs = make(map[*subscriber]struct{})
}

func (h *hub) add(sub *subscriber) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.subs[sub] = struct{}{}
	return true
}

func (h *hub) remove(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
		close(sub.gone)
	}
}

// publish never blocks: a full buffer drops and counts.
func (h *hub) publish(cs []Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		for _, c := range cs {
			if sub.kinds != nil && !sub.kinds[c.Kind] {
				continue
			}
			c.Missed = sub.missed
			select {
			case sub.ch <- c:
				sub.missed = 0
			default:
				sub.missed++
			}
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
		close(sub.gone)
	}
}
