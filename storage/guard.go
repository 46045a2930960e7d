package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged is wrapped by Open when the database file cannot be read as a
// bbolt file (truncated, overwritten, bit rot). See DamagedError.
var ErrDamaged = errors.New("storage: database file is damaged")

// DamagedError names the damaged file and what to do about it. Its message
// is meant to be shown as is: one line, no stack trace.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("storage: %s is damaged (%s); restore it from a backup, or move it aside (e.g. mv %s %s.damaged) to start fresh with an empty database",
		e.Path, e.Reason, e.Path, e.Path)
}

func (e *DamagedError) Unwrap() error { return ErrDamaged }

// guarded runs fn, turning a panic or a memory fault in it into a
// DamagedError: bbolt trusts its file and panics (or faults on a wild
// pointer into the mmap) when the pages are garbage.
func guarded(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Reason: fmt.Sprint(r)}
		}
	}()
	return fn()
}

// openBolt opens path with bbolt behind the guard. An existing empty file
// is refused: bbolt would silently initialise it, and an empty
// cwbridge.db is a truncated one (bbolt writes four pages on create).
func openBolt(path string, o *bolt.Options) (*bolt.DB, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		return nil, &DamagedError{Path: path, Reason: "the file is empty (0 bytes)"}
	}
	var db *bolt.DB
	err := guarded(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, o)
		return err
	})
	var de *DamagedError
	if errors.As(err, &de) {
		return nil, err
	}
	if err != nil {
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) ||
			errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrInvalidMapping) {
			return nil, &DamagedError{Path: path, Reason: err.Error()}
		}
		return nil, err
	}
	return db, nil
}

// checkDB checks the file page by page on every Open (about 15 ms for a
// 50 MB file with a warm page cache, see BenchmarkConsistencyCheck50MB), so
// a damaged file is refused at start-up rather than faulting in some later
// read: first our own bounds-checked walk
// (pagewalk.go), then bbolt's tx.Check for what the walk does not cover
// (freelist, unreachable pages, key order). The walk must come first:
// tx.Check runs in a goroutine of its own and trusts the page offsets, so
// on a garbage page it would crash the process where no recover reaches.
func checkDB(db *bolt.DB, path string) error {
	return guarded(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			if err := walkPages(db, tx); err != nil {
				return &DamagedError{Path: path, Reason: "consistency check: " + err.Error()}
			}
			// Drain the channel: returning early would end the transaction
			// (and Open would unmap the file) under the checker's feet.
			var first error
			for err := range tx.Check() {
				if err != nil && first == nil {
					first = &DamagedError{Path: path, Reason: "consistency check: " + err.Error()}
				}
			}
			return first
		})
	})
}

// tightenDir makes an existing data dir 0700: MkdirAll leaves one made
// looser by hand (or by a umask) as it is, and the dir holds the secrets. A
// shared dir (sticky, like /tmp) or one owned by another user is left
// alone: it is not ours to change, and the file itself is 0600.
func tightenDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o077 == 0 || fi.Mode()&os.ModeSticky != 0 {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("storage: data dir %s is open to other users and cannot be made 0700: %w", dir, err)
	}
	return nil
}
