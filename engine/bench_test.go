package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// BenchmarkStorm submits 10,000 incidents over 50 keys at once and counts
// what reaches ConnectWise: one ticket per key, and at most two calls per
// key per fold window (the window is longer than the run).
// Run with -benchtime=1x: one iteration is the whole storm.
func BenchmarkStorm(b *testing.B) {
	const incidents, keys = 10000, 50
	for range b.N {
		b.StopTimer()
		r := newRig(b, cwsim.Options{}, fastTOML, func(o *Options) { o.FoldWindow = time.Hour })
		incs := make([]storage.Incident, incidents)
		ids := make([]string, incidents)
		for i := range incs {
			key := fmt.Sprintf("storm-%02d", i%keys)
			incs[i] = inc(fmt.Sprintf("s%05d", i), key, "firing")
			incs[i].User = fmt.Sprintf("user%d", i%7)
			ids[i] = incs[i].ID
		}
		b.StartTimer()
		start := time.Now()
		r.submit(incs...)
		submitted := time.Since(start)
		// Done when nothing due is left in the outbox (the fold timers for
		// the end of the window stay): cheaper to watch than 10,000
		// incidents, so the rig does not eat the CPU it measures.
		deadline := time.Now().Add(5 * time.Minute)
		for {
			due, _ := r.store.PeekDue(time.Now(), 1)
			if len(due) == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("outbox not drained: %+v", r.eng.Health())
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		got := r.waitSettled(time.Second, ids...)
		for id, in := range got {
			if in.State != storage.StateTicketed && in.State != storage.StateNoted {
				b.Fatalf("%s: %+v", id, in)
			}
		}
		st := r.sim.Stats()
		creates := st.ByRoute["POST service/tickets"]
		// The key's calls besides its create: the fold notes (and anything
		// else touching its ticket), all inside one fold window here.
		var other int64
		for k, v := range st.ByRoute {
			if strings.HasPrefix(k, "POST ") && k != "POST service/tickets" || strings.HasPrefix(k, "PATCH ") ||
				strings.HasPrefix(k, "GET service/tickets") {
				other += v
			}
		}
		lookups := st.ByRoute["GET service/boards"] + st.ByRoute["GET service/boards/{id}/statuses"] +
			st.ByRoute["GET service/boards/{id}/types"] + st.ByRoute["GET service/priorities"]
		b.Logf("simulator calls by route: %v", st.ByRoute)
		if creates > keys {
			b.Errorf("%d ticket creates for %d keys", creates, keys)
		}
		if x := r.ticketsByXRef(); len(x) != keys {
			b.Errorf("%d tickets by xref, want %d", len(x), keys)
		}
		if perKey := float64(other) / keys; perKey > 2 {
			b.Errorf("%.2f note calls per key per fold window", perKey)
		}
		b.ReportMetric(float64(creates), "creates")
		b.ReportMetric(float64(creates)/incidents, "creates/incident")
		b.ReportMetric(float64(incidents)/float64(creates), "x-fewer-tickets")
		b.ReportMetric(float64(other)/keys, "notecalls/key/window")
		b.ReportMetric(float64(st.Requests-lookups)/keys, "cw-calls/key")
		b.ReportMetric(float64(st.Requests), "cw-requests")
		b.ReportMetric(float64(incidents)/elapsed.Seconds(), "incidents/s")
		b.ReportMetric(float64(submitted.Milliseconds()), "submit-ms")
		r.halt()
		b.StartTimer()
	}
}

// BenchmarkIncidentToTicketLatency measures submit → ticketed for new keys
// (each creates a ticket) against a simulator answering every call after
// 20 ms; it reports p50 and p99.
func BenchmarkIncidentToTicketLatency(b *testing.B) {
	benchLatency(b, fastTOML)
}

// BenchmarkIncidentToTicketLatencyDefaultRate is the same with the default
// max_requests_per_minute (600, i.e. 10 calls a second).
func BenchmarkIncidentToTicketLatencyDefaultRate(b *testing.B) {
	benchLatency(b, "")
}

func benchLatency(b *testing.B, toml string) {
	r := newRig(b, cwsim.Options{Faults: cwsim.Faults{Latency: 20 * time.Millisecond}}, toml, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := r.store.Subscribe(ctx, storage.ChangeFeed)
	waitCreated := func(id string) {
		deadline := time.After(30 * time.Second)
		for {
			select {
			case ch := <-feed:
				if ch.Event.IncidentID == id && ch.Event.Kind == storage.FeedCreated {
					return
				}
				if ch.Event.IncidentID == id {
					b.Fatalf("%s: %+v", id, ch.Event)
				}
			case <-deadline:
				b.Fatalf("%s not ticketed in 30s", id)
			}
		}
	}
	// Warm up: lookups and connections.
	r.submit(inc("warm", "warm", "firing"))
	waitCreated("warm")
	var lat []time.Duration
	n := 0
	for b.Loop() {
		n++
		id := fmt.Sprintf("l%06d", n)
		start := time.Now()
		r.submit(inc(id, "lat-"+id, "firing"))
		waitCreated(id)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(r.sim.Stats().Requests)/float64(n+1), "cw-calls/incident")
}
