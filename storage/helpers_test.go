package storage

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openT(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newT(t testing.TB) *Store { return openT(t, t.TempDir(), Options{}) }

// rawUpdate edits the file behind the API's back, as a corrupting disk or a
// hand edit would. The store must be closed.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func mustBucket(t *testing.T, tx *bolt.Tx, p bucketPath) *bolt.Bucket {
	t.Helper()
	b, err := getBucket(tx, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCorrupt(t *testing.T, err error, bucket, key string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CorruptError for %s/%s, got %v", bucket, key, err)
	}
	if ce.Bucket != bucket || ce.Key != key {
		t.Fatalf("CorruptError names %s/%s, want %s/%s (%v)", ce.Bucket, ce.Key, bucket, key, err)
	}
}
