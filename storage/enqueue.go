package storage

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// enqueueReq is one EnqueueIncidents call on its way to the committer. The
// caller's goroutine does the validation and JSON encoding so the committer
// only does bbolt work.
type enqueueReq struct {
	ids  [][]byte
	vals [][]byte
	keys []string // each incident's key, for its outbox item
	now  time.Time

	accepted, dups int // written by the committer before done
	done           chan error
}

// EnqueueIncidents stores a batch of new incidents (state queued) and one
// outbox item per accepted incident. The batch is atomic: all of it or none.
// It is idempotent on the incident id: an id already stored, or repeated in
// the batch, counts as a duplicate and is stored once. On a nil error the
// batch is on disk (fsync'd).
//
// Concurrent callers are group-committed: while one commit runs, the calls
// that arrive queue up and the next commit takes them all, so N producers
// share one fsync instead of paying N. Nothing waits when the committer is
// idle. If ctx ends while waiting, the batch may or may not have been stored;
// retrying is safe because enqueue is idempotent.
func (s *Store) EnqueueIncidents(ctx context.Context, incs []Incident) (accepted, duplicates int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	r, err := s.prepareEnqueue(incs)
	if err != nil || len(r.ids) == 0 {
		return 0, 0, err
	}
	if s.opts.OneTxPerEnqueue {
		err := s.Update(func(t *Tx) error { return t.applyEnqueue(r) })
		if err != nil {
			return 0, 0, err
		}
		return r.accepted, r.dups, nil
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return 0, 0, ErrClosed
	}
	select {
	case s.enq <- r:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return 0, 0, ctx.Err()
	}
	select {
	case err := <-r.done:
		if err != nil {
			return 0, 0, err
		}
		return r.accepted, r.dups, nil
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

func (s *Store) prepareEnqueue(incs []Incident) (*enqueueReq, error) {
	now := s.now()
	r := &enqueueReq{ids: make([][]byte, len(incs)), vals: make([][]byte, len(incs)), keys: make([]string, len(incs)),
		now: now, done: make(chan error, 1)}
	for i, inc := range incs {
		switch {
		case inc.ID == "":
			return nil, invalid("incident %d: empty id", i)
		case utf8.RuneCountInString(inc.ID) > MaxIncidentIDLen:
			return nil, invalid("incident %d: id longer than %d characters", i, MaxIncidentIDLen)
		}
		// The store alone stamps these: an accepted incident is queued as
		// of the commit's clock.
		inc.State, inc.ReceivedAt = StateQueued, now
		v, err := json.Marshal(inc)
		if err != nil {
			return nil, err
		}
		if len(v) > bolt.MaxValueSize {
			return nil, invalid("incident %d: %d bytes", i, len(v))
		}
		r.ids[i], r.vals[i], r.keys[i] = []byte(inc.ID), v, KeyOf(inc)
	}
	return r, nil
}

// applyEnqueue writes one request inside a write transaction.
func (t *Tx) applyEnqueue(r *enqueueReq) error {
	b, err := getBucket(t.tx, bktIncidents)
	if err != nil {
		return err
	}
	r.accepted, r.dups = 0, 0
	for i, id := range r.ids {
		if b.Get(id) != nil {
			r.dups++
			continue
		}
		if err := b.Put(id, r.vals[i]); err != nil {
			return err
		}
		if _, err := t.enqueue(OutboxItem{Kind: OutboxIncident, Ref: string(id), Key: r.keys[i], EnqueuedAt: r.now}); err != nil {
			return err
		}
		r.accepted++
	}
	return nil
}

// committer is the one goroutine that commits group enqueues. It blocks
// for the first request, then takes whatever else is already waiting (no
// timer: an idle store commits at once) and commits it all together.
func (s *Store) committer() {
	defer close(s.committerDone)
	for r := range s.enq {
		batch := []*enqueueReq{r}
		n := len(r.ids)
	drain:
		for n < s.opts.MaxGroup {
			select {
			case r, ok := <-s.enq:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				n += len(r.ids)
			default:
				break drain
			}
		}
		s.commitGroup(batch)
	}
}

// commitGroup commits batch in one transaction. If that fails, each request
// is retried alone so one bad request cannot fail its neighbours, and each
// stays all-or-nothing.
func (s *Store) commitGroup(batch []*enqueueReq) {
	t := &Tx{s: s, now: s.now()}
	s.groupCommits.Add(1)
	s.writes.Add(1)
	err := s.db.Update(func(btx *bolt.Tx) error {
		t.tx, t.changes, t.pendingDelta = btx, nil, 0
		for _, r := range batch {
			if err := t.applyEnqueue(r); err != nil {
				return err
			}
		}
		return t.flushCounters()
	})
	s.keys.end(t.keysWritten) // none today; keeps the cache rule in one place
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			s.commitGroup([]*enqueueReq{r})
		}
		return
	}
	if err == nil {
		s.afterCommit(t)
	}
	for _, r := range batch {
		r.done <- mapErr(err)
	}
}
