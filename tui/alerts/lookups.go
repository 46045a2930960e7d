package alerts

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/engine"
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
	kinds := []storage.LookupKind{storage.LookupStatuses, storage.LookupTypes, storage.LookupSubtypes}
	if board == 0 {
		kinds = []storage.LookupKind{storage.LookupBoards, storage.LookupPriorities}
	}
	var tables []storage.LookupTable
	for _, k := range kinds {
		t, err := engine.FetchLookup(c.Ctx, cl, k, board, c.Now())
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	for _, t := range tables {
		if err := c.Store.PutLookup(t); err != nil {
			return nil, err
		}
	}
	return tables, nil
}
