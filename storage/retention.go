package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// RetentionPolicy says how long finished state is kept ([retention]).
type RetentionPolicy struct {
	// Closed: closed and dropped incidents, and closed keys, are pruned
	// this long after they closed (or were dropped).
	Closed time.Duration
	// Notes: processed note ids (notes/) are kept this long after their
	// ticket stops being watched for actions.
	Notes time.Duration
	// Watch is how long the engine watches a closed ticket's notes for
	// actions. A key is never pruned while its ticket is watched.
	Watch time.Duration
	// MaxDeletes bounds the deletions of one write transaction (default
	// 500), so pruning holds bbolt's writer lock only briefly.
	MaxDeletes int
}

// PruneStats counts what one Prune pass removed.
type PruneStats struct {
	Incidents   int // incident records deleted
	Keys        int // keys cut down to their tombstone
	Notes       int // processed note ids forgotten
	TicketIndex int // ticket_keys entries removed
	WriteTxs    int // write transactions it took
}

// A pruned key is not deleted but cut down to a tombstone: state closed,
// no ticket, its name, workspace and Generation kept. Deleting it would
// reset the generation, so the key's next ticket would reuse the
// externalXRef of its first one, and a search by externalXRef after a lost
// create answer would adopt that long-closed ticket. A tombstone is about a
// hundred bytes per distinct key.
func isTombstone(k IncidentKey) bool { return k.State == KeyClosed && k.TicketID == 0 }

func tombstone(k IncidentKey) IncidentKey {
	return IncidentKey{Key: k.Key, Workspace: k.Workspace, CWCompany: k.CWCompany, CWCompanyID: k.CWCompanyID,
		AlertType: k.AlertType, State: KeyClosed, ClosedAt: k.ClosedAt, Generation: k.Generation}
}

// Prune removes what p says has expired at now, in passes over incidents/,
// keys/, notes/ and ticket_keys/. Each step reads up to pruneScan records
// in a short read transaction (readers never block intake; keeping them
// short lets bbolt reuse freed pages) and then deletes what it found in a
// write transaction of at most p.MaxDeletes deletions, re-checking every
// record there, so work that changed in between is left alone. It stops
// between steps when ctx ends.
//
// Never pruned: queued and failed incidents; incidents of a ticket that is
// open (ticketed, noted) or of a pending create; keys that are open,
// pending, or whose ticket is still watched; note ids whose ticket cannot
// be told (a bare note id without its "ran:" record).
func (s *Store) Prune(ctx context.Context, now time.Time, p RetentionPolicy) (PruneStats, error) {
	if p.MaxDeletes <= 0 {
		p.MaxDeletes = 500
	}
	pr := &pruner{s: s, now: now.UTC(), p: p}
	for _, phase := range []struct {
		bkt    bucketPath
		expire func(t *Tx, k, v []byte) (bool, error)
		apply  func(t *Tx, k []byte) (bool, error)
		count  *int
	}{
		// First, before any incident goes: when each closed ticket closed
		// (its resolving incident's time), kept in closed_tickets/ for
		// the incidents, notes and index of tickets a key has moved on from.
		{bktIncidents, pr.closeUnrecorded, pr.recordClose, &pr.closes},
		{bktIncidents, pr.incidentExpired, pr.deleteIf(bktIncidents, pr.incidentExpired), &pr.st.Incidents},
		{bktKeys, pr.keyExpired, pr.tombstoneKey, &pr.st.Keys},
		{bktNotes, pr.noteExpired, pr.deleteIf(bktNotes, pr.noteExpired), &pr.st.Notes},
		{bktTicketKeys, pr.indexExpired, pr.deleteIf(bktTicketKeys, pr.indexExpired), &pr.st.TicketIndex},
		{bktClosedTickets, pr.closeOrphaned, pr.deleteIf(bktClosedTickets, pr.closeOrphaned), &pr.closes},
	} {
		if err := pr.run(ctx, phase.bkt, phase.expire, phase.apply, phase.count); err != nil {
			return pr.st, err
		}
	}
	return pr.st, nil
}

// pruneScan bounds the records one read transaction looks at.
const pruneScan = 10000

type pruner struct {
	s   *Store
	now time.Time
	p   RetentionPolicy
	st  PruneStats
	// memo caches key records and ticket ends within one transaction.
	memoTx *Tx
	keys   map[string]memoKey
	done   map[int]time.Time
	closes int // closed_tickets entries written or removed
	// ran maps a bare note id to its ticket, from the "ran:<ticket>/<note>"
	// records; built once per pass when the notes phase starts.
	ran map[string]int
}

func (pr *pruner) run(ctx context.Context, bkt bucketPath, expire func(*Tx, []byte, []byte) (bool, error),
	apply func(*Tx, []byte) (bool, error), count *int) error {
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var found [][]byte
		more := false
		err := pr.s.View(func(t *Tx) error {
			if bkt.String() == bktNotes.String() && pr.ran == nil {
				pr.ran = ranTickets(t)
			}
			b, err := getBucket(t.tx, bkt)
			if err != nil {
				return err
			}
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == pruneScan || len(found) == pr.p.MaxDeletes {
					more = true
					break
				}
				n++
				after = bytes.Clone(k)
				if v == nil {
					continue
				}
				if ok, err := expire(t, k, v); err != nil {
					return err
				} else if ok {
					found = append(found, bytes.Clone(k))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(found) > 0 {
			pr.st.WriteTxs++
			n := 0
			err := pr.s.Update(func(t *Tx) error {
				n = 0
				for _, k := range found {
					ok, err := apply(t, k)
					if err != nil {
						return err
					}
					if ok {
						n++
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			*count += n
		}
		if !more {
			return nil
		}
	}
}

// deleteIf is the write half of a step that deletes: k goes from bkt if
// expire, asked again inside the write transaction, still says so.
func (pr *pruner) deleteIf(bkt bucketPath, expire func(*Tx, []byte, []byte) (bool, error)) func(*Tx, []byte) (bool, error) {
	return func(t *Tx, k []byte) (bool, error) {
		b, err := getBucket(t.tx, bkt)
		if err != nil {
			return false, err
		}
		v := bytes.Clone(b.Get(k))
		if v == nil {
			return false, nil
		}
		if ok, err := expire(t, k, v); err != nil || !ok {
			return false, err
		}
		return true, b.Delete(k)
	}
}

func (pr *pruner) cutoff() time.Time { return pr.now.Add(-pr.p.Closed) }

// keyCutoff is cutoff for a key and its current ticket's incidents: never
// while the ticket is still watched for actions.
func (pr *pruner) keyCutoff() time.Time { return pr.now.Add(-max(pr.p.Closed, pr.p.Watch)) }

type memoKey struct {
	k        *IncidentKey
	readable bool
}

// key is readKeyForPrune, remembered for the rest of t.
func (pr *pruner) key(t *Tx, name string) (*IncidentKey, bool) {
	pr.reset(t)
	if m, ok := pr.keys[name]; ok {
		return m.k, m.readable
	}
	k, ok := readKeyForPrune(t, name)
	pr.keys[name] = memoKey{k, ok}
	return k, ok
}

func (pr *pruner) reset(t *Tx) {
	if pr.memoTx != t {
		pr.memoTx, pr.keys, pr.done = t, map[string]memoKey{}, map[int]time.Time{}
	}
}

// readKeyForPrune reads a key record; nil if there is none or it is unreadable
// (an unreadable key keeps its incidents).
func readKeyForPrune(t *Tx, name string) (*IncidentKey, bool) {
	b, err := getBucket(t.tx, bktKeys)
	if err != nil {
		return nil, false
	}
	v := b.Get([]byte(name))
	if v == nil {
		return nil, true
	}
	var k IncidentKey
	if json.Unmarshal(v, &k) != nil {
		return nil, false
	}
	return &k, true
}

// pruneIncident is the part of an incident retention looks at.
type pruneIncident struct {
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	Company    string        `json:"company"`
	Title      string        `json:"title"`
	Key        string        `json:"key,omitempty"`
	ReceivedAt time.Time     `json:"received_at,omitzero"`
	State      IncidentState `json:"state"`
	TicketID   int           `json:"ticket_id,omitempty"`
	DoneAt     time.Time     `json:"done_at,omitzero"`
}

var receivedField = []byte(`"received_at":"`)

// receivedAfter reads received_at straight from the record's bytes: an
// incident received after cutoff cannot have closed before it, so most of
// a pass skips the JSON decoding (the store writes the field).
func receivedAfter(v []byte, cutoff time.Time) bool {
	i := bytes.Index(v, receivedField)
	if i < 0 {
		return false
	}
	rest := v[i+len(receivedField):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return err == nil && !at.Before(cutoff)
}

func (pr *pruner) incidentExpired(t *Tx, _, v []byte) (bool, error) {
	cutoff := pr.cutoff()
	if receivedAfter(v, cutoff) {
		return false, nil
	}
	var inc pruneIncident
	if json.Unmarshal(v, &inc) != nil {
		return false, nil // unreadable: kept for a person to see
	}
	switch inc.State {
	case StateDropped:
		return doneAt(inc.DoneAt, inc.ReceivedAt).Before(cutoff), nil
	case StateTicketed, StateNoted, StateClosed:
	default: // queued, failed: open work
		return false, nil
	}
	// The engine's own rule for an incident's key.
	k, readable := pr.key(t, KeyOf(Incident{ID: inc.ID, Type: inc.Type, Company: inc.Company, Title: inc.Title, Key: inc.Key}))
	switch {
	case !readable:
		return false, nil
	case k == nil:
		// No key to say whether its ticket is open: only a closed
		// incident can be judged, by its own time.
		return inc.State == StateClosed && doneAt(inc.DoneAt, inc.ReceivedAt).Before(cutoff), nil
	case k.TicketID == inc.TicketID:
		// The key's current ticket: gone with the key's close, but not
		// while the ticket is watched for actions (which act for its
		// incidents' users and devices).
		return k.State == KeyClosed && k.ClosedAt.Before(pr.keyCutoff()), nil
	case isTombstone(*k):
		return k.ClosedAt.Before(pr.keyCutoff()), nil
	}
	// A ticket of an earlier generation: gone with its own close, which
	// came before the key's current ticket was begun.
	if at, ok := ticketClosedAt(t, inc.TicketID); ok {
		return at.Before(cutoff), nil
	}
	begun := k.CreatedAt
	if begun.IsZero() {
		begun = k.PendingSince
	}
	return !begun.IsZero() && begun.Before(cutoff), nil
}

// ticketClosedAt reads closed_tickets/<id>.
func ticketClosedAt(t *Tx, id int) (time.Time, bool) {
	b, err := getBucket(t.tx, bktClosedTickets)
	if err != nil || id <= 0 {
		return time.Time{}, false
	}
	at, err := parseTime(bktClosedTickets, itob(uint64(id)), b.Get(itob(uint64(id))))
	return at, err == nil && !at.IsZero()
}

// closeUnrecorded: a closed incident (the one that resolved its ticket)
// old enough to be pruned this pass whose ticket's close is not recorded.
func (pr *pruner) closeUnrecorded(t *Tx, _, v []byte) (bool, error) {
	if receivedAfter(v, pr.cutoff()) {
		return false, nil
	}
	var inc pruneIncident
	if json.Unmarshal(v, &inc) != nil || inc.State != StateClosed || inc.TicketID <= 0 {
		return false, nil
	}
	_, ok := ticketClosedAt(t, inc.TicketID)
	return !ok, nil
}

func (pr *pruner) recordClose(t *Tx, k []byte) (bool, error) {
	var inc pruneIncident
	if err := getJSON(t.tx, bktIncidents, k, &inc); err != nil || inc.State != StateClosed || inc.TicketID <= 0 {
		return false, nil
	}
	if _, ok := ticketClosedAt(t, inc.TicketID); ok {
		return false, nil
	}
	b, err := getBucket(t.tx, bktClosedTickets)
	if err != nil {
		return false, err
	}
	at := doneAt(inc.DoneAt, inc.ReceivedAt)
	return true, b.Put(itob(uint64(inc.TicketID)), []byte(at.UTC().Format(time.RFC3339Nano)))
}

// closeOrphaned: a closed_tickets entry whose ticket_keys entry is gone.
func (pr *pruner) closeOrphaned(t *Tx, k, _ []byte) (bool, error) {
	idx, err := getBucket(t.tx, bktTicketKeys)
	if err != nil {
		return false, err
	}
	return idx.Get(k) == nil, nil
}

// doneAt is when an incident was closed or dropped; records from before
// DoneAt existed fall back to when they were received.
func doneAt(done, received time.Time) time.Time {
	if !done.IsZero() {
		return done
	}
	return received
}

func (pr *pruner) keyExpired(_ *Tx, _, v []byte) (bool, error) {
	var k IncidentKey
	if json.Unmarshal(v, &k) != nil || k.State != KeyClosed || isTombstone(k) {
		return false, nil
	}
	return k.ClosedAt.Before(pr.keyCutoff()), nil
}

func (pr *pruner) tombstoneKey(t *Tx, name []byte) (bool, error) {
	b, err := getBucket(t.tx, bktKeys)
	if err != nil {
		return false, err
	}
	v := b.Get(name)
	if v == nil {
		return false, nil
	}
	if ok, err := pr.keyExpired(t, name, v); err != nil || !ok {
		return false, err
	}
	var k IncidentKey
	if err := json.Unmarshal(v, &k); err != nil {
		return false, nil
	}
	// Its ticket_keys entry goes in the index phase, once the ticket's
	// note ids are gone too: until then it says when the ticket stopped
	// being watched.
	return true, t.PutIncidentKey(tombstone(k))
}

// ticketDone is when ticket id stopped being watched: the zero time if it
// has no key (long pruned), farFuture while it is watched.
func (pr *pruner) ticketDone(t *Tx, id int) time.Time {
	pr.reset(t)
	if at, ok := pr.done[id]; ok {
		return at
	}
	at := pr.ticketDoneRead(t, id)
	pr.done[id] = at
	return at
}

func (pr *pruner) ticketDoneRead(t *Tx, id int) time.Time {
	idx, err := getBucket(t.tx, bktTicketKeys)
	if err != nil || id <= 0 {
		return farFuture
	}
	name := idx.Get(itob(uint64(id)))
	if name == nil {
		return time.Time{}
	}
	k, readable := pr.key(t, string(name))
	switch {
	case !readable:
		return farFuture
	case k == nil:
		return time.Time{}
	case k.TicketID == id && k.State != KeyClosed:
		return farFuture
	case k.TicketID == id || isTombstone(*k):
		return k.ClosedAt.Add(pr.p.Watch)
	}
	// An earlier generation's ticket: watched at most Watch after it
	// closed, and no longer once the key's next ticket was begun.
	if at, ok := ticketClosedAt(t, id); ok {
		return at.Add(pr.p.Watch)
	}
	if !k.CreatedAt.IsZero() {
		return k.CreatedAt
	}
	if !k.PendingSince.IsZero() {
		return k.PendingSince
	}
	return farFuture
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// noteTicket finds the ticket a notes/ record belongs to: "posting:<ticket>:<hash>"
// (a note the engine posts), "ran:<ticket>/<note>" (an action run), or a
// bare note id (an action note seen), whose ticket its "ran:" record names.
func (pr *pruner) noteTicket(k string) (int, bool) {
	if rest, ok := strings.CutPrefix(k, "posting:"); ok {
		id, _, _ := strings.Cut(rest, ":")
		n, err := strconv.Atoi(id)
		return n, err == nil
	}
	if rest, ok := strings.CutPrefix(k, "ran:"); ok {
		id, _, _ := strings.Cut(rest, "/")
		n, err := strconv.Atoi(id)
		return n, err == nil
	}
	n, ok := pr.ran[k]
	return n, ok
}

func ranTickets(t *Tx) map[string]int {
	out := map[string]int{}
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return out
	}
	c := b.Cursor()
	prefix := []byte("ran:")
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ticket, note, ok := strings.Cut(string(k[len(prefix):]), "/")
		if n, err := strconv.Atoi(ticket); ok && err == nil {
			out[note] = n
		}
	}
	return out
}

func (pr *pruner) noteExpired(t *Tx, k, _ []byte) (bool, error) {
	id, ok := pr.noteTicket(string(k))
	if !ok {
		return false, nil
	}
	return pr.ticketDone(t, id).Add(pr.p.Notes).Before(pr.now), nil
}

// indexExpired: a ticket_keys entry goes once its key no longer has that
// ticket (a later generation, or a tombstone) and the ticket's note ids
// have expired.
func (pr *pruner) indexExpired(t *Tx, k, v []byte) (bool, error) {
	if len(k) != 8 {
		return false, nil
	}
	id := int(btoi(k))
	if key, readable := pr.key(t, string(v)); !readable || (key != nil && key.TicketID == id) {
		return false, nil
	}
	return pr.ticketDone(t, id).Add(pr.p.Notes).Before(pr.now), nil
}
