package cwclient_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
)

// newSim starts a simulator on loopback and a client for it with fast,
// bounded retries.
func newSim(t testing.TB, opts cwsim.Options) (*cwsim.Server, *cwclient.Client) {
	t.Helper()
	sim := cwsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := clientFor(t, srv.URL, sim.Credentials(), nil)
	return sim, c
}

func clientFor(t testing.TB, url string, cr cwsim.Credentials, edit func(*cwclient.Config)) *cwclient.Client {
	t.Helper()
	cfg := cwclient.Config{
		Site: url, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey, PrivateKey: cr.PrivateKey,
		ClientID: cr.ClientID, APIVersion: cr.APIVersion,
		Retry: cwclient.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := cwclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerErrorsRetriedWithBackoffThenReported(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{Error500: 1}})
	_, err := c.SystemInfo(context.Background())
	if !errors.Is(err, cwclient.ErrServer) {
		t.Fatalf("got %v, want a server error", err)
	}
	if got := sim.Stats().ByRoute["GET system/info"]; got != 4 {
		t.Fatalf("GET system/info sent %d times, want 4 (MaxAttempts)", got)
	}
	// Once the server recovers, the same client works.
	sim.SetFaults(cwsim.Faults{})
	if _, err := c.SystemInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAuthErrorsNeverRetried(t *testing.T) {
	sim := cwsim.New(cwsim.Options{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cr := sim.Credentials()
	wrongKey := clientFor(t, srv.URL, cr, func(c *cwclient.Config) { c.PrivateKey = "wrong-private-key" })
	_, err := wrongKey.SystemInfo(context.Background())
	if !errors.Is(err, cwclient.ErrUnauthorized) {
		t.Fatalf("got %v, want unauthorized", err)
	}
	if strings.Contains(err.Error(), "wrong-private-key") || strings.Contains(err.Error(), cr.PrivateKey) {
		t.Fatalf("error leaks a key: %v", err)
	}
	wrongClient := clientFor(t, srv.URL, cr, func(c *cwclient.Config) { c.ClientID = "00000000-0000-0000-0000-000000000000" })
	_, err = wrongClient.SystemInfo(context.Background())
	if !errors.Is(err, cwclient.ErrUnauthorized) || !strings.Contains(err.Error(), "clientId") {
		t.Fatalf("got %v, want unauthorized naming the clientId", err)
	}
	if got := sim.Stats().ByRoute["GET system/info"]; got != 2 {
		t.Fatalf("401s were retried: %d requests, want 2", got)
	}

	sim.SetSecurity(cwsim.FuncCompanyMaintenance, cwsim.None, cwsim.None, cwsim.None, cwsim.None)
	c := clientFor(t, srv.URL, cr, nil)
	_, err = cwclient.Collect(c.Companies(context.Background(), cwclient.Query{}))
	if !errors.Is(err, cwclient.ErrForbidden) {
		t.Fatalf("got %v, want forbidden", err)
	}
	if got := sim.Stats().ByRoute["GET company/companies"]; got != 1 {
		t.Fatalf("403 was retried: %d requests", got)
	}
}

func TestRetryAfterHonouredByEveryCaller(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{RateLimit: 1, RetryAfter: time.Second}})
	ctx := context.Background()
	start := time.Now()
	// The first caller gets a 429; it waits out the window and retries
	// once the server lets it through.
	var wg sync.WaitGroup
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, firstErr = c.SystemInfo(ctx)
	}()
	for sim.Stats().Served429 == 0 {
		time.Sleep(time.Millisecond)
	}
	sim.SetFaults(cwsim.Faults{})
	// Other callers arriving inside the window must wait too.
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Priorities(ctx)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("finished after %v, before the 1s Retry-After window ended", d)
	}
	st := sim.Stats()
	if st.InsideRetryAfter != 0 {
		t.Fatalf("%d requests arrived inside the Retry-After window", st.InsideRetryAfter)
	}
	if st.ByRoute["GET system/info"] != 2 || st.ByRoute["GET service/priorities"] != 8 {
		t.Fatalf("unexpected request counts: %v", st.ByRoute)
	}
}

func TestRateLimitedErrorAfterLastAttempt(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{RateLimit: 1, RetryAfter: time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := c.SystemInfo(ctx)
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("the error should say what it gave up on: %v", err)
	}
	st := sim.Stats()
	if st.InsideRetryAfter != 0 || st.Requests != 2 {
		t.Fatalf("%d requests, %d inside the Retry-After window; want 2 and 0", st.Requests, st.InsideRetryAfter)
	}
}

func TestLostCreateIsReportedNotRepeated(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{LostResponse: 1}})
	ctx := context.Background()
	xref := "cwb-test-lost-1"
	_, err := c.CreateTicket(ctx, cwclient.Ticket{
		Summary: "Lost answer", Company: &cwclient.Ref{Identifier: "Catchall"},
		Board: &cwclient.Ref{Name: "Security"}, ExternalXRef: xref,
	})
	if !errors.Is(err, cwclient.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want outcome unknown", err)
	}
	if got := sim.Stats().ByRoute["POST service/tickets"]; got != 1 {
		t.Fatalf("the create was sent %d times; an unknown outcome must not be retried", got)
	}
	sim.SetFaults(cwsim.Faults{})
	found, err := c.TicketsByXRef(ctx, xref)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Summary != "Lost answer" {
		t.Fatalf("search by externalXRef found %+v, want the one committed ticket", found)
	}
}

func TestLostPatchReplaceIsRetried(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{})
	ctx := context.Background()
	tk, err := c.CreateTicket(ctx, cwclient.Ticket{Summary: "x", Company: &cwclient.Ref{Identifier: "Catchall"}, Board: &cwclient.Ref{Name: "Security"}})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(cwsim.Faults{LostResponse: 1})
	_, err = c.PatchTicket(ctx, tk.ID, cwclient.Replace("summary", "y"))
	// Every answer was lost: ConnectWise got the request each time, so this
	// is no outage (not a network error) but an answer that never came.
	if !errors.Is(err, cwclient.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want outcome unknown after the retries", err)
	}
	if n := sim.Stats().ByRoute["PATCH service/tickets/{id}"]; n != 4 {
		t.Fatalf("PATCH sent %d times, want 4: a replace-only PATCH is idempotent and retried", n)
	}
}

func TestValidationErrorNamesFields(t *testing.T) {
	_, c := newSim(t, cwsim.Options{})
	_, err := c.CreateTicket(context.Background(), cwclient.Ticket{Summary: strings.Repeat("x", 101), Company: &cwclient.Ref{Identifier: "Catchall"}, Board: &cwclient.Ref{Name: "Security"}})
	var e *cwclient.Error
	if !errors.As(err, &e) || e.Kind != cwclient.KindValidation {
		t.Fatalf("got %v, want a validation error", err)
	}
	if !slices.ContainsFunc(e.Fields, func(f cwclient.FieldError) bool { return f.Field == "summary" }) {
		t.Fatalf("fields %+v do not name summary", e.Fields)
	}
	_, err = c.AddNote(context.Background(), 1, cwclient.Note{Text: "no flag"})
	if !errors.Is(err, cwclient.ErrConfig) {
		t.Fatalf("note without a display flag: got %v", err)
	}
}

func TestPagingBothModes(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Companies: 2400})
	ctx := context.Background()
	want := len(sim.Records("companies"))
	sim.ResetStats()
	all, err := cwclient.Collect(c.Companies(ctx, cwclient.Query{Fields: []string{"id", "identifier", "name"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != want {
		t.Fatalf("forward-only got %d companies, want %d", len(all), want)
	}
	if !slices.IsSortedFunc(all, func(a, b cwclient.Company) int { return a.ID - b.ID }) {
		t.Fatal("forward-only results not in id order")
	}
	if n := sim.Stats().Requests; n != int64((want+cwclient.MaxPageSize)/cwclient.MaxPageSize) {
		t.Fatalf("forward-only used %d requests for %d records", n, want)
	}
	sorted, err := cwclient.Collect(c.Companies(ctx, cwclient.Query{OrderBy: "name desc", PageSize: 500}))
	if err != nil {
		t.Fatal(err)
	}
	if len(sorted) != want {
		t.Fatalf("navigable got %d, want %d", len(sorted), want)
	}
	for i := 1; i < len(sorted); i++ {
		if strings.ToLower(sorted[i-1].Name) < strings.ToLower(sorted[i].Name) {
			t.Fatalf("not sorted desc at %d: %q < %q", i, sorted[i-1].Name, sorted[i].Name)
		}
	}
	// Conditions survive every page: a filter matching a subset.
	n, err := c.Count(ctx, "company/companies", cwclient.Eq("deletedFlag", true))
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := cwclient.Collect(c.Companies(ctx, cwclient.Query{Conditions: cwclient.Eq("deletedFlag", true), PageSize: 3}))
	if err != nil || len(deleted) != n || n == 0 {
		t.Fatalf("deleted: got %d (%v), count says %d", len(deleted), err, n)
	}
}

func TestCodebaseRefreshOn404(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{})
	ctx := context.Background()
	if _, err := c.SystemInfo(ctx); err != nil {
		t.Fatal(err)
	}
	sim.SetCodebase("v2026_1/")
	if _, err := c.SystemInfo(ctx); err != nil {
		t.Fatalf("after a codebase move: %v", err)
	}
	if cb, _ := c.Codebase(ctx); cb != "v2026_1/" {
		t.Fatalf("codebase = %q", cb)
	}
	// A genuine 404 is still reported as such.
	_, err := c.Ticket(ctx, 999999)
	if !errors.Is(err, cwclient.ErrNotFound) {
		t.Fatalf("got %v, want not found", err)
	}
}

func TestTicketLifecycle(t *testing.T) {
	_, c := newSim(t, cwsim.Options{})
	ctx := context.Background()
	boards, err := c.ServiceBoards(ctx)
	if err != nil || len(boards) == 0 {
		t.Fatalf("boards: %v %v", boards, err)
	}
	for _, b := range boards {
		if b.InactiveFlag || b.ProjectFlag {
			t.Fatalf("ServiceBoards returned %+v", b)
		}
	}
	statuses, err := c.BoardStatuses(ctx, boards[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var closed cwclient.BoardStatus
	for _, s := range statuses {
		if s.ClosedStatus && !s.Inactive {
			closed = s
		}
	}
	co, err := c.CompanyByIdentifier(ctx, "Catchall")
	if err != nil {
		t.Fatal(err)
	}
	tk, err := c.CreateTicket(ctx, cwclient.Ticket{Summary: "Malware on PC-7", Company: &cwclient.Ref{ID: co.ID},
		Board: &cwclient.Ref{ID: boards[0].ID}, ExternalXRef: "cwb-1", InitialDescription: "line one\nline two"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNote(ctx, tk.ID, cwclient.Note{Text: "again", DetailDescriptionFlag: true}); err != nil {
		t.Fatal(err)
	}
	notes, err := c.TicketNotes(ctx, tk.ID, cwclient.Query{})
	if err != nil || len(notes) != 2 {
		t.Fatalf("notes: %+v %v", notes, err)
	}
	upd, err := c.PatchTicket(ctx, tk.ID, cwclient.Replace("status", cwclient.Ref{ID: closed.ID}))
	if err != nil || !upd.ClosedFlag {
		t.Fatalf("close: %+v %v", upd, err)
	}
	open, err := cwclient.Collect(c.Tickets(ctx, cwclient.Query{Conditions: cwclient.And(cwclient.Eq("externalXRef", "cwb-1"), cwclient.Eq("closedFlag", false))}))
	if err != nil || len(open) != 0 {
		t.Fatalf("open tickets after close: %+v %v", open, err)
	}
}

func TestCatalogAndAdditions(t *testing.T) {
	_, c := newSim(t, cwsim.Options{})
	ctx := context.Background()
	subs, err := c.ProductSubCategories(ctx)
	if err != nil || len(subs) == 0 {
		t.Fatal(subs, err)
	}
	types, err := c.ProductTypes(ctx)
	if err != nil || len(types) == 0 {
		t.Fatal(types, err)
	}
	item := cwclient.CatalogItem{Identifier: "SEC-USER", Description: "Security seat", CustomerDescription: "Security seat (per user)",
		Subcategory: &cwclient.Ref{ID: subs[0].ID}, Type: &cwclient.Ref{ID: types[0].ID}}
	created, err := c.CreateCatalogItem(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateCatalogItem(ctx, item)
	var e *cwclient.Error
	if !errors.As(err, &e) || e.Kind != cwclient.KindValidation || len(e.Fields) == 0 || e.Fields[0].Code != "ObjectExists" {
		t.Fatalf("duplicate identifier: got %v", err)
	}
	co, err := c.CompanyByIdentifier(ctx, "Catchall")
	if err != nil {
		t.Fatal(err)
	}
	ags, err := cwclient.Collect(cwclient.List[cwclient.Agreement](ctx, c, "finance/agreements", cwclient.Query{}))
	if err != nil || len(ags) == 0 {
		t.Fatal(ags, err)
	}
	_ = co
	ag := ags[0]
	add, err := c.CreateAddition(ctx, ag.ID, cwclient.Addition{Product: &cwclient.Ref{ID: created.ID}, Quantity: 3, BillCustomer: cwclient.BillCustomerBillable})
	if err != nil {
		t.Fatal(err)
	}
	add, err = c.SetAdditionQuantity(ctx, ag.ID, add.ID, 42)
	if err != nil || add.Quantity != 42 {
		t.Fatalf("%+v %v", add, err)
	}
	got, err := c.Additions(ctx, ag.ID, cwclient.Query{Conditions: cwclient.And(cwclient.Eq("product/identifier", "SEC-USER"), cwclient.IsNull("cancelledDate"))})
	if err != nil || len(got) != 1 || got[0].Quantity != 42 {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestRateCeilingShared(t *testing.T) {
	sim, _ := newSim(t, cwsim.Options{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := clientFor(t, srv.URL, sim.Credentials(), func(c *cwclient.Config) { c.MaxRequestsPerMinute = 600 })
	if _, err := c.Codebase(context.Background()); err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	// 600/min is 10/s with a burst of 10: in 300 ms at most 13 requests go out.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Priorities(ctx) }()
	}
	wg.Wait()
	if n := sim.Stats().Requests; n > 14 || n < 10 {
		t.Fatalf("%d requests in 300ms under a 600/min ceiling", n)
	}
}

func TestWriteNotRetriedAfterServerError(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{Error500: 1}})
	_, err := c.CreateTicket(context.Background(), cwclient.Ticket{Summary: "x", Company: &cwclient.Ref{Identifier: "Catchall"}, Board: &cwclient.Ref{Name: "Security"}})
	if !errors.Is(err, cwclient.ErrServer) {
		t.Fatalf("got %v, want a server error", err)
	}
	// A 5xx may come after the write was done: only the caller can search
	// before creating again, so the client must not repeat it.
	if n := sim.Stats().ByRoute["POST service/tickets"]; n != 1 {
		t.Fatalf("POST sent %d times after a 500", n)
	}
}

func TestRetryAfterHoldsRequestsQueuedAtTheRateLimiter(t *testing.T) {
	sim := cwsim.New(cwsim.Options{Faults: cwsim.Faults{RateLimit: 0.2, RetryAfter: time.Second}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := clientFor(t, srv.URL, sim.Credentials(), func(c *cwclient.Config) {
		c.MaxRequestsPerMinute = 1200
		c.Retry.MaxAttempts = 10
	})
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() { c.Priorities(context.Background()) })
	}
	wg.Wait()
	if st := sim.Stats(); st.InsideRetryAfter != 0 {
		t.Fatalf("%d requests inside a Retry-After window (%d 429s served)", st.InsideRetryAfter, st.Served429)
	}
}

func TestRetryAfterWindowCarriesToANewClient(t *testing.T) {
	sim, c := newSim(t, cwsim.Options{Faults: cwsim.Faults{RateLimit: 1, RetryAfter: time.Second}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c.SystemInfo(ctx) // gets the 429, then gives up waiting
	held := c.HeldUntil()
	if time.Until(held) < 500*time.Millisecond {
		t.Fatalf("window ends %v from now, want about 1s", time.Until(held))
	}
	sim.SetFaults(cwsim.Faults{})
	c2 := clientFor(t, srv.URL, sim.Credentials(), nil)
	c2.HoldUntil(held)
	if _, err := c2.SystemInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(held) {
		t.Fatal("the new client sent before the window ended")
	}
	if st := sim.Stats(); st.InsideRetryAfter != 0 {
		t.Fatalf("%d requests inside the window", st.InsideRetryAfter)
	}
}

// TestHugeRetryAfterIsCapped: one "Retry-After: 86400" holds calls back
// for the cap, not a day, and the error says what was asked.
func TestHugeRetryAfterIsCapped(t *testing.T) {
	sim := cwsim.New(cwsim.Options{Faults: cwsim.Faults{RateLimit: 1, RetryAfter: 24 * time.Hour}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := clientFor(t, srv.URL, sim.Credentials(), func(cfg *cwclient.Config) {
		cfg.Retry.MaxAttempts = 1
		cfg.MaxRetryAfter = 300 * time.Millisecond
	})
	_, err := c.SystemInfo(context.Background())
	var ce *cwclient.Error
	if !errors.As(err, &ce) || ce.Kind != cwclient.KindRateLimited || ce.RetryAfter != 300*time.Millisecond || ce.RetryAfterAsked != 24*time.Hour {
		t.Fatalf("got %#v, want a 429 capped at 300ms, asked 24h", err)
	}
	if !strings.Contains(err.Error(), "over the cap") {
		t.Errorf("error does not say it was capped: %v", err)
	}
	if until := c.HeldUntil(); time.Until(until) > time.Second {
		t.Fatalf("held until %v, more than the cap", until)
	}
	sim.SetFaults(cwsim.Faults{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.SystemInfo(ctx); err != nil {
		t.Fatalf("after the capped window: %v", err)
	}
}

// TestBrokenCreateAnswersAreOutcomeUnknown: a 2xx that names no record is
// not a success; the caller must search, not trust id 0.
func TestBrokenCreateAnswersAreOutcomeUnknown(t *testing.T) {
	for _, f := range []cwsim.Faults{{ZeroIDAnswer: 1}, {TruncatedAnswer: 1}} {
		sim, c := newSim(t, cwsim.Options{Faults: f})
		_, err := c.CreateTicket(context.Background(), cwclient.Ticket{Summary: "x", Company: &cwclient.Ref{Identifier: "Catchall"},
			Board: &cwclient.Ref{Name: "Security"}})
		if !errors.Is(err, cwclient.ErrOutcomeUnknown) {
			t.Fatalf("%+v: got %v, want outcome unknown", f, err)
		}
		if sim.Stats().ByRoute["POST service/tickets"] != 1 {
			t.Fatalf("%+v: the create was sent again", f)
		}
	}
}
