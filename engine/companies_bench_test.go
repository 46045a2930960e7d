package engine

import (
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
)

// BenchmarkCompanySyncSteadyState is the company cache's refresh at 20,000
// companies once it is full and nothing changed in ConnectWise: the
// requests each refresh costs (target at most 2), counted by the
// simulator. It also reports what the first full sync cost.
func BenchmarkCompanySyncSteadyState(b *testing.B) {
	r := newRig(b, cwsim.Options{Companies: 20000}, "", func(o *Options) { o.CompanySyncInterval = time.Hour })
	want := len(r.sim.Records("companies"))
	r.waitFor(2*time.Minute, "the first full sync", func() bool {
		st, _ := r.store.CompanySync()
		return !st.FullAt.IsZero()
	})
	r.halt()
	if cs, _ := r.store.Companies(); len(cs) != want {
		b.Fatalf("full sync cached %d of %d companies", len(cs), want)
	}
	full := r.sim.Stats().ByRoute[companiesRoute]
	r.sim.ResetStats()
	b.ResetTimer()
	for range b.N {
		res, err := r.eng.syncCompanies(b.Context())
		if err != nil || res.full || res.changed != 0 {
			b.Fatalf("refresh: %+v, %v", res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.sim.Stats().Requests)/float64(b.N), "requests/refresh")
	b.ReportMetric(float64(full), "requests/full-sync")
}
