package storage

import (
	"fmt"
	"time"
)

// LookupKind names a ConnectWise lookup table.
type LookupKind string

const (
	LookupBoards     LookupKind = "boards"     // global
	LookupPriorities LookupKind = "priorities" // global
	LookupStatuses   LookupKind = "statuses"   // per board
	LookupTypes      LookupKind = "types"      // per board
	LookupSubtypes   LookupKind = "subtypes"   // per board
)

func (k LookupKind) perBoard() bool {
	return k == LookupStatuses || k == LookupTypes || k == LookupSubtypes
}

// LookupItem is one row of a lookup table.
type LookupItem struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Inactive bool   `json:"inactive,omitempty"`
	Closed   bool   `json:"closed,omitempty"` // statuses: a closed status
}

// LookupTable is one fetched table with the time it was fetched.
type LookupTable struct {
	Kind      LookupKind   `json:"kind"`
	BoardID   int          `json:"board_id,omitempty"` // per-board kinds only
	FetchedAt time.Time    `json:"fetched_at"`
	Items     []LookupItem `json:"items"`
}

// lookupKey is "boards", "priorities" or "<kind>/<board id>".
func lookupKey(kind LookupKind, boardID int) ([]byte, error) {
	switch {
	case kind == LookupBoards || kind == LookupPriorities:
		if boardID != 0 {
			return nil, invalid("lookup %s is not per board", kind)
		}
		return []byte(kind), nil
	case kind.perBoard():
		if boardID <= 0 {
			return nil, invalid("lookup %s needs a board id", kind)
		}
		return fmt.Appendf(nil, "%s/%d", kind, boardID), nil
	}
	return nil, invalid("unknown lookup kind %q", kind)
}

// PutLookup replaces one table.
func (t *Tx) PutLookup(tbl LookupTable) error {
	k, err := lookupKey(tbl.Kind, tbl.BoardID)
	if err != nil {
		return err
	}
	if err := putJSON(t.tx, bktLookups, k, tbl); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeLookups, Key: string(k)})
	return nil
}

// Lookup returns one table; ErrNotFound if never fetched.
func (t *Tx) Lookup(kind LookupKind, boardID int) (LookupTable, error) {
	var tbl LookupTable
	k, err := lookupKey(kind, boardID)
	if err != nil {
		return tbl, err
	}
	err = getJSON(t.tx, bktLookups, k, &tbl)
	return tbl, err
}

func (s *Store) PutLookup(tbl LookupTable) error {
	return s.Update(func(t *Tx) error { return t.PutLookup(tbl) })
}
func (s *Store) Lookup(kind LookupKind, boardID int) (LookupTable, error) {
	return viewGet(s, func(t *Tx) (LookupTable, error) { return t.Lookup(kind, boardID) })
}
