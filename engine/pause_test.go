package engine

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

func fastProbe(o *Options) { o.ProbeInterval = 20 * time.Millisecond }

// TestPauseOnUnauthorized: a wrong private key pauses forwarding with the
// incident kept queued (not failed, no attempt spent); fixing the stored
// connection and reconnecting forwards it.
func TestPauseOnUnauthorized(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", fastProbe)
	good, err := r.store.Connection()
	if err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.PrivateKey = storage.NewSecret("not-the-key")
	if err := r.store.SetConnection("test", bad); err != nil {
		t.Fatal(err)
	}
	r.eng.Reconnect()
	r.submit(inc("u1", "ku", "firing"))
	r.waitFor(10*time.Second, "the pause", func() bool { return r.eng.Health().ConnectWise == "unauthorized" })
	h := r.eng.Health()
	if !h.Paused || !strings.Contains(h.PauseReason, "credentials") {
		t.Fatalf("health: %+v", h)
	}
	// Several probes later: still paused, nothing spent, nothing failed.
	time.Sleep(200 * time.Millisecond)
	h = r.eng.Health()
	if !h.Paused || h.ConnectWise != "unauthorized" || h.Failed != 0 || h.Queue != 1 {
		t.Fatalf("health while paused: %+v", h)
	}
	if got, _ := r.store.Incident("u1"); got.State != storage.StateQueued {
		t.Fatalf("u1 while paused: %+v", got)
	}
	if items := r.outboxItems(); len(items) != 1 || items[0].Attempts != 0 {
		t.Fatalf("outbox while paused: %+v", items)
	}

	if err := r.store.SetConnection("test", good); err != nil {
		t.Fatal(err)
	}
	r.eng.Reconnect()
	if got := r.waitSettled(10*time.Second, "u1")["u1"]; got.State != storage.StateTicketed {
		t.Fatalf("u1 after reconnect: %+v", got)
	}
	if h := r.eng.Health(); h.Paused || h.ConnectWise != "ok" {
		t.Fatalf("health after reconnect: %+v", h)
	}
}

// TestPauseOnForbiddenResumesByItself: a security role that cannot add
// tickets pauses forwarding ("forbidden"); the probe keeps the pause while
// the role still refuses (no 403 every probe) and lifts it by itself once
// the role is fixed.
func TestPauseOnForbiddenResumesByItself(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", fastProbe)
	r.submit(inc("w1", "kw", "firing"))
	r.waitSettled(10*time.Second, "w1")

	r.sim.SetSecurity(cwsim.FuncServiceTickets, cwsim.All, cwsim.None, cwsim.All, cwsim.All)
	r.submit(inc("f1", "kf", "firing"), inc("f2", "kf2", "firing"), inc("w2", "kw", "firing"))
	r.waitFor(10*time.Second, "the pause", func() bool { return r.eng.Health().ConnectWise == "forbidden" })
	posts := func() int64 { return r.sim.Stats().ByRoute["POST service/tickets"] }
	// Creates already in flight when the first 403 landed still arrive;
	// count only what is sent after they settle.
	before := posts()
	r.waitFor(10*time.Second, "in-flight creates to settle", func() bool {
		p := before
		time.Sleep(100 * time.Millisecond)
		before = posts()
		return before == p
	})
	time.Sleep(300 * time.Millisecond) // ~15 probes
	h := r.eng.Health()
	if !h.Paused || h.ConnectWise != "forbidden" || h.Failed != 0 {
		t.Fatalf("health while forbidden: %+v", h)
	}
	if n := posts() - before; n != 0 {
		t.Fatalf("%d ticket creates tried while the role still refuses (the probe resumed into a 403)", n)
	}
	for _, id := range []string{"f1", "f2"} {
		if got, _ := r.store.Incident(id); got.State != storage.StateQueued {
			t.Fatalf("%s while forbidden: %+v", id, got)
		}
	}

	r.sim.SetSecurity(cwsim.FuncServiceTickets, cwsim.All, cwsim.All, cwsim.All, cwsim.All)
	got := r.waitSettled(10*time.Second, "f1", "f2", "w2")
	if got["f1"].State != storage.StateTicketed || got["f2"].State != storage.StateTicketed || got["w2"].State != storage.StateNoted {
		t.Fatalf("after the role is fixed: %+v", got)
	}
	if h := r.eng.Health(); h.Paused || h.ConnectWise != "ok" || h.Failed != 0 {
		t.Fatalf("health after resume: %+v", h)
	}
	if x := r.ticketsByXRef(); len(x) != 3 {
		t.Fatalf("tickets by xref: %v", x)
	}
}

// TestPauseDoesNotFailItemsOnTheirLastAttempt: an item that has used all
// but one attempt on transient errors is not failed by a 401: a pause is
// never the item's fault.
func TestPauseDoesNotFailItemsOnTheirLastAttempt(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", func(o *Options) {
		fastProbe(o)
		o.MaxAttempts = 2
		o.RetryBase, o.RetryMax = 300*time.Millisecond, 300*time.Millisecond
	})
	r.sim.SetFaults(cwsim.Faults{Error500: 1})
	r.submit(inc("p1", "kp", "firing"))
	r.waitFor(10*time.Second, "one failed attempt", func() bool {
		items := r.outboxItems()
		return len(items) == 1 && items[0].Attempts == 1
	})
	r.sim.SetFaults(cwsim.Faults{})
	r.sim.SetSecurity(cwsim.FuncTableSetup, cwsim.None, cwsim.None, cwsim.None, cwsim.None)
	r.sim.SetSecurity(cwsim.FuncServiceTickets, cwsim.None, cwsim.None, cwsim.None, cwsim.None)
	r.waitFor(10*time.Second, "the pause", func() bool { return r.eng.Health().ConnectWise == "forbidden" })
	time.Sleep(100 * time.Millisecond)
	if got, _ := r.store.Incident("p1"); got.State != storage.StateQueued {
		t.Fatalf("p1 failed by a pause: %+v", got)
	}
	r.sim.SetSecurity(cwsim.FuncTableSetup, cwsim.All, cwsim.All, cwsim.All, cwsim.All)
	r.sim.SetSecurity(cwsim.FuncServiceTickets, cwsim.All, cwsim.All, cwsim.All, cwsim.All)
	if got := r.waitSettled(10*time.Second, "p1")["p1"]; got.State != storage.StateTicketed {
		t.Fatalf("p1: %+v", got)
	}
}

// TestRefusalOfOneItemDoesNotPauseForever: a 403 that only one request
// meets (a permission the probe does not check) pauses forwarding once;
// when the probe passes and the same item is refused again, the item is
// failed with the reason, and forwarding goes on for everyone else.
func TestRefusalOfOneItemDoesNotPauseForever(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", fastProbe)
	r.openTicket("w0", "kw") // lookups cached: only the create below is refused
	f := func(req *http.Request) bool {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "service/tickets") {
			return false
		}
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		return bytes.Contains(b, []byte("Blocked"))
	}
	r.refuse.Store(&f)
	blocked := inc("b1", "kb", "firing")
	blocked.Title = "Blocked request"
	r.submit(blocked, inc("ok1", "ko", "firing"))
	got := r.waitSettled(20*time.Second, "b1", "ok1")
	if got["b1"].State != storage.StateFailed || !strings.Contains(got["b1"].Error, "refused again right after ConnectWise accepted the credentials") {
		t.Fatalf("b1: %+v", got["b1"])
	}
	if got["ok1"].State != storage.StateTicketed {
		t.Fatalf("ok1: %+v", got["ok1"])
	}
	r.waitFor(10*time.Second, "forwarding resumed", func() bool { return !r.eng.Health().Paused })
}
