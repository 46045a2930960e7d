package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

var timeZero time.Time

// lookupTTL bounds how long a cached lookup table is trusted.
const lookupTTL = time.Hour

// resolvedRoute is a route with every reference as a ConnectWise id.
type resolvedRoute struct {
	board, status, priority, typ, subtype, closed int
	defaultStatus                                 int // first open status, for reopening
}

// resolver turns route names into ids, cached in memory and in storage's
// lookup tables; reset forgets both when ConnectWise rejects an id.
type resolver struct {
	e       *Engine
	mu      sync.Mutex
	cache   map[storage.Route]resolvedRoute // keyed by the route as stored
	resetAt time.Time
	// fetchMu lets one worker look a route up while the others wait for
	// its result, instead of every worker fetching the same tables.
	fetchMu sync.Mutex
}

func newResolver(e *Engine) *resolver {
	return &resolver{e: e, cache: map[storage.Route]resolvedRoute{}}
}

func (r *resolver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.cache)
	r.resetAt = time.Now()
}

// stale reports whether a ConnectWise error blames one of the route's ids.
func (r *resolver) stale(err error) bool {
	var ce *cwclient.Error
	if !errors.As(err, &ce) || (ce.Kind != cwclient.KindValidation && ce.Kind != cwclient.KindBadRequest) {
		return false
	}
	for _, f := range ce.Fields {
		switch strings.ToLower(f.Field) {
		case "board", "status", "type", "subtype", "priority":
			return true
		}
	}
	return false
}

func (r *resolver) resolve(ctx context.Context, rt storage.Route) (resolvedRoute, error) {
	r.mu.Lock()
	if v, ok := r.cache[rt]; ok {
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	r.mu.Lock()
	if v, ok := r.cache[rt]; ok { // another worker just resolved it
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	var out resolvedRoute
	where := fmt.Sprintf("route %q", rt.AlertType)
	boards, err := r.table(ctx, storage.LookupBoards, 0)
	if err != nil {
		return out, err
	}
	if out.board, err = pick(boards, rt.Board, where+": board"); err != nil {
		return out, err
	}
	statuses, err := r.table(ctx, storage.LookupStatuses, out.board)
	if err != nil {
		return out, err
	}
	if out.status, err = pick(statuses, rt.Status, where+": status"); err != nil {
		return out, err
	}
	if out.closed, err = pick(statuses, rt.ClosedStatus, where+": closed_status"); err != nil {
		return out, err
	}
	if out.closed == 0 {
		out.closed = closedStatus(statuses)
	}
	for _, s := range statuses.Items {
		if !s.Closed && !s.Inactive {
			out.defaultStatus = s.ID
			break
		}
	}
	prios, err := r.table(ctx, storage.LookupPriorities, 0)
	if err != nil {
		return out, err
	}
	if out.priority, err = pick(prios, rt.Priority, where+": priority"); err != nil {
		return out, err
	}
	if !rt.Type.IsZero() {
		types, err := r.table(ctx, storage.LookupTypes, out.board)
		if err != nil {
			return out, err
		}
		if out.typ, err = pick(types, rt.Type, where+": type"); err != nil {
			return out, err
		}
	}
	if !rt.Subtype.IsZero() {
		subs, err := r.table(ctx, storage.LookupSubtypes, out.board)
		if err != nil {
			return out, err
		}
		if out.subtype, err = pick(subs, rt.Subtype, where+": subtype"); err != nil {
			return out, err
		}
	}
	r.mu.Lock()
	r.cache[rt] = out
	r.mu.Unlock()
	return out, nil
}

// closedStatus prefers a status named "Closed", else any closed one.
func closedStatus(t storage.LookupTable) int {
	id := 0
	for _, s := range t.Items {
		if s.Closed && !s.Inactive {
			if strings.EqualFold(s.Name, "Closed") {
				return s.ID
			}
			if id == 0 {
				id = s.ID
			}
		}
	}
	return id
}

// pick finds a reference in a table: by id when set, else by name (case
// and surrounding space ignored). A miss is a configuration problem that
// retrying cannot fix.
func pick(t storage.LookupTable, ref storage.Ref, what string) (int, error) {
	if ref.IsZero() {
		return 0, nil
	}
	for _, it := range t.Items {
		if ref.ID != 0 && it.ID == ref.ID || ref.ID == 0 && strings.EqualFold(strings.TrimSpace(it.Name), strings.TrimSpace(ref.Name)) {
			if it.Inactive {
				return 0, permanent(fmt.Errorf("%s %q is inactive in ConnectWise", what, it.Name))
			}
			return it.ID, nil
		}
	}
	names := make([]string, 0, len(t.Items))
	for _, it := range t.Items {
		if !it.Inactive {
			names = append(names, it.Name)
		}
	}
	label := ref.Name
	if ref.ID != 0 {
		label = fmt.Sprint(ref.ID)
	}
	return 0, permanent(fmt.Errorf("%s %q not found in ConnectWise (have: %s)", what, label, strings.Join(names, ", ")))
}

// table returns a lookup table from storage, fetching it from ConnectWise
// when missing, older than lookupTTL, or older than the last reset.
func (r *resolver) table(ctx context.Context, kind storage.LookupKind, board int) (storage.LookupTable, error) {
	t, err := r.e.store.Lookup(kind, board)
	r.mu.Lock()
	resetAt := r.resetAt
	r.mu.Unlock()
	if err == nil && time.Since(t.FetchedAt) < lookupTTL && t.FetchedAt.After(resetAt) {
		return t, nil
	}
	c, cerr := r.e.cw()
	if cerr != nil {
		return t, errPaused
	}
	t, err = FetchLookup(ctx, c, kind, board, r.e.o.Now())
	r.e.noteCWResult(err, "")
	if err != nil {
		if kind != storage.LookupBoards && board != 0 && cwclient.KindOf(err) == cwclient.KindNotFound {
			// The board id came from a cached table and is gone from
			// ConnectWise: look the boards up again next attempt.
			r.reset()
		}
		return t, err
	}
	if err := r.e.store.PutLookup(t); err != nil {
		return t, permanent(err)
	}
	return t, nil
}

// FetchLookup reads one lookup table from ConnectWise: the one fetch of
// the resolver and the Alerts page, which both cache it in the store.
func FetchLookup(ctx context.Context, c *cwclient.Client, kind storage.LookupKind, board int, now time.Time) (storage.LookupTable, error) {
	t := storage.LookupTable{Kind: kind, BoardID: board, FetchedAt: now.UTC()}
	switch kind {
	case storage.LookupBoards:
		bs, err := c.ServiceBoards(ctx)
		if err != nil {
			return t, err
		}
		for _, b := range bs {
			t.Items = append(t.Items, storage.LookupItem{ID: b.ID, Name: b.Name, Inactive: b.InactiveFlag})
		}
	case storage.LookupPriorities:
		ps, err := c.Priorities(ctx)
		if err != nil {
			return t, err
		}
		for _, p := range ps {
			t.Items = append(t.Items, storage.LookupItem{ID: p.ID, Name: p.Name})
		}
	case storage.LookupStatuses:
		ss, err := c.BoardStatuses(ctx, board)
		if err != nil {
			return t, err
		}
		for _, s := range ss {
			t.Items = append(t.Items, storage.LookupItem{ID: s.ID, Name: s.Name, Inactive: s.Inactive, Closed: s.ClosedStatus})
		}
	case storage.LookupTypes:
		ts, err := c.BoardTypes(ctx, board)
		if err != nil {
			return t, err
		}
		for _, x := range ts {
			t.Items = append(t.Items, storage.LookupItem{ID: x.ID, Name: x.Name, Inactive: x.InactiveFlag})
		}
	case storage.LookupSubtypes:
		ss, err := c.BoardSubTypes(ctx, board)
		if err != nil {
			return t, err
		}
		for _, x := range ss {
			t.Items = append(t.Items, storage.LookupItem{ID: x.ID, Name: x.Name, Inactive: x.InactiveFlag})
		}
	default:
		return t, fmt.Errorf("unknown lookup %q", kind)
	}
	return t, nil
}
