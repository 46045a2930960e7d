package storage

import (
	"time"
)

// FeedKind is what happened, for the live ticket feed.
type FeedKind string

const (
	FeedCreated  FeedKind = "created"
	FeedNoted    FeedKind = "noted"
	FeedClosed   FeedKind = "closed"
	FeedReopened FeedKind = "reopened"
	FeedAction   FeedKind = "action"
	FeedFailed   FeedKind = "failed"
	FeedDropped  FeedKind = "dropped"
	FeedBilling  FeedKind = "billing" // a catalog item or agreement addition made, changed or refused
)

// FeedEvent is one line of the live feed.
type FeedEvent struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Kind       FeedKind  `json:"kind"`
	Company    string    `json:"company,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	IncidentID string    `json:"incident_id,omitempty"`
	Key        string    `json:"key,omitempty"`
	TicketID   int       `json:"ticket_id,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// AppendFeed adds ev (Seq assigned, Time defaulted to now) and trims the
// oldest events past the cap. Subscribers get it after the commit.
func (t *Tx) AppendFeed(ev FeedEvent) (uint64, error) {
	b, err := getBucket(t.tx, bktFeed)
	if err != nil {
		return 0, err
	}
	if ev.Seq, err = b.NextSequence(); err != nil {
		return 0, err
	}
	if ev.Time.IsZero() {
		ev.Time = t.now
	}
	b.FillPercent = 0.9
	if err := putJSON(t.tx, bktFeed, itob(ev.Seq), ev); err != nil {
		return 0, err
	}
	// Keys are consecutive (only the head is ever deleted), so the count is
	// last-first+1 and trimming needs no scan.
	c := b.Cursor()
	first, _ := c.First()
	for first != nil && len(first) == 8 && ev.Seq-btoi(first)+1 > uint64(t.s.opts.FeedCap) {
		if err := c.Delete(); err != nil {
			return 0, err
		}
		first, _ = c.First()
	}
	t.changed(Change{Kind: ChangeFeed, Event: ev})
	return ev.Seq, nil
}

// Feed returns up to limit events with Seq > after, oldest first. With
// after 0 and limit n it returns the oldest n kept; see RecentFeed for the
// newest. Corrupt events are skipped and reported.
func (t *Tx) Feed(after uint64, limit int) ([]FeedEvent, error) {
	b, err := getBucket(t.tx, bktFeed)
	if err != nil {
		return nil, err
	}
	var out []FeedEvent
	var bad []error
	c := b.Cursor()
	for k, v := c.Seek(itob(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var ev FeedEvent
		if err := decode(bktFeed, k, v, &ev); err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, ev)
	}
	return out, joinErrs(bad)
}

// RecentFeed returns the newest n events, oldest first (what a screen shows).
func (t *Tx) RecentFeed(n int) ([]FeedEvent, error) {
	b, err := getBucket(t.tx, bktFeed)
	if err != nil {
		return nil, err
	}
	var out []FeedEvent
	var bad []error
	c := b.Cursor()
	for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
		var ev FeedEvent
		if err := decode(bktFeed, k, v, &ev); err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, ev)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, joinErrs(bad)
}

func (s *Store) AppendFeed(ev FeedEvent) (uint64, error) {
	return updateGet(s, func(t *Tx) (uint64, error) { return t.AppendFeed(ev) })
}
func (s *Store) Feed(after uint64, limit int) ([]FeedEvent, error) {
	return viewGet(s, func(t *Tx) ([]FeedEvent, error) { return t.Feed(after, limit) })
}
func (s *Store) RecentFeed(n int) ([]FeedEvent, error) {
	return viewGet(s, func(t *Tx) ([]FeedEvent, error) { return t.RecentFeed(n) })
}
