package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// simClock is a settable clock for the store and the test.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// sim drives the store with the calls the engine makes for an incident's
// life, so retention is tested (and benchmarked) on records shaped as the
// engine leaves them.
type sim struct {
	tb        testing.TB
	s         *Store
	clock     *simClock
	n         int
	ticket    int
	resolving map[string]bool // incident ids that resolve their key
}

func newSim(tb testing.TB, dir string) *sim {
	c := &simClock{t: day0}
	return &sim{tb: tb, s: openT(tb, dir, Options{Now: c.Now}), clock: c, ticket: 1000, resolving: map[string]bool{}}
}

// take enqueues incidents of key and returns their ids.
func (m *sim) take(key string, count int) []string {
	m.tb.Helper()
	incs := make([]Incident, count)
	ids := make([]string, count)
	for i := range incs {
		m.n++
		ids[i] = fmt.Sprintf("inc-%07d", m.n)
		incs[i] = Incident{ID: ids[i], Type: "threat", Company: "acme", Key: key, Title: "Malware on " + key,
			Severity: "high", User: "u@example.com", Device: "PC-7", Description: "Detected by the endpoint agent; quarantined."}
	}
	if _, _, err := m.s.EnqueueIncidents(context.Background(), incs); err != nil {
		m.tb.Fatal(err)
	}
	return ids
}

// work applies queued incidents as the engine does: the first opens the
// key's ticket (or a new generation after a close), later ones are folded
// as notes (with the engine's posting marker).
func (m *sim) work(t *Tx) {
	m.tb.Helper()
	items, err := t.PeekDue(farFuture, 1<<30)
	if err != nil {
		m.tb.Fatal(err)
	}
	for _, it := range items {
		if it.Kind != OutboxIncident {
			continue
		}
		m.must(m.apply(t, it))
	}
}

func (m *sim) apply(t *Tx, it OutboxItem) error {
	k, err := t.IncidentKey(it.Key)
	if err != nil && !isNotFound(err) {
		return err
	}
	if m.resolving[it.Ref] {
		// A resolve: the key's ticket closes with this incident.
		delete(m.resolving, it.Ref)
		if err != nil || k.State != KeyOpen {
			return fmt.Errorf("resolve of %s: key %+v, %v", it.Key, k, err)
		}
		k.State, k.ClosedAt = KeyClosed, t.now
		if err := t.PutIncidentKey(k); err != nil {
			return err
		}
		if err := t.SetIncidentState(it.Ref, StateClosed, k.TicketID, ""); err != nil {
			return err
		}
		return t.Ack(it.Seq)
	}
	if err != nil || k.State == KeyClosed {
		m.ticket++
		nk := IncidentKey{Key: it.Key, Workspace: "acme", CWCompany: "ACME", AlertType: "threat",
			Generation: k.Generation + 1, ExternalXRef: fmt.Sprintf("x-%s-%d", it.Key, k.Generation+1), Occurrences: 1}
		if err := t.BeginTicketCreate(nk); err != nil {
			return err
		}
		if err := t.TicketCreated(it.Key, m.ticket); err != nil {
			return err
		}
		if err := t.SetIncidentState(it.Ref, StateTicketed, m.ticket, ""); err != nil {
			return err
		}
	} else {
		k.Occurrences++
		k.LastNoteAt = t.now
		if err := t.PutIncidentKey(k); err != nil {
			return err
		}
		if _, err := t.MarkNoteProcessed(fmt.Sprintf("posting:%d:%s", k.TicketID, it.Ref)); err != nil {
			return err
		}
		if err := t.SetIncidentState(it.Ref, StateNoted, k.TicketID, ""); err != nil {
			return err
		}
	}
	if _, err := t.AppendFeed(FeedEvent{Kind: FeedNoted, Key: it.Key, IncidentID: it.Ref}); err != nil {
		return err
	}
	return t.Ack(it.Seq)
}

// resolve closes key's ticket with one more incident, as a resolve does.
func (m *sim) resolve(key string) {
	m.tb.Helper()
	m.resolving[m.take(key, 1)[0]] = true
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
}

func (m *sim) must(err error) {
	m.tb.Helper()
	if err != nil {
		m.tb.Fatal(err)
	}
}

func (m *sim) exists(id string) bool {
	_, err := m.s.Incident(id)
	if err != nil && !isNotFound(err) {
		m.tb.Fatal(err)
	}
	return err == nil
}

func (m *sim) note(k string) bool {
	ok, err := m.s.NoteProcessed(k)
	m.must(err)
	return ok
}

var testPolicy = RetentionPolicy{Closed: 30 * day, Notes: 30 * day, Watch: 7 * day}

func TestPruneKeepsOpenWorkAndPrunesClosed(t *testing.T) {
	m := newSim(t, t.TempDir())
	ctx := context.Background()

	// Day 0: key A opens with repeats, B opens, C opens; one incident is
	// dropped, one fails, one stays queued.
	a := m.take("A", 3)
	b := m.take("B", 2)
	c1 := m.take("C", 2)
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	ka, _ := m.s.IncidentKey(ScopedKey("acme", "A"))
	kc1, _ := m.s.IncidentKey(ScopedKey("acme", "C"))
	dropped := m.take("D", 1)[0]
	m.must(m.s.SetIncidentState(dropped, StateDropped, 0, "no route"))
	failed := m.take("F", 1)[0]
	m.must(m.s.Update(func(t *Tx) error {
		items, _ := t.PeekDue(farFuture, 100)
		for _, it := range items {
			switch it.Ref {
			case dropped:
				m.must(t.Ack(it.Seq))
			case failed:
				m.must(t.MoveToFailed(it.Seq, "rejected"))
				m.must(t.SetIncidentState(failed, StateFailed, 0, "rejected"))
			}
		}
		return nil
	}))
	queued := m.take("Q", 1)[0]
	// An action note on A's ticket, run.
	m.must(m.s.Update(func(t *Tx) error {
		if _, err := t.MarkNoteProcessed("555"); err != nil {
			return err
		}
		_, err := t.MarkNoteProcessed(fmt.Sprintf("ran:%d/555", ka.TicketID))
		return err
	}))

	// Day 1: A and C close. Day 2: C fires again (generation 2, open).
	m.clock.Set(day0.Add(day))
	m.resolve("A")
	m.resolve("C")
	m.clock.Set(day0.Add(2 * day))
	c2 := m.take("C", 1)
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	kc2, _ := m.s.IncidentKey(ScopedKey("acme", "C"))
	if kc2.TicketID == kc1.TicketID || kc2.Generation != 2 {
		t.Fatalf("C did not open a second ticket: %+v", kc2)
	}

	all := append(append(append(append([]string{}, a...), b...), c1...), c2...)
	all = append(all, dropped, failed, queued)

	// Day 30: nothing is 30 days closed yet.
	m.clock.Set(day0.Add(30 * day))
	st, err := m.s.Prune(ctx, m.clock.Now(), testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if st != (PruneStats{}) {
		t.Errorf("day 30 pruned %+v, want nothing", st)
	}
	for _, id := range all {
		if !m.exists(id) {
			t.Errorf("day 30: %s pruned", id)
		}
	}

	// Day 31.5: A (closed day 1) goes with its incidents; so do C's
	// first ticket's incidents (closed day 1, though C fired again) and
	// the dropped incident; open B, C's current ticket, queued and failed
	// stay.
	m.clock.Set(day0.Add(31*day + 12*time.Hour))
	if _, err := m.s.IncidentKey(ScopedKey("acme", "A")); err != nil { // cached before the prune
		t.Fatal(err)
	}
	st, err = m.s.Prune(ctx, m.clock.Now(), testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if st.Incidents != 8 || st.Keys != 1 || st.Notes != 0 || st.TicketIndex != 0 {
		t.Errorf("day 31.5 pruned %+v, want 8 incidents (A's 4, C's first 3, the dropped one) and key A", st)
	}
	for _, id := range append(append(append([]string{}, a...), c1...), dropped) {
		if m.exists(id) {
			t.Errorf("day 31.5: %s kept", id)
		}
	}
	for _, id := range append(append(append([]string{}, b...), c2...), failed, queued) {
		if !m.exists(id) {
			t.Errorf("day 31.5: %s pruned", id)
		}
	}
	ta, err := m.s.IncidentKey(ScopedKey("acme", "A"))
	if err != nil || ta.State != KeyClosed || ta.TicketID != 0 || ta.Generation != 1 || ta.Workspace != "acme" {
		t.Errorf("A after pruning = %+v, %v; want its tombstone (closed, no ticket, generation 1)", ta, err)
	}
	// A's ticket is no longer A's current one, but its note ids are kept
	// for 30 days after it stopped being watched (day 8), and so is the
	// index entry that says when that was.
	if k, err := m.s.IncidentKeyByTicket(ka.TicketID); err != nil || k.Key != ScopedKey("acme", "A") {
		t.Errorf("index for A's ticket: %+v, %v", k, err)
	}
	for _, n := range []string{"555", fmt.Sprintf("ran:%d/555", ka.TicketID)} {
		if !m.note(n) {
			t.Errorf("day 31.5: note %s forgotten", n)
		}
	}

	// Day 38.5: A's notes and index entry go, and C's first ticket's
	// (closed day 1, watched until day 8).
	m.clock.Set(day0.Add(38*day + 12*time.Hour))
	st, err = m.s.Prune(ctx, m.clock.Now(), testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if st.Incidents != 0 || st.Keys != 0 || st.Notes != 4+1 || st.TicketIndex != 2 {
		t.Errorf("day 38.5 pruned %+v, want 5 note ids (A's 2 posting, C's first's 1, the action's 2), 2 index entries", st)
	}
	for _, n := range []string{"555", fmt.Sprintf("ran:%d/555", ka.TicketID)} {
		if m.note(n) {
			t.Errorf("day 38.5: note %s kept", n)
		}
	}
	if _, err := m.s.IncidentKeyByTicket(ka.TicketID); !isNotFound(err) {
		t.Errorf("index for A's ticket still there: %v", err)
	}
	if _, err := m.s.IncidentKeyByTicket(kc1.TicketID); !isNotFound(err) {
		t.Errorf("index for C's first ticket still there: %v", err)
	}
	m.must(m.s.View(func(t *Tx) error {
		if n := countValues(t.tx, bktClosedTickets); n != 0 {
			return fmt.Errorf("%d closed_tickets entries left after their index entries went", n)
		}
		return nil
	}))
	if k, err := m.s.IncidentKeyByTicket(kc2.TicketID); err != nil || k.Key != ScopedKey("acme", "C") {
		t.Errorf("index for C's open ticket: %+v, %v", k, err)
	}
	for _, id := range append(append(append([]string{}, b...), c2...), failed, queued) {
		if !m.exists(id) {
			t.Errorf("day 38.5: %s pruned", id)
		}
	}
}

// A tombstoned key's next ticket is a new generation, so it never reuses
// an earlier ticket's externalXRef.
func TestPruneKeepsGeneration(t *testing.T) {
	m := newSim(t, t.TempDir())
	m.take("A", 1)
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	m.resolve("A")
	m.clock.Set(day0.Add(40 * day))
	if _, err := m.s.Prune(context.Background(), m.clock.Now(), testPolicy); err != nil {
		t.Fatal(err)
	}
	m.take("A", 1)
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	k, err := m.s.IncidentKey(ScopedKey("acme", "A"))
	if err != nil || k.Generation != 2 || k.State != KeyOpen || k.ExternalXRef != "x-acme|A-2" {
		t.Errorf("A after a new trigger = %+v, %v; want generation 2, open", k, err)
	}
}

// Deletions come in transactions of at most MaxDeletes; a stopped context
// stops between them.
func TestPruneSmallTransactions(t *testing.T) {
	m := newSim(t, t.TempDir())
	for i := range 20 {
		m.take(fmt.Sprintf("K%02d", i), 5)
	}
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	for i := range 20 {
		m.resolve(fmt.Sprintf("K%02d", i))
	}
	m.clock.Set(day0.Add(60 * day))
	p := testPolicy
	p.MaxDeletes = 7
	before := m.s.Stats().WriteTxs
	st, err := m.s.Prune(context.Background(), m.clock.Now(), p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Incidents != 120 || st.Keys != 20 {
		t.Fatalf("pruned %+v, want 120 incidents and 20 keys", st)
	}
	total := st.Incidents + st.Keys + st.Notes + st.TicketIndex
	if min := (st.Incidents+6)/7 + (st.Keys+6)/7 + (st.Notes+6)/7 + (st.TicketIndex+6)/7; st.WriteTxs < min || total == 0 {
		t.Errorf("%d deletions in %d transactions, want at least %d (at most 7 each)", total, st.WriteTxs, min)
	}
	if got := m.s.Stats().WriteTxs - before; got != int64(st.WriteTxs) {
		t.Errorf("store counted %d write transactions, Prune says %d", got, st.WriteTxs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.s.Prune(ctx, m.clock.Now(), p); err == nil {
		t.Error("Prune with a cancelled context returned nil")
	}
}

// With a window shorter than the action watch, a closed ticket's key and
// incidents stay while the ticket is watched; a dropped incident goes.
func TestPruneWaitsForTheWatch(t *testing.T) {
	m := newSim(t, t.TempDir())
	ids := m.take("A", 2)
	m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
	m.resolve("A")
	dropped := m.take("D", 1)[0]
	m.must(m.s.SetIncidentState(dropped, StateDropped, 0, "no route"))
	p := RetentionPolicy{Closed: time.Hour, Notes: time.Hour, Watch: 7 * day}
	m.clock.Set(day0.Add(2 * day))
	if _, err := m.s.Prune(context.Background(), m.clock.Now(), p); err != nil {
		t.Fatal(err)
	}
	if m.exists(dropped) {
		t.Error("dropped incident kept past its hour")
	}
	for _, id := range ids {
		if !m.exists(id) {
			t.Errorf("%s of a watched ticket pruned", id)
		}
	}
	if k, _ := m.s.IncidentKey(ScopedKey("acme", "A")); k.TicketID == 0 {
		t.Errorf("key of a watched ticket pruned: %+v", k)
	}
	m.clock.Set(day0.Add(8 * day))
	if st, err := m.s.Prune(context.Background(), m.clock.Now(), p); err != nil || st.Incidents != 3 || st.Keys != 1 {
		t.Errorf("after the watch: %+v, %v; want A's 3 incidents and its key", st, err)
	}
}
