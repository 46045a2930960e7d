package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
)

// TestOneGateForEveryClient: the engine and any number of sessions (their
// clients from ClientFor, a wizard's draft included) share one rate
// ceiling, and none calls ConnectWise inside a Retry-After window that
// another one received.
func TestOneGateForEveryClient(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "\n[engine]\nmax_requests_per_minute = 120\n", nil)
	r.halt() // only the clients below talk to the simulator
	conn, err := r.store.Connection()
	if err != nil {
		t.Fatal(err)
	}
	draft := conn
	draft.FallbackCompany = "Elsewhere" // unsaved: a client of its own, behind the same gate
	var sessions []func() error
	for i := range 6 {
		c := conn
		if i%3 == 2 {
			c = draft
		}
		cl, err := r.eng.ClientFor(c)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, func() error { _, err := cl.SystemInfo(context.Background()); return err })
	}
	if a, _ := r.eng.ClientFor(conn); a != r.eng.Client() {
		t.Fatal("a session's client for the stored connection is not the engine's")
	}

	// Rate: 120/min is 2 a second with a burst of 2.
	r.sim.ResetStats()
	start := time.Now()
	var wg sync.WaitGroup
	for _, call := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 1500*time.Millisecond {
				if err := call(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if got, limit := r.sim.Stats().Requests, int64(2+2*elapsed.Seconds()+1); got > limit {
		t.Fatalf("%d requests in %v from %d clients: over the one ceiling (%d)", got, elapsed, len(sessions), limit)
	}

	// Retry-After: a draft client's 429 holds back the engine's client.
	r.sim.SetFaults(cwsim.Faults{RateLimit: 1, RetryAfter: time.Second})
	if err := sessions[2](); err == nil {
		t.Fatal("the 429 fault let a call through")
	}
	r.sim.SetFaults(cwsim.Faults{})
	for _, call := range sessions {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.sim.Stats().InsideRetryAfter; n != 0 {
		t.Fatalf("%d calls inside the Retry-After window another client received", n)
	}
}
