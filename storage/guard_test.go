package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// seedDB writes a small but multi-page database into dir and closes it.
func seedDB(t testing.TB, dir string, n int) string {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	incs := make([]Incident, n)
	for i := range incs {
		incs[i] = Incident{ID: fmt.Sprintf("inc-%06d", i), Key: fmt.Sprintf("k%d", i), Title: strings.Repeat("x", 200)}
	}
	if _, _, err := s.EnqueueIncidents(context.Background(), incs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, FileName)
}

func wantDamaged(t *testing.T, err error, path string) {
	t.Helper()
	var de *DamagedError
	if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
		t.Fatalf("want a DamagedError, got %v", err)
	}
	msg := err.Error()
	for _, w := range []string{path, "restore it from a backup", "move it aside"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
		t.Errorf("message is not one line: %q", msg)
	}
}

func TestOpenTruncatedFileIsNamedNotPanic(t *testing.T) {
	dir := t.TempDir()
	path := seedDB(t, dir, 500)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	wantDamaged(t, err, path)
}

func TestOpenRefusesExistingEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	wantDamaged(t, err, path)
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Fatalf("the empty file was written to (%d bytes)", fi.Size())
	}

	// A file that does not exist yet is created, as before.
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("new data dir: %v", err)
	}
	s.Close()
}

func TestOpenGarbageFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	wantDamaged(t, err, path)
}

// Random byte flips anywhere in the file: Open either works or says the file is damaged;
// it never panics or faults.
func TestOpenFlippedBytesNeverCrash(t *testing.T) {
	src := seedDB(t, t.TempDir(), 2000)
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		data := append([]byte(nil), orig...)
		for range 1 + r.IntN(64) {
			data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
		}
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{})
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Logf("seed %d: %v", seed, err) // e.g. a schema record that fails to decode: also clear, also no crash
			}
			damaged++
			continue
		}
		s.Close()
	}
	if damaged == 0 {
		t.Fatal("no flip was detected: the test damages nothing")
	}
}

// Damage in a page Open itself would not read (a leaf of the incidents
// bucket) is found by the check on Open, not in some later request.
func TestOpenChecksEveryPage(t *testing.T) {
	dir := t.TempDir()
	path := seedDB(t, dir, 2000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	pg := len(data) / ps / 2
	for i := pg*ps + 16; i < (pg+1)*ps; i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	wantDamaged(t, err, path)
	if !strings.Contains(err.Error(), "consistency check") {
		t.Fatalf("want the check to find it: %v", err)
	}
}

// The cost of the check Open runs, on a ~50 MB file:
//
//	go test -run ^$ -bench ConsistencyCheck ./storage
func BenchmarkConsistencyCheck50MB(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for batch := 0; ; batch++ {
		incs := make([]Incident, 1000)
		for i := range incs {
			incs[i] = Incident{ID: fmt.Sprintf("inc-%d-%d", batch, i), Key: fmt.Sprintf("k%d-%d", batch, i), Title: strings.Repeat("t", 100), Description: strings.Repeat("d", 300)}
		}
		if _, _, err := s.EnqueueIncidents(context.Background(), incs); err != nil {
			b.Fatal(err)
		}
		var used int64
		_ = s.db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
		if used >= 50<<20 {
			break
		}
	}
	b.SetBytes(50 << 20)
	for b.Loop() {
		if err := checkDB(s.db, s.Path()); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
}

func TestOpenTightensExistingDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir is %04o", fi.Mode().Perm())
	}
}
