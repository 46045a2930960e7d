package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// BenchmarkBillingSync syncs 2,000 workspaces × 2 products where 10% of the
// quantities changed, and reports the ConnectWise calls it used (target:
// one list per agreement plus one per 150 agreements for their status, one
// write per change), the writes of a sync already in step (target 0), and
// the wall time that many calls take at the default rate ceiling
// (engine.max_requests_per_minute = 600). The client's own ceiling is
// lifted here so the benchmark measures the engine, not the limiter.
func BenchmarkBillingSync(b *testing.B) {
	const workspaces, changed = 2000, 400 // 10% of 4,000 rows
	r := newBillRig(b, cwsim.Options{Companies: 2800}, "", func(o *Options) {
		o.ClientConfig = func(c *cwclient.Config) {
			c.MaxRequestsPerMinute = 0
			c.Retry = cwclient.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
		}
	})
	ags := r.agreements(workspaces)
	err := r.store.Update(func(t *storage.Tx) error {
		for i, a := range ags {
			ws := fmt.Sprintf("ws%04d", i)
			if err := t.PutWorkspace("bench", storage.Workspace{Key: ws, CWCompany: a[1].(string), AgreementID: a[0].(int)}); err != nil {
				return err
			}
			for _, p := range []string{"users", "devices"} {
				if _, err := t.SetWantedUsage(ws, p, 10+i%7); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	r.sync() // every addition made (or adopted) once, outside the timing
	var calls, writes, idleWrites int64
	for i := range b.N {
		b.StopTimer()
		err := r.store.Update(func(t *storage.Tx) error {
			for k := range changed {
				ws := fmt.Sprintf("ws%04d", (k*5+i)%workspaces)
				if _, err := t.SetWantedUsage(ws, []string{"users", "devices"}[k%2], 100+i+k%3); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		r.sim.ResetStats()
		b.StartTimer()
		p := r.sync()
		b.StopTimer()
		st := r.sim.Stats()
		calls, writes = st.Requests, countWrites(st)
		if p.Updates != changed || p.Errors != 0 {
			b.Fatalf("plan: %d updates, %d errors", p.Updates, p.Errors)
		}
		r.sim.ResetStats()
		if p := r.sync(); !p.InStep() {
			b.Fatalf("not in step after the sync: %+v", p.Rows[0])
		}
		idleWrites = countWrites(r.sim.Stats())
		b.StartTimer()
	}
	b.ReportMetric(float64(calls), "calls/sync")
	b.ReportMetric(float64(writes), "writes/sync")
	b.ReportMetric(float64(idleWrites), "writes/in-step-sync")
	b.ReportMetric(float64(calls)/float64(config.DefaultMaxRequestsPerMinute)*60, "s-at-600rpm")
}

func countWrites(st cwsim.Stats) int64 {
	var n int64
	for route, c := range st.ByRoute {
		if strings.HasPrefix(route, "POST") || strings.HasPrefix(route, "PATCH") {
			n += c
		}
	}
	return n
}
