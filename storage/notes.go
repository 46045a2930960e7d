package storage

import (
	"bytes"
	"time"
)

// MarkNoteProcessed records that a ConnectWise note was acted on. It returns
// true the first time for an id and false ever after (across restarts), so
// calling it in the same transaction as the action's outbox entry makes
// "never act on a note twice" hold.
func (t *Tx) MarkNoteProcessed(noteID string) (first bool, err error) {
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return false, err
	}
	k := []byte(noteID)
	if err := checkKey(bktNotes, k); err != nil {
		return false, err
	}
	if b.Get(k) != nil {
		return false, nil
	}
	return true, b.Put(k, []byte(t.now.Format(time.RFC3339Nano)))
}

// NoteProcessed reports whether noteID was marked.
func (t *Tx) NoteProcessed(noteID string) (bool, error) {
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return false, err
	}
	return b.Get([]byte(noteID)) != nil, nil
}

// PruneNotes forgets notes processed before cutoff (notes of long-closed
// tickets cannot come back) and returns how many. Unreadable times are kept.
func (t *Tx) PruneNotes(cutoff time.Time) (int, error) {
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return 0, err
	}
	var old [][]byte
	err = b.ForEach(func(k, v []byte) error {
		if at, err := time.Parse(time.RFC3339Nano, string(v)); err == nil && at.Before(cutoff) {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

func (s *Store) MarkNoteProcessed(noteID string) (bool, error) {
	return updateGet(s, func(t *Tx) (bool, error) { return t.MarkNoteProcessed(noteID) })
}
func (s *Store) NoteProcessed(noteID string) (bool, error) {
	return viewGet(s, func(t *Tx) (bool, error) { return t.NoteProcessed(noteID) })
}
func (s *Store) PruneNotes(cutoff time.Time) (int, error) {
	return updateGet(s, func(t *Tx) (int, error) { return t.PruneNotes(cutoff) })
}
