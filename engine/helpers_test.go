package engine

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwclient/cwsim"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/storage/config"
)

// rig is an engine over a temp store, pointed at an in-process simulator.
type rig struct {
	t     testing.TB
	sim   *cwsim.Server
	store *storage.Store
	cfg   *config.Config
	eng   *Engine
	stop  context.CancelFunc
	done  chan struct{}
}

const rigTOML = `
[[routes]]
alert_type = "malware"
board = "Security"
status = "New"
priority = "Priority 2 - Quick Response"
type = "Incident"
closed_status = "Closed"

[[routes]]
alert_type = "phishing"
enabled = false
board = "Security"
`

func newRig(t testing.TB, simOpts cwsim.Options, extraTOML string, edit func(*Options)) *rig {
	t.Helper()
	sim := cwsim.New(simOpts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse("test.toml", []byte(rigTOML+extraTOML))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	cr := sim.Credentials()
	if err := st.SetConnection("test", storage.Connection{Site: srv.URL, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"}); err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Config: cfg, FoldWindow: time.Hour, PollInterval: time.Hour,
		RetryBase: 5 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		ClientConfig: func(c *cwclient.Config) {
			c.Retry = cwclient.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
		}}
	if edit != nil {
		edit(&o)
	}
	eng, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, sim: sim, store: st, cfg: cfg, eng: eng}
	r.start()
	t.Cleanup(r.halt)
	return r
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan struct{})
	go func() { r.eng.Run(ctx); close(r.done) }()
}

func (r *rig) halt() {
	if r.stop != nil {
		r.stop()
		<-r.done
		r.stop = nil
	}
}

func (r *rig) submit(incs ...storage.Incident) {
	r.t.Helper()
	for i := range incs {
		if incs[i].State == "" {
			incs[i].State = storage.StateQueued
		}
	}
	if _, _, err := r.eng.Submit(context.Background(), incs); err != nil {
		r.t.Fatal(err)
	}
}

// waitState waits until every id reaches a state other than queued.
func (r *rig) waitSettled(timeout time.Duration, ids ...string) map[string]storage.Incident {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	out := map[string]storage.Incident{}
	for {
		pending := 0
		for _, id := range ids {
			inc, err := r.store.Incident(id)
			if err != nil {
				r.t.Fatal(err)
			}
			out[id] = inc
			if inc.State == storage.StateQueued {
				pending++
			}
		}
		if pending == 0 {
			return out
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d incidents still queued after %v; health %+v", pending, timeout, r.eng.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ticketsByXRef counts the simulator's tickets per externalXRef.
func (r *rig) ticketsByXRef() map[string]int {
	out := map[string]int{}
	for _, t := range r.sim.Records("tickets") {
		if x, _ := t["externalXRef"].(string); strings.HasPrefix(x, "cwb-") {
			out[x]++
		}
	}
	return out
}

func inc(id, key, status string) storage.Incident {
	return storage.Incident{ID: id, Type: "malware", Company: "acme", Title: "Malware on PC-7", Severity: "high",
		Key: key, Status: status, User: "ann", Device: "PC-7"}
}

// num reads a JSON number from a simulator record, whatever Go type holds it.
func num(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return -1
}
