package engine

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// rig is an engine over a temp store, pointed at an in-process simulator.
type rig struct {
	t     testing.TB
	sim   *cwsim.Server
	store *storage.Store
	cfg   *config.Config
	eng   *Engine
	opts  Options
	lose  *atomic.Pointer[func(*http.Request) bool]
	lost  *atomic.Int64 // answers lost by loseAnswers/loseWhen
	// seen, when set, sees every request before the simulator does (it
	// may block it, or read its body and put it back).
	seen *atomic.Pointer[func(*http.Request)]
	stop context.CancelFunc
	done chan struct{}
	srv  *httptest.Server
	back *http.Server // serves srv's address again after an outage
	// refuse answers 403 to the requests it selects (nil: none); gateway
	// answers them 504 while the simulator goes on with them.
	refuse, gateway *atomic.Pointer[func(*http.Request) bool]
}

// The malware route links nothing, so tests of other things see no link
// items; linking is tested on the threat route (links_test.go).
const rigTOML = `
[[routes]]
alert_type = "malware"
board = "Security"
status = "New"
priority = "Priority 2 - Quick Response"
type = "Incident"
closed_status = "Closed"
link_contact = false
link_configuration = false

[[routes]]
alert_type = "phishing"
enabled = false
board = "Security"
`

func newRig(t testing.TB, simOpts cwsim.Options, extraTOML string, edit func(*Options)) *rig {
	t.Helper()
	sim := cwsim.New(simOpts)
	var lose atomic.Pointer[func(*http.Request) bool]
	var lost atomic.Int64
	var seen atomic.Pointer[func(*http.Request)]
	var refuse, gateway atomic.Pointer[func(*http.Request) bool]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if f := gateway.Load(); f != nil && (*f)(req) {
			// A gateway that gives up with a 504 while ConnectWise goes
			// on with the request (and may commit it).
			body, _ := io.ReadAll(req.Body)
			r2 := req.Clone(context.WithoutCancel(req.Context()))
			r2.Body = io.NopCloser(bytes.NewReader(body))
			go sim.ServeHTTP(httptest.NewRecorder(), r2)
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		if f := seen.Load(); f != nil {
			(*f)(req)
		}
		if f := refuse.Load(); f != nil && (*f)(req) {
			// A 403 for this request alone, as a role lacking a
			// permission only it needs would give.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"NotAuthorized","message":"You do not have Add permission for this request."}`))
			return
		}
		if f := lose.Load(); f != nil && (*f)(req) {
			// Let the simulator do the work, then drop the answer.
			sim.ServeHTTP(httptest.NewRecorder(), req)
			lost.Add(1)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		sim.ServeHTTP(w, req)
	}))
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
	if err := config.Apply(st, cfg); err != nil {
		t.Fatal(err)
	}
	cr := sim.Credentials()
	if err := st.SetConnection("test", storage.Connection{Site: srv.URL, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"}); err != nil {
		t.Fatal(err)
	}
	// No company sync unless a test asks: tests count ConnectWise calls.
	o := Options{Store: st, Config: cfg, FoldWindow: time.Hour, PollInterval: time.Hour, CompanySyncInterval: -1,
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
	r := &rig{t: t, sim: sim, store: st, cfg: cfg, eng: eng, opts: o, lose: &lose, lost: &lost, seen: &seen, srv: srv, refuse: &refuse, gateway: &gateway}
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

// loseAnswers makes the requests match selects (method, and a path
// suffix such as "/notes") commit in the simulator with their answers lost;
// loseAnswers("", "") stops it.
func (r *rig) loseAnswers(method, suffix string) {
	if method == "" {
		r.lose.Store(nil)
		return
	}
	r.loseWhen(func(req *http.Request) bool {
		return req.Method == method && strings.HasSuffix(req.URL.Path, suffix)
	})
}

// loseWhen loses the answers of the requests f selects (nil: none).
func (r *rig) loseWhen(f func(*http.Request) bool) {
	if f == nil {
		r.lose.Store(nil)
		return
	}
	r.lose.Store(&f)
}

// restart stops the engine and starts a new one over the same store, as a
// process restart would; edit, when set, adjusts the new engine's options.
func (r *rig) restart(edit func(*Options)) {
	r.t.Helper()
	r.halt()
	o := r.opts
	if edit != nil {
		edit(&o)
	}
	eng, err := New(o)
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
	r.start()
}

// down takes the simulator off the network: connections are refused, as
// with a host that is down. up brings it back on the same address.
func (r *rig) down() {
	r.t.Helper()
	r.srv.Listener.Close()
	r.srv.CloseClientConnections()
}

func (r *rig) up() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.srv.Listener.Addr().String())
	if err != nil {
		r.t.Fatal(err)
	}
	r.back = &http.Server{Handler: r.srv.Config.Handler}
	go r.back.Serve(l)
	r.t.Cleanup(func() { r.back.Close() })
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

// scopedKey is the name the store keeps a key under (see storage.KeyOf).
func scopedKey(workspace, key string) string { return storage.ScopedKey(workspace, key) }
