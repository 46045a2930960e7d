package intake

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cwbridge/cwbridge/storage"
)

func TestUsage(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.store.PutWorkspace("test", storage.Workspace{Key: "acme", CWCompany: "ACME"}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutProductMapping("test", storage.ProductMapping{Key: "users", CreateNew: &storage.NewCatalogItem{Identifier: "SEC-USER"}}); err != nil {
		t.Fatal(err)
	}
	usage := func(body string) answer {
		return h.do(http.MethodPost, "/v1/usage", "application/json", body, "Bearer "+testToken)
	}
	a := usage(`{"company": "acme", "product": "users", "quantity": 42}`).want(t, http.StatusAccepted)
	if a.json["quantity"] != 42.0 {
		t.Fatalf("answer %s", a.body)
	}
	u, err := h.store.Usage("acme", "users")
	if err != nil || u.Wanted != 42 || !u.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatalf("stored %+v %v", u, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"company":"nope","product":"users","quantity":1}`, "company"},
		{`{"company":"acme","product":"nope","quantity":1}`, "product"},
		{`{"company":"acme","product":"users","quantity":-1}`, "quantity"},
		{`{"company":"acme","product":"users","quantity":1.5}`, "quantity"},
		{`{"company":"acme","product":"users","quantity":"3"}`, "quantity"},
		{`{"company":"acme","product":"users","quantity":1e3}`, "quantity"},
		{`{"company":"acme","product":"users","quantity":99999999999999999999}`, "quantity"},
		{`{"company":"acme","product":"users"}`, "quantity"},
		{`{"product":"users","quantity":1}`, "company"},
		{`{"company":7,"product":"users","quantity":1}`, "company"},
		{`{"company":"acme","product":"users","quantity":1,"qty":2}`, "qty"},
		{`{"company":"acme","product":"users","quantity":1,"quantity":2}`, "quantity"},
		{`{"Company":"acme","product":"users","quantity":1}`, "Company"},
		{`{"company":"acme"`, ""},
		{`[1]`, ""},
		{`{"company":"acme","product":"users","quantity":1} {}`, ""},
	} {
		a := usage(tc.body).want(t, http.StatusBadRequest)
		if a.json["field"] != tc.field {
			t.Fatalf("%s: %s", tc.body, a.body)
		}
	}
	h.do(http.MethodPost, "/v1/usage", "text/plain", `{}`, "Bearer "+testToken).want(t, http.StatusUnsupportedMediaType)
	if u, _ := h.store.Usage("acme", "users"); u.Wanted != 42 {
		t.Fatalf("a refused request changed usage: %+v", u)
	}
}

func TestHealthz(t *testing.T) {
	h := newHarness(t, nil)
	a := h.do(http.MethodGet, "/healthz", "", "", "").want(t, http.StatusOK)
	if a.json["status"] != "ok" || a.json["queue"] != 0.0 || a.json["connectwise"] != "unknown" {
		t.Fatalf("healthz %s", a.body)
	}
	h2 := newHarness(t, func(o *Options) { o.Health = func() Health { return Health{ConnectWise: "unauthorized"} } })
	h2.post("application/json", incJSON("h1")).want(t, http.StatusAccepted)
	a = h2.do(http.MethodGet, "/healthz", "", "", "").want(t, http.StatusOK)
	if a.json["queue"] != 1.0 || a.json["connectwise"] != "unauthorized" {
		t.Fatalf("healthz %s", a.body)
	}
	until := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	h3 := newHarness(t, func(o *Options) {
		o.Health = func() Health {
			return Health{ConnectWise: "throttled", ErrorRate: 0.5, Failed: 2, ThrottledUntil: until}
		}
	})
	a = h3.do(http.MethodGet, "/healthz", "", "", "").want(t, http.StatusOK)
	if a.json["connectwise"] != "throttled" || a.json["throttled_until"] != "2026-03-01T12:05:00Z" ||
		a.json["connectwise_error_rate"] != 0.5 || a.json["failed"] != 2.0 {
		t.Fatalf("healthz %s", a.body)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(o *Options) { o.Registry = reg })
	h.post("application/json", "["+incJSON("m1")+","+incJSON("m1")+"]").want(t, http.StatusAccepted)
	h.post("application/json", incJSON("m2", `"severity":"x"`)).want(t, http.StatusBadRequest)
	a := h.get("/metrics").want(t, http.StatusOK)
	if !strings.HasPrefix(a.hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("Content-Type %q", a.hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		"cwbridge_intake_incidents_accepted_total 1",
		"cwbridge_intake_incidents_duplicates_total 1",
		`cwbridge_intake_batches_rejected_total{reason="invalid"} 1`,
		"cwbridge_intake_queue_depth 1",
		`cwbridge_intake_requests_total{code="202",route="/v1/incidents"} 1`,
		`cwbridge_intake_requests_total{code="400",route="/v1/incidents"} 1`,
		`cwbridge_intake_request_duration_seconds_count{route="/v1/incidents"} 2`,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// A second intake on the same registry is refused, not a panic.
	if _, err := New(Options{Store: h.store, Token: storage.NewSecret("t"), Registry: reg}); err == nil {
		t.Fatal("double registration accepted")
	}
}

// TestServeShutdown: Serve answers on a real listener and returns nil once
// its context ends.
func TestServeShutdown(t *testing.T) {
	h := newHarness(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/v1/incidents", strings.NewReader(incJSON("sv1")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
