// Package storage keeps all of cwbridge's state in one bbolt file,
// <data dir>/cwbridge.db: settings, the ConnectWise cache, routes, incidents
// and their ticket state, the outbox of pending work, the live feed, usage
// and the audit log. The layout is drawn in schema.go.
//
// Writes go through Store.Update (or a method wrapping it) and are durable
// when they return. Incident intake is group-committed (enqueue.go).
// Watchers subscribe to changes instead of polling (subscribe.go).
package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file inside the data dir.
const FileName = "cwbridge.db"

// Options tune a Store. The zero value is the production setting.
type Options struct {
	// LockTimeout bounds the wait for the file lock; past it Open fails with
	// ErrInUse. Default 1s.
	LockTimeout time.Duration
	// FeedCap is how many feed events are kept; older ones are trimmed.
	// Default 1000.
	FeedCap int
	// SubscriberBuffer is each subscriber's channel size. Default 64.
	SubscriberBuffer int
	// OneTxPerEnqueue turns group commit off: every EnqueueIncidents call is
	// its own transaction and fsync. For the comparison benchmark.
	OneTxPerEnqueue bool
	// MaxGroup caps how many incidents one group commit takes. Default 4096.
	MaxGroup int
	// KeyCacheSize is how many decoded incident keys Store.IncidentKey keeps
	// in memory. Default 8192.
	KeyCacheSize int
	// Now replaces the clock in tests.
	Now func() time.Time
}

func (o *Options) fill() {
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.FeedCap <= 0 {
		o.FeedCap = 1000
	}
	if o.SubscriberBuffer <= 0 {
		o.SubscriberBuffer = 64
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 4096
	}
	if o.KeyCacheSize <= 0 {
		o.KeyCacheSize = 8192
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store is the open database. All methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	dir  string
	path string
	opts Options

	// mu is held shared by every operation and exclusively by Close, so
	// Close waits for running transactions and later calls see closed.
	mu     sync.RWMutex
	closed bool

	pending atomic.Int64 // mirror of meta/outbox_pending, for QueueLen
	writes  atomic.Int64 // write transactions run (committed or not), for Stats

	enq           chan *enqueueReq
	committerDone chan struct{}
	groupCommits  atomic.Int64 // transactions the committer ran, for tests

	hub  hub
	keys *keyCache
}

// Open opens (creating if needed) the store in dir. The dir is created 0700
// if missing and the file is kept 0600. If another cwbridge holds the file,
// Open fails after opts.LockTimeout with an error matching ErrInUse (and
// bbolt's ErrTimeout) that names dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.fill()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create data dir: %w", err)
	}
	if err := tightenDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	db, err := openBolt(path, &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
		NoStatistics: true, // saves a mutex per read tx; we never read bbolt stats
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &inUseError{dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	// bbolt only applies the mode on create; tighten a file made looser by hand.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
	// The first transactions read the root pages; a damaged file fails
	// here, behind the guard, rather than later in some request.
	if err := checkDB(db, path); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := guarded(path, func() error { return db.Update(initSchema) }); err != nil && !errors.Is(err, errSkip) {
		_ = db.Close()
		var de *DamagedError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, fmt.Errorf("storage: %s: %w", path, err)
	}
	s := &Store{db: db, dir: dir, path: path, opts: opts, enq: make(chan *enqueueReq, 256), committerDone: make(chan struct{})}
	if err := guarded(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			n, err := readCounter(tx, keyOutboxPending)
			s.pending.Store(int64(n))
			return err
		})
	}); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.hub.init(opts.SubscriberBuffer)
	s.keys = newKeyCache(opts.KeyCacheSize)
	go s.committer()
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close waits for running transactions, commits incident batches already
// handed to the committer, closes subscriber channels and the file. A second
// Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.enq) // no sender is mid-send: senders hold mu shared
	s.mu.Unlock()
	<-s.committerDone
	s.hub.close()
	return s.db.Close()
}

// Tx is one transaction. Methods that change data fail in a View.
// Byte slices never escape a Tx: every method copies or decodes.
type Tx struct {
	s            *Store
	tx           *bolt.Tx
	now          time.Time
	changes      []Change
	pendingDelta int64    // outbox/pending items added minus removed
	failedDelta  int64    // outbox/failed likewise
	keysWritten  []string // incident keys this tx wrote; see keyCache
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return mapErr(s.db.View(func(btx *bolt.Tx) error {
		return fn(&Tx{s: s, tx: btx, now: s.opts.Now().UTC()})
	}))
}

// Update runs fn in a read-write transaction, committed and fsync'd before
// Update returns. Subscribers hear about the changes only after the commit.
// fn must not call Store methods (it would wait on itself); use the Tx.
func (s *Store) Update(fn func(*Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	t := &Tx{s: s, now: s.opts.Now().UTC()}
	s.writes.Add(1)
	err := s.db.Update(func(btx *bolt.Tx) error {
		t.tx = btx
		if err := fn(t); err != nil {
			return err
		}
		return t.flushCounters()
	})
	s.keys.end(t.keysWritten) // committed or rolled back
	if err != nil {
		return mapErr(err)
	}
	s.afterCommit(t)
	return nil
}

// Stats counts what the store did since Open, for tests and benchmarks
// that count the cost of a piece of work.
type Stats struct {
	// WriteTxs is every write transaction, the group commits included,
	// committed or rolled back: each takes bbolt's writer lock, and each
	// that commits is an fsync.
	WriteTxs int64
}

// Stats returns the counts so far.
func (s *Store) Stats() Stats { return Stats{WriteTxs: s.writes.Load()} }

func (s *Store) afterCommit(t *Tx) {
	if t.pendingDelta != 0 {
		s.pending.Add(t.pendingDelta)
	}
	if len(t.changes) > 0 {
		s.hub.publish(t.changes)
	}
}

func (t *Tx) changed(c Change) { t.changes = append(t.changes, c) }

// flushCounters folds this transaction's outbox deltas into meta/.
func (t *Tx) flushCounters() error {
	if err := t.addCounter(keyOutboxPending, t.pendingDelta); err != nil {
		return err
	}
	return t.addCounter(keyOutboxFailed, t.failedDelta)
}

func (t *Tx) addCounter(key []byte, delta int64) error {
	if delta == 0 {
		return nil
	}
	meta, err := getBucket(t.tx, bktMeta)
	if err != nil {
		return err
	}
	n, err := readCounter(t.tx, key)
	if err != nil {
		return err
	}
	return meta.Put(key, itob(uint64(max(int64(n)+delta, 0))))
}

func readCounter(tx *bolt.Tx, key []byte) (uint64, error) {
	meta, err := getBucket(tx, bktMeta)
	if err != nil {
		return 0, err
	}
	v := meta.Get(key)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, corrupt(bktMeta, key, fmt.Errorf("counter is %d bytes, want 8", len(v)))
	}
	return btoi(v), nil
}

func mapErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }
