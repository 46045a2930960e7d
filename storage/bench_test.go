package storage

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// producers is the number of concurrent callers in the enqueue benchmarks.
const producers = 64

func benchIncident(id string) Incident {
	return Incident{
		ID: id, Type: "threat", Company: "acme", Title: "Suspicious sign-in from new country",
		Severity: "high", Status: "firing", User: "j.doe@acme.example", Device: "LAPTOP-42",
		SourceIP: "203.0.113.7", Reasons: []string{"impossible travel", "new device"},
		Description: "A sign-in was seen from a country this user has never signed in from.",
		OccurredAt:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// benchEnqueue: each of 64 producers enqueues ONE incident per call,
// durably. Compare the two modes for the group-commit figure.
func benchEnqueue(b *testing.B, opts Options) {
	s := openT(b, b.TempDir(), opts)
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("inc-%d", n.Add(1))
			if a, _, err := s.EnqueueIncidents(ctx, []Incident{benchIncident(id)}); err != nil || a != 1 {
				b.Errorf("enqueue: %d %v", a, err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "incidents/s")
	if opts.OneTxPerEnqueue {
		b.ReportMetric(float64(b.N), "fsync-tx")
	} else {
		b.ReportMetric(float64(b.N)/float64(s.groupCommits.Load()), "incidents/commit")
	}
	if s.QueueLen() != b.N {
		b.Fatalf("QueueLen %d, want %d", s.QueueLen(), b.N)
	}
}

func BenchmarkEnqueueGroupCommit(b *testing.B)      { benchEnqueue(b, Options{}) }
func BenchmarkEnqueueOneTxPerIncident(b *testing.B) { benchEnqueue(b, Options{OneTxPerEnqueue: true}) }

// BenchmarkIncidentKeyRead is a point read of one incident key among 10,000.
func BenchmarkIncidentKeyRead(b *testing.B) {
	s := newT(b)
	const n = 10000
	err := s.Update(func(tx *Tx) error {
		for i := range n {
			k := IncidentKey{Key: fmt.Sprintf("acme|threat|Suspicious sign-in %d", i), Workspace: "acme", CWCompany: "ACME", CWCompanyID: 250,
				AlertType: "threat", TicketID: 100000 + i, ExternalXRef: fmt.Sprintf("cwb-%016x", i), State: KeyOpen,
				CreatedAt: time.Now(), LastNoteAt: time.Now(), Occurrences: 3}
			if err := tx.PutIncidentKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("acme|threat|Suspicious sign-in %d", (i*7919)%n)
	}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k, err := s.IncidentKey(keys[i%len(keys)])
			if err != nil || k.TicketID == 0 {
				b.Fatal(err)
			}
		}
	})
	// The same read straight from bbolt: a read transaction, a B+tree
	// lookup and the JSON decode. This is what a cache miss costs.
	b.Run("bbolt+json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var k IncidentKey
			err := s.View(func(tx *Tx) (err error) {
				k, err = tx.IncidentKey(keys[i%len(keys)])
				return err
			})
			if err != nil || k.TicketID == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompanies20k: write 20,000 companies in one transaction, and
// list them all.
func BenchmarkReplaceCompanies20k(b *testing.B) {
	s := newT(b)
	cs := benchCompanies()
	for b.Loop() {
		if err := s.ReplaceCompanies(cs, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListCompanies20k(b *testing.B) {
	s := newT(b)
	if err := s.ReplaceCompanies(benchCompanies(), time.Now()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cs, err := s.Companies()
		if err != nil || len(cs) != 20000 {
			b.Fatal(len(cs), err)
		}
	}
}

func benchCompanies() []Company {
	cs := make([]Company, 20000)
	for i := range cs {
		cs[i] = Company{ID: i + 1, Identifier: fmt.Sprintf("CO%05d", i+1), Name: fmt.Sprintf("Company number %d, Inc.", i+1), LastUpdated: time.Now()}
	}
	return cs
}
