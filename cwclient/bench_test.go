package cwclient_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
)

// companyFields is what the company cache keeps.
var companyFields = []string{"id", "identifier", "name", "status/name", "deletedFlag", "_info/lastUpdated"}

// BenchmarkSyncCompanies pages 20,000 companies out of an in-process
// simulator. B/company counts every byte allocated in the process during
// the sync, the simulator's share included; requests/sync counts calls.
func BenchmarkSyncCompanies(b *testing.B) {
	sim, c := newSim(b, cwsim.Options{Companies: 20000})
	ctx := context.Background()
	n := len(sim.Records("companies"))
	if _, err := c.Codebase(ctx); err != nil {
		b.Fatal(err)
	}
	out := make([]cwclient.Company, 0, n)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	sim.ResetStats()
	b.ResetTimer()
	for b.Loop() {
		out = out[:0]
		for co, err := range c.Companies(ctx, cwclient.Query{Fields: companyFields}) {
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, co)
		}
		if len(out) != n {
			b.Fatalf("synced %d of %d", len(out), n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/float64(n), "B/company")
	b.ReportMetric(float64(sim.Stats().Requests)/float64(b.N), "requests/sync")
}
