package cwsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFault500(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{Error500: 1}})
	r := api(t, s, "POST", "service/tickets", ticketBody(nil), "Authorization", "") // decided before auth
	m := wantError(t, r, 500, "UnexpectedError")
	_ = m
	if len(s.Records("tickets")) != 6 {
		t.Error("500 fault still created a ticket")
	}
	if st := s.Stats(); st.Served500 != 1 || st.Requests != 1 || st.ByRoute["POST service/tickets"] != 1 {
		t.Errorf("stats: %+v", st)
	}
	s.SetFaults(Faults{})
	wantStatus(t, api(t, s, "GET", "system/info", nil), 200)
}

func TestFault429AndRetryAfterWindow(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{RateLimit: 1, RetryAfter: 1500 * time.Millisecond}})
	r := api(t, s, "GET", "company/companies", nil)
	wantStatus(t, r, 429)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if string(r.body) != `{"error":"ConnectWiseAPI","message":"Too many requests. Please try again in 1 seconds."}` {
		t.Errorf("429 body %s", r.body)
	}
	s.SetFaults(Faults{})
	// In flight (inside the 100 ms grace): not counted.
	api(t, s, "GET", "company/companies", nil)
	if n := s.Stats().InsideRetryAfter; n != 0 {
		t.Errorf("grace: %d", n)
	}
	time.Sleep(150 * time.Millisecond)
	wantStatus(t, api(t, s, "GET", "company/companies", nil), 200)
	if n := s.Stats().InsideRetryAfter; n != 1 {
		t.Errorf("inside window: %d", n)
	}
	time.Sleep(time.Second)
	api(t, s, "GET", "company/companies", nil)
	st := s.Stats()
	if st.InsideRetryAfter != 1 || st.Served429 != 1 || st.Requests != 4 || st.ByRoute["GET company/companies"] != 4 {
		t.Errorf("after window: %+v", st)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || len(st.ByRoute) != 0 || st.Served429 != 0 {
		t.Errorf("reset: %+v", st)
	}
	// RetryAfter is whole seconds, at least 1.
	s.SetFaults(Faults{RateLimit: 1, RetryAfter: 2500 * time.Millisecond})
	if r := api(t, s, "GET", "system/info", nil); r.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	s.SetFaults(Faults{RateLimit: 1})
	if r := api(t, s, "GET", "system/info", nil); r.header.Get("Retry-After") != "1" {
		t.Errorf("default Retry-After %q", r.header.Get("Retry-After"))
	}
}

func TestFaultLatency(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{Latency: 80 * time.Millisecond}})
	start := time.Now()
	wantStatus(t, api(t, s, "GET", "system/info", nil), 200)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("latency %v", d)
	}
}

func TestFaultLostResponse(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{LostResponse: 1}})
	h := authHeaders(s)
	h.Set("Content-Type", "application/json")
	req, _ := http.NewRequest("POST", s.URL()+"/v2025_8/apis/3.0/service/tickets",
		strings.NewReader(`{"summary":"lost","company":{"id":19301},"board":{"name":"Security"},"externalXRef":"lost-1"}`))
	req.Header = h
	res, err := testClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("lost response answered %d", res.StatusCode)
	}
	tickets := s.Records("tickets")
	if len(tickets) != 7 || tickets[6]["externalXRef"] != "lost-1" {
		t.Fatalf("write not committed: %d tickets", len(tickets))
	}
	if s.Stats().Lost != 1 {
		t.Errorf("Lost %d", s.Stats().Lost)
	}
	// Reads and failed writes are answered.
	wantStatus(t, api(t, s, "GET", "service/tickets?conditions=externalXRef%3D%22lost-1%22", nil), 200)
	wantFieldError(t, api(t, s, "POST", "service/tickets", ticketBody(map[string]any{"summary": nil})), "summary", "MissingRequiredField")
	// Direct ServeHTTP without a hijackable writer aborts the handler.
	func() {
		defer func() {
			if recover() != http.ErrAbortHandler {
				t.Error("no abort")
			}
		}()
		rr := &recorder{h: http.Header{}}
		req, _ := http.NewRequest("PATCH", "http://x/v2025_8/apis/3.0/service/tickets/250001",
			strings.NewReader(`[{"op":"replace","path":"summary","value":"y"}]`))
		req.Header = h.Clone()
		s.ServeHTTP(rr, req)
	}()
}

type recorder struct {
	h      http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }

func TestFaultHTMLAndSSL(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{HTMLAnswer: true}})
	r := api(t, s, "GET", "company/companies", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html") {
		t.Errorf("html: %d %q", r.status, r.header.Get("Content-Type"))
	}
	res, err := testClient.Get(s.URL() + "/login/companyinfo/cwbridge")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Error("companyinfo not html")
	}
	s.SetFaults(Faults{SSLRequired: true})
	r = api(t, s, "GET", "company/companies", nil)
	if r.status != 400 || string(r.body) != `{"code":"Security","message":"SSL is required.","errors":null}` {
		t.Errorf("ssl: %d %s", r.status, r.body)
	}
	res, err = testClient.Get(s.URL() + "/login/companyinfo/cwbridge")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Error("companyinfo affected by SSLRequired")
	}
}

func TestByRouteKeys(t *testing.T) {
	s := newTestServer(t, Options{})
	api(t, s, "GET", "company/companies/19301/sites", nil)
	api(t, s, "PATCH", "finance/agreements/1001/additions/3001", []map[string]any{{"op": "replace", "path": "quantity", "value": 3}})
	api(t, s, "GET", "no/such/7", nil)
	st := s.Stats()
	for _, k := range []string{"GET company/companies/{id}/sites", "PATCH finance/agreements/{id}/additions/{id}", "GET no/such/{id}"} {
		if st.ByRoute[k] != 1 {
			t.Errorf("ByRoute[%q] = %d (%v)", k, st.ByRoute[k], st.ByRoute)
		}
	}
}

// TestFaultSlowCommitLandsAfterTheCallerLeft: a create whose caller gave
// up still commits, later, as ConnectWise does.
func TestFaultSlowCommitLandsAfterTheCallerLeft(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{SlowCommit: 300 * time.Millisecond}})
	before := len(s.Records("tickets"))
	b, _ := json.Marshal(ticketBody(nil))
	req, _ := http.NewRequest("POST", s.URL()+"/v2025_8/apis/3.0/service/tickets", bytes.NewReader(b))
	req.Header = authHeaders(s)
	req.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := testClient.Do(req.WithContext(ctx)); err == nil {
		t.Fatal("the caller got an answer before the slow commit")
	}
	if n := len(s.Records("tickets")); n != before {
		t.Fatalf("committed before the delay: %d tickets", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Records("tickets")) == before {
		if time.Now().After(deadline) {
			t.Fatal("the slow create never committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFaultBrokenAnswers(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{ZeroIDAnswer: 1}})
	before := len(s.Records("tickets"))
	r := api(t, s, "POST", "service/tickets", ticketBody(nil))
	if r.status != 201 || string(r.body) != `{"id":0}` {
		t.Fatalf("zero-id answer: %d %s", r.status, r.body)
	}
	s.SetFaults(Faults{TruncatedAnswer: 1})
	r = api(t, s, "POST", "service/tickets", ticketBody(nil))
	if r.status != 201 || json.Valid(r.body) || len(r.body) == 0 {
		t.Fatalf("truncated answer: %d %s", r.status, r.body)
	}
	if n := len(s.Records("tickets")); n != before+2 {
		t.Fatalf("broken answers must still commit: %d tickets, want %d", n, before+2)
	}
	if st := s.Stats(); st.Broken != 2 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestFaultHangUpDoesNothing(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{HangUp: true}})
	before := len(s.Records("tickets"))
	b, _ := json.Marshal(ticketBody(nil))
	req, _ := http.NewRequest("POST", s.URL()+"/v2025_8/apis/3.0/service/tickets", bytes.NewReader(b))
	req.Header = authHeaders(s)
	if _, err := testClient.Do(req); err == nil {
		t.Fatal("a hung-up server answered")
	}
	if n := len(s.Records("tickets")); n != before || s.Stats().Dropped == 0 {
		t.Fatalf("hang-up: %d tickets (want %d), %+v", n, before, s.Stats())
	}
	s.SetFaults(Faults{})
	wantStatus(t, api(t, s, "GET", "system/info", nil), 200)
}
