package alerts

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
)

// tableKey names a lookup table in the page's map.
func tableKey(kind storage.LookupKind, board int) string {
	if board == 0 {
		return string(kind)
	}
	return fmt.Sprintf("%s/%d", kind, board)
}

type lookupsMsg struct {
	board  int // 0: boards and priorities
	tables []storage.LookupTable
	err    error
	forced bool // asked for with r: the refresh counts it
}

// cachedLookups reads what storage has for board (0: the global tables),
// and fetches from ConnectWise what it lacks (or everything, when force).
func cachedLookups(c *common.Common, board int, force bool) tea.Cmd {
	return common.Route(common.PageAlerts, func() tea.Msg {
		msg := lookups(c, board, force)
		msg.forced = force
		return msg
	})
}

// lookups is cachedLookups' work, outside the command.
func lookups(c *common.Common, board int, force bool) lookupsMsg {
	kinds := []storage.LookupKind{storage.LookupBoards, storage.LookupPriorities}
	if board != 0 {
		kinds = []storage.LookupKind{storage.LookupStatuses, storage.LookupTypes, storage.LookupSubtypes}
	}
	var out []storage.LookupTable
	missing := force
	for _, k := range kinds {
		t, err := c.Store.Lookup(k, board)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			missing = true
		case err != nil:
			return lookupsMsg{board: board, err: err}
		default:
			out = append(out, t)
		}
	}
	if !missing {
		return lookupsMsg{board: board, tables: out}
	}
	fetched, err := fetchLookups(c, board)
	if err != nil {
		return lookupsMsg{board: board, tables: out, err: err}
	}
	return lookupsMsg{board: board, tables: fetched}
}

// fetchLookups reads the tables from ConnectWise and caches them.
func fetchLookups(c *common.Common, board int) ([]storage.LookupTable, error) {
	cl, err := c.Client()
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errors.New("ConnectWise is not set up yet (Setup page)")
	}
	if err != nil {
		return nil, err
	}
	now := c.Now().UTC()
	var tables []storage.LookupTable
	if board == 0 {
		bs, err := cl.ServiceBoards(c.Ctx)
		if err != nil {
			return nil, err
		}
		t := storage.LookupTable{Kind: storage.LookupBoards, FetchedAt: now}
		for _, b := range bs {
			t.Items = append(t.Items, storage.LookupItem{ID: b.ID, Name: b.Name, Inactive: b.InactiveFlag})
		}
		ps, err := cl.Priorities(c.Ctx)
		if err != nil {
			return nil, err
		}
		p := storage.LookupTable{Kind: storage.LookupPriorities, FetchedAt: now}
		for _, x := range ps {
			p.Items = append(p.Items, storage.LookupItem{ID: x.ID, Name: x.Name})
		}
		tables = []storage.LookupTable{t, p}
	} else {
		sts, err := cl.BoardStatuses(c.Ctx, board)
		if err != nil {
			return nil, err
		}
		s := storage.LookupTable{Kind: storage.LookupStatuses, BoardID: board, FetchedAt: now}
		for _, x := range sts {
			s.Items = append(s.Items, storage.LookupItem{ID: x.ID, Name: x.Name, Inactive: x.Inactive, Closed: x.ClosedStatus})
		}
		tys, err := cl.BoardTypes(c.Ctx, board)
		if err != nil {
			return nil, err
		}
		ty := storage.LookupTable{Kind: storage.LookupTypes, BoardID: board, FetchedAt: now}
		for _, x := range tys {
			ty.Items = append(ty.Items, storage.LookupItem{ID: x.ID, Name: x.Name, Inactive: x.InactiveFlag})
		}
		sub, err := cl.BoardSubTypes(c.Ctx, board)
		if err != nil {
			return nil, err
		}
		su := storage.LookupTable{Kind: storage.LookupSubtypes, BoardID: board, FetchedAt: now}
		for _, x := range sub {
			su.Items = append(su.Items, storage.LookupItem{ID: x.ID, Name: x.Name, Inactive: x.InactiveFlag})
		}
		tables = []storage.LookupTable{s, ty, su}
	}
	for _, t := range tables {
		if err := c.Store.PutLookup(t); err != nil {
			return nil, err
		}
	}
	return tables, nil
}
