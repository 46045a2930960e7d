package engine

import (
	"hash/fnv"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

// dispatchScan bounds how far into the outbox one pass looks.
const dispatchScan = 2000

// dispatch hands due items to workers. Items of one key always go to the
// same worker, in order, and never overtake an earlier item of that key
// that is in flight or waiting for a retry, so a resolve cannot pass its
// trigger. A pass hands out up to maxBatch consecutive items of a free key
// at once (the worker runs them in order and holds back the rest of the
// batch if one is not finished), so a storm on few keys does not cost a
// pass over the outbox per item. It returns when the earliest item it saw
// waiting for its time is due (zero if none).
func (e *Engine) dispatch(queues []chan work) (next time.Time) {
	items, err := e.store.PeekDue(farFuture, dispatchScan)
	if err != nil && len(items) == 0 {
		e.log.Error("reading the outbox", "err", err)
		return next
	}
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pass++
	blocked := map[string]bool{}
	for k := range e.keyBusy {
		blocked[k] = true // items from an earlier pass are in flight
	}
	// A key with an item waiting for its retry runs nothing before that
	// retry, not even a fold timer (which may sit ahead of it): the retry
	// must be the next to touch the key, or a timer could post, a second
	// time, the very note whose lost answer the retry is about to look for
	// (or repeats folded in meanwhile would change the note it looks for).
	// Note when the first waiting item is due.
	retrying := map[string]bool{}
	for _, it := range items {
		if _, busy := e.inflight[it.Seq]; busy {
			continue
		}
		notDue := it.NextAttemptAt.After(now)
		if notDue && (next.IsZero() || it.NextAttemptAt.Before(next)) {
			next = it.NextAttemptAt
		}
		if it.Attempts > 0 || notDue && it.Kind != storage.OutboxFlush {
			key := itemKey(it)
			retrying[key] = true
			if notDue {
				blocked[key] = true
			}
		}
	}
	handed := map[string]int{}
	for _, it := range items {
		if _, busy := e.inflight[it.Seq]; busy {
			continue
		}
		key := itemKey(it)
		if blocked[key] {
			continue
		}
		if it.NextAttemptAt.After(now) {
			// A timer (fold flush) waiting for its time does not hold back
			// its key; a retry (a flush's too) held it back above.
			continue
		}
		if retrying[key] && it.Kind == storage.OutboxFlush && it.Attempts == 0 {
			continue // a fold timer waits for its key's retry
		}
		if handed[key] >= maxBatch {
			blocked[key] = true
			continue
		}
		q := queues[shard(key, len(queues))]
		select {
		case q <- work{it: it, key: key, pass: e.pass}:
			e.inflight[it.Seq] = key
			e.keyBusy[key]++
			handed[key]++
		default:
			blocked[key] = true // that worker is full; later items of the key wait
		}
	}
	return next
}

// maxBatch bounds the items of one key one pass hands out, and
// workerQueue the items waiting for one worker.
const (
	maxBatch    = 32
	workerQueue = 256
)

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func shard(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// itemKey is the ordering key of an item: the incident key for incidents
// (carried on the item since enqueue, so no incident is read here) and
// flushes, the ticket for actions.
func itemKey(it storage.OutboxItem) string {
	switch it.Kind {
	case storage.OutboxIncident:
		if it.Key != "" {
			return it.Key
		}
	case storage.OutboxAction:
		ticket, _, _ := strings.Cut(it.Ref, "/") // Ref is ticket/note
		return "action:" + ticket
	case storage.OutboxUsage:
		return "usage:" + it.Ref
	case storage.OutboxLink:
		// Its own order: linking never holds up the key's notes or close.
		return "link:" + it.Ref
	}
	// A flush's Ref is its key. An incident item without a key (written by
	// hand; v3 keys every one) orders by itself.
	return it.Ref
}
