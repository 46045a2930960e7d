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

// NoteMarkedAt returns when noteID was marked; ok is false if it was not
// (or its time is unreadable).
func (t *Tx) NoteMarkedAt(noteID string) (at time.Time, ok bool, err error) {
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return time.Time{}, false, err
	}
	v := b.Get([]byte(noteID))
	if v == nil {
		return time.Time{}, false, nil
	}
	at, perr := time.Parse(time.RFC3339Nano, string(v))
	return at, perr == nil, nil
}

// ForgetNote removes noteID's mark, so MarkNoteProcessed is first again.
func (t *Tx) ForgetNote(noteID string) error {
	b, err := getBucket(t.tx, bktNotes)
	if err != nil {
		return err
	}
	return b.Delete([]byte(noteID))
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
func (s *Store) NoteMarkedAt(noteID string) (at time.Time, ok bool, err error) {
	err = s.View(func(t *Tx) error { at, ok, err = t.NoteMarkedAt(noteID); return err })
	return at, ok, err
}
func (s *Store) ForgetNote(noteID string) error {
	return s.Update(func(t *Tx) error { return t.ForgetNote(noteID) })
}
func (s *Store) PruneNotes(cutoff time.Time) (int, error) {
	return updateGet(s, func(t *Tx) (int, error) { return t.PruneNotes(cutoff) })
}
