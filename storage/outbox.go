package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// OutboxKind says what an outbox item asks the engine to do.
type OutboxKind string

const (
	OutboxIncident OutboxKind = "incident" // Ref: incident id
	OutboxAction   OutboxKind = "action"   // Ref: ticket/note naming an action
	OutboxUsage    OutboxKind = "usage"    // Ref: workspace 0x00 product
	OutboxFlush    OutboxKind = "flush"    // Ref: incident key whose folded repeats are due as a note
	OutboxLink     OutboxKind = "link"     // Ref: incident key whose new ticket still needs its contact/configuration linked
)

// OutboxItem is one piece of pending work. Delivery is at least once: the
// engine acks after the work is done, so a crash repeats it.
type OutboxItem struct {
	Seq  uint64     `json:"seq"` // the key; FIFO order
	Kind OutboxKind `json:"kind"`
	Ref  string     `json:"ref"`
	// Key orders the item among others (the incident key for an incident),
	// written at enqueue so the dispatcher never reads the incident (v3).
	Key           string    `json:"key,omitempty"`
	Attempts      int       `json:"attempts,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	EnqueuedAt    time.Time `json:"enqueued_at,omitzero"`
	FailedAt      time.Time `json:"failed_at,omitzero"`
	// Raw keeps the bytes of a record that could not be decoded when it was
	// moved to failed, so nothing is thrown away unseen.
	Raw string `json:"raw,omitempty"`
}

// Enqueue appends work to the outbox and returns its sequence.
func (t *Tx) Enqueue(kind OutboxKind, ref string) (uint64, error) {
	return t.enqueue(OutboxItem{Kind: kind, Ref: ref, EnqueuedAt: t.now})
}

// EnqueueAt appends work that is not due before at (a timer that survives
// restarts).
func (t *Tx) EnqueueAt(kind OutboxKind, ref string, at time.Time) (uint64, error) {
	return t.enqueue(OutboxItem{Kind: kind, Ref: ref, EnqueuedAt: t.now, NextAttemptAt: at.UTC()})
}

func (t *Tx) enqueue(it OutboxItem) (uint64, error) {
	b, err := getBucket(t.tx, bktPending)
	if err != nil {
		return 0, err
	}
	if it.Seq, err = b.NextSequence(); err != nil {
		return 0, err
	}
	v, err := json.Marshal(it)
	if err != nil {
		return 0, err
	}
	b.FillPercent = 0.9 // keys only grow: pack pages full
	if err := b.Put(itob(it.Seq), v); err != nil {
		return 0, err
	}
	t.pendingDelta++
	t.outboxChanged()
	return it.Seq, nil
}

// outboxChanged tells subscribers the outbox changed: work was added, or
// the failed list changed. Acks and reschedules do not publish: only the
// engine makes them, and it knows.
func (t *Tx) outboxChanged() {
	for _, c := range t.changes {
		if c.Kind == ChangeOutbox {
			return
		}
	}
	t.changed(Change{Kind: ChangeOutbox})
}

// PeekDue returns up to max pending items whose NextAttemptAt is not after
// now, oldest first, without removing them. Corrupt items are skipped and
// reported by bucket and key (move them aside with MoveToFailed). It scans
// past items not yet due, so one dispatcher should own the outbox.
func (t *Tx) PeekDue(now time.Time, max int) ([]OutboxItem, error) {
	b, err := getBucket(t.tx, bktPending)
	if err != nil {
		return nil, err
	}
	var out []OutboxItem
	var bad []error
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
		var it OutboxItem
		if err := decode(bktPending, k, v, &it); err != nil {
			bad = append(bad, err)
			continue
		}
		if len(k) != 8 {
			bad = append(bad, corrupt(bktPending, k, fmt.Errorf("key is %d bytes, want 8", len(k))))
			continue
		}
		it.Seq = btoi(k)
		if it.NextAttemptAt.After(now) {
			continue
		}
		out = append(out, it)
	}
	return out, joinErrs(bad)
}

// Ack removes finished work; ErrNotFound if seq is not pending.
func (t *Tx) Ack(seq uint64) error {
	b, err := getBucket(t.tx, bktPending)
	if err != nil {
		return err
	}
	k := itob(seq)
	if b.Get(k) == nil {
		return notFound(bktPending, k)
	}
	if err := b.Delete(k); err != nil {
		return err
	}
	t.pendingDelta--
	return nil
}

// Reschedule records a failed attempt: attempts+1, the error, and when to
// try again. The item keeps its place in the FIFO.
func (t *Tx) Reschedule(seq uint64, next time.Time, lastErr string) error {
	it, err := t.pendingItem(seq)
	if err != nil {
		return err
	}
	it.Attempts++
	it.NextAttemptAt = next.UTC()
	it.LastError = lastErr
	return putJSON(t.tx, bktPending, itob(seq), it)
}

func (t *Tx) pendingItem(seq uint64) (OutboxItem, error) {
	var it OutboxItem
	err := getJSON(t.tx, bktPending, itob(seq), &it)
	it.Seq = seq
	return it, err
}

// MoveToFailed gives up on pending work, keeping it (with lastErr) in the
// failed list for an admin to retry or discard. A record that no longer
// decodes is moved too, its bytes kept in Raw.
func (t *Tx) MoveToFailed(seq uint64, lastErr string) error {
	pb, err := getBucket(t.tx, bktPending)
	if err != nil {
		return err
	}
	fb, err := getBucket(t.tx, bktFailed)
	if err != nil {
		return err
	}
	k := itob(seq)
	raw := bytes.Clone(pb.Get(k))
	if raw == nil {
		return notFound(bktPending, k)
	}
	var it OutboxItem
	if err := decode(bktPending, k, raw, &it); err != nil {
		it = OutboxItem{Raw: string(raw), LastError: err.Error()}
		if lastErr != "" {
			it.LastError = lastErr + "; " + it.LastError
		}
	} else {
		it.LastError = lastErr
	}
	it.Seq = seq
	it.FailedAt = t.now
	fb.FillPercent = 0.9
	if err := putJSON(t.tx, bktFailed, k, it); err != nil {
		return err
	}
	if err := pb.Delete(k); err != nil {
		return err
	}
	t.pendingDelta--
	t.failedDelta++
	t.outboxChanged()
	return nil
}

// FailedItems lists given-up work, oldest first; corrupt ones are skipped
// and reported.
func (t *Tx) FailedItems() ([]OutboxItem, error) {
	var out []OutboxItem
	err := listJSON(t.tx, bktFailed, func(k, v []byte) error {
		var it OutboxItem
		if err := decode(bktFailed, k, v, &it); err != nil {
			return err
		}
		if len(k) == 8 {
			it.Seq = btoi(k)
		}
		out = append(out, it)
		return nil
	})
	return out, err
}

// RetryFailed puts failed work back at the tail of the outbox, due now, with
// attempts reset. It returns the new sequence.
func (t *Tx) RetryFailed(seq uint64) (uint64, error) {
	var it OutboxItem
	k := itob(seq)
	if err := getJSON(t.tx, bktFailed, k, &it); err != nil {
		return 0, err
	}
	if it.Raw != "" {
		return 0, invalid("failed/%d was unreadable when it failed; discard it", seq)
	}
	fb, err := getBucket(t.tx, bktFailed)
	if err != nil {
		return 0, err
	}
	if err := fb.Delete(k); err != nil {
		return 0, err
	}
	t.failedDelta--
	it.Attempts, it.NextAttemptAt, it.FailedAt = 0, time.Time{}, time.Time{}
	return t.enqueue(it)
}

// DiscardFailed deletes failed work for good; ErrNotFound if absent.
func (t *Tx) DiscardFailed(seq uint64) error {
	fb, err := getBucket(t.tx, bktFailed)
	if err != nil {
		return err
	}
	k := itob(seq)
	if fb.Get(k) == nil {
		return notFound(bktFailed, k)
	}
	if err := fb.Delete(k); err != nil {
		return err
	}
	t.failedDelta--
	t.outboxChanged()
	return nil
}

// QueueLen is the number of pending outbox items. It reads a counter kept
// in step with every commit, so it costs nothing.
func (s *Store) QueueLen() int { return int(s.pending.Load()) }

// FailedLen is the number of failed outbox items: meta/outbox_failed,
// read in a transaction of its own, so it agrees with what a reader sees
// committed (an incident marked failed is counted), without decoding the
// failed list.
func (s *Store) FailedLen() int {
	n, _ := viewGet(s, func(t *Tx) (uint64, error) { return readCounter(t.tx, keyOutboxFailed) })
	return int(n)
}

func (s *Store) Enqueue(kind OutboxKind, ref string) (uint64, error) {
	return updateGet(s, func(t *Tx) (uint64, error) { return t.Enqueue(kind, ref) })
}
func (s *Store) PeekDue(now time.Time, max int) ([]OutboxItem, error) {
	return viewGet(s, func(t *Tx) ([]OutboxItem, error) { return t.PeekDue(now, max) })
}
func (s *Store) Ack(seq uint64) error { return s.Update(func(t *Tx) error { return t.Ack(seq) }) }
func (s *Store) Reschedule(seq uint64, next time.Time, lastErr string) error {
	return s.Update(func(t *Tx) error { return t.Reschedule(seq, next, lastErr) })
}
func (s *Store) MoveToFailed(seq uint64, lastErr string) error {
	return s.Update(func(t *Tx) error { return t.MoveToFailed(seq, lastErr) })
}
func (s *Store) FailedItems() ([]OutboxItem, error) { return viewGet(s, (*Tx).FailedItems) }
func (s *Store) RetryFailed(seq uint64) (uint64, error) {
	return updateGet(s, func(t *Tx) (uint64, error) { return t.RetryFailed(seq) })
}
func (s *Store) DiscardFailed(seq uint64) error {
	return s.Update(func(t *Tx) error { return t.DiscardFailed(seq) })
}
