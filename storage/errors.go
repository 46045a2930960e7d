package storage

import (
	"errors"
	"fmt"
	"strconv"

	berrors "go.etcd.io/bbolt/errors"
)

var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("storage: store is closed")
	// ErrNotFound is wrapped by lookups of a record that does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrInUse is wrapped by Open when another process (or another Open in this
	// process) holds the data dir's lock.
	ErrInUse = errors.New("data dir in use by another cwbridge")
	// ErrInvalid is wrapped when a caller hands in a record that cannot be stored
	// (empty key, key too long, bad enum value).
	ErrInvalid = errors.New("storage: invalid record")
	// ErrConflict is matched by a *ConflictError: a save made on values
	// that someone else has changed since (see CheckRevision).
	ErrConflict = errors.New("storage: changed by someone else")
)

// inUseError carries the data dir and matches both ErrInUse and bbolt's
// ErrTimeout, so callers may test for either.
type inUseError struct{ dir string }

func (e *inUseError) Error() string   { return ErrInUse.Error() + ": " + e.dir }
func (e *inUseError) Unwrap() []error { return []error{ErrInUse, berrors.ErrTimeout} }

// CorruptError reports a stored value that cannot be decoded. It names the
// bucket and key so the record can be found with the bbolt CLI; the rest of
// the store stays usable.
type CorruptError struct {
	Bucket string // slash-separated bucket path, e.g. "outbox/pending"
	Key    string // printable key: quoted for string keys, decimal for sequences
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("storage: %s/%s: %v", e.Bucket, e.Key, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

func corrupt(b bucketPath, key []byte, err error) *CorruptError {
	return &CorruptError{Bucket: b.String(), Key: b.keyString(key), Err: err}
}

func notFound(b bucketPath, key []byte) error {
	return fmt.Errorf("%w: %s/%s", ErrNotFound, b, b.keyString(key))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// seqString prints a big-endian sequence key as a number.
func seqString(k []byte) string {
	if len(k) != 8 {
		return strconv.Quote(string(k))
	}
	return strconv.FormatUint(btoi(k), 10)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
