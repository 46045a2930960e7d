package intake

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/storage"
)

func TestAuth(t *testing.T) {
	h := newHarness(t, nil)
	body := incJSON("e1")
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + testToken + "x", "Basic " + testToken, testToken, "Bearer"} {
		a := h.do(http.MethodPost, "/v1/incidents", "application/json", body, auth).want(t, http.StatusUnauthorized)
		if !strings.HasPrefix(a.hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%q: WWW-Authenticate %q", auth, a.hdr.Get("WWW-Authenticate"))
		}
	}
	h.do(http.MethodGet, "/metrics", "", "", "").want(t, http.StatusUnauthorized)
	h.do(http.MethodGet, "/v1/incidents/e1", "", "", "Bearer nope").want(t, http.StatusUnauthorized)
	h.do(http.MethodPost, "/v1/usage", "application/json", `{}`, "").want(t, http.StatusUnauthorized)
	h.do(http.MethodGet, "/nowhere", "", "", "").want(t, http.StatusUnauthorized)
	h.nothingStored("e1")
	// The scheme is case-insensitive (RFC 6750).
	h.do(http.MethodPost, "/v1/incidents", "application/json", body, "bearer "+testToken).want(t, http.StatusAccepted)
}

func TestNewNeedsToken(t *testing.T) {
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := New(Options{Store: st}); err == nil {
		t.Fatal("New without a token succeeded")
	}
	if _, err := New(Options{Token: storage.NewSecret("x")}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

func TestAcceptForms(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name, ct, body string
		accepted       float64
	}{
		{"object", "application/json", incJSON("o1"), 1},
		{"array", "application/json; charset=utf-8", "[" + incJSON("a1") + "," + incJSON("a2") + "]", 2},
		{"ndjson", "application/x-ndjson", incJSON("n1") + "\n\n" + incJSON("n2") + "\n" + incJSON("n3") + "\n", 3},
	} {
		a := h.post(tc.ct, tc.body).want(t, http.StatusAccepted)
		if a.json["accepted"] != tc.accepted || a.json["duplicates"] != 0.0 {
			t.Fatalf("%s: %s", tc.name, a.body)
		}
	}
	if h.store.QueueLen() != 6 {
		t.Fatalf("queue %d", h.store.QueueLen())
	}
	inc, err := h.store.Incident("n2")
	if err != nil {
		t.Fatal(err)
	}
	if inc.State != storage.StateQueued || !inc.ReceivedAt.Equal(testNow) || inc.Severity != "medium" ||
		inc.Status != "firing" || inc.Key != "acme|threat|Suspicious sign-in" {
		t.Fatalf("stored %+v", inc)
	}
}

func TestIdempotentOnID(t *testing.T) {
	h := newHarness(t, nil)
	h.post("application/json", incJSON("d1")).want(t, http.StatusAccepted)
	a := h.post("application/json", `{"id":"d1","type":"malware","company":"acme","title":"changed"}`).want(t, http.StatusAccepted)
	if a.json["accepted"] != 0.0 || a.json["duplicates"] != 1.0 {
		t.Fatalf("second post: %s", a.body)
	}
	a = h.post("application/x-ndjson", incJSON("d2")+"\n"+incJSON("d2")+"\n"+incJSON("d1")).want(t, http.StatusAccepted)
	if a.json["accepted"] != 1.0 || a.json["duplicates"] != 2.0 {
		t.Fatalf("batch with repeats: %s", a.body)
	}
	if h.store.QueueLen() != 2 {
		t.Fatalf("queue %d", h.store.QueueLen())
	}
	if inc, _ := h.store.Incident("d1"); inc.Title != "Suspicious sign-in" {
		t.Fatalf("duplicate overwrote the first: %+v", inc)
	}
}

// TestRejectBatch: one bad item refuses the whole batch, naming the item
// and the field, and nothing is stored.
func TestRejectBatch(t *testing.T) {
	h := newHarness(t, nil)
	ok1, ok2 := incJSON("ok1"), incJSON("ok2")
	for _, tc := range []struct {
		name, bad string
		field     string
	}{
		{"missing id", `{"type":"threat","company":"acme","title":"T"}`, "id"},
		{"long id", incJSON(strings.Repeat("i", 201)), "id"},
		{"missing type", `{"id":"x","company":"acme","title":"T"}`, "type"},
		{"unknown type", `{"id":"x","type":"edr_custom","company":"acme","title":"T"}`, "type"},
		{"missing company", `{"id":"x","type":"threat","title":"T"}`, "company"},
		{"missing title", `{"id":"x","type":"threat","company":"acme"}`, "title"},
		{"severity", incJSON("x", `"severity":"urgent"`), "severity"},
		{"status", incJSON("x", `"status":"closed"`), "status"},
		{"source_ip", incJSON("x", `"source_ip":"300.1.1.1"`), "source_ip"},
		{"reasons", incJSON("x", `"reasons":[1]`), "reasons"},
		{"occurred_at", incJSON("x", `"occurred_at":"2026-13-01T00:00:00Z"`), "occurred_at"},
		{"unknown field", incJSON("x", `"severty":"high"`), "severty"},
		{"wrong type", incJSON("x", `"user":["a"]`), "user"},
		{"description too long", incJSON("x", `"description":"`+strings.Repeat("d", MaxDescriptionLen+1)+`"`), "description"},
		{"malformed", `{"id":"x",,}`, ""},
	} {
		for _, form := range []struct{ ct, body string }{
			{"application/json", "[" + ok1 + "," + ok2 + "," + tc.bad + "]"},
			{"application/x-ndjson", ok1 + "\n" + ok2 + "\n\n" + tc.bad + "\n"},
		} {
			a := h.post(form.ct, form.body).want(t, http.StatusBadRequest)
			if a.json["index"] != 2.0 || a.json["field"] != tc.field {
				t.Fatalf("%s (%s): %s", tc.name, form.ct, a.body)
			}
		}
	}
	h.nothingStored("ok1", "ok2", "x")
	a := h.post("application/json", `{"id":`).want(t, http.StatusBadRequest)
	if a.json["index"] != 0.0 || !strings.Contains(a.json["error"].(string), "malformed JSON") {
		t.Fatalf("malformed object: %s", a.body)
	}
}

func TestRouteMakesTypeKnown(t *testing.T) {
	h := newHarness(t, nil)
	h.post("application/json", `{"id":"x","type":"edr_custom","company":"acme","title":"T"}`).want(t, http.StatusBadRequest)
	if err := h.store.PutRoute("test", storage.Route{AlertType: "edr_custom", Enabled: true, Board: storage.Ref{Name: "Security"}}); err != nil {
		t.Fatal(err)
	}
	h.post("application/json", `{"id":"x","type":"edr_custom","company":"acme","title":"T"}`).want(t, http.StatusAccepted)
	// An explicit KnownAlertType replaces the store lookup.
	h2 := newHarness(t, func(o *Options) { o.KnownAlertType = func(s string) bool { return s == "threat" } })
	h2.post("application/json", `{"id":"y","type":"malware","company":"acme","title":"T"}`).want(t, http.StatusBadRequest)
}

func TestBodyLimitAndMediaType(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBodyBytes = 2048 })
	big := incJSON("big", `"description":"`+strings.Repeat("x", 3000)+`"`)
	h.post("application/json", big).want(t, http.StatusRequestEntityTooLarge)
	// Without a Content-Length (chunked) the limit holds too.
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/incidents", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Fatalf("chunked: %d", resp.StatusCode)
	}
	for _, ct := range []string{"", "text/plain", "application/xml", "application/json; charset=iso-8859-1"} {
		h.post(ct, incJSON("m1")).want(t, http.StatusUnsupportedMediaType)
	}
	req, _ = http.NewRequest(http.MethodPost, h.url+"/v1/incidents", strings.NewReader(incJSON("m1")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("gzip body: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	h.nothingStored("big", "m1")
}

func TestQueueFull(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxQueue = 2 })
	h.post("application/json", "["+incJSON("q1")+","+incJSON("q2")+"]").want(t, http.StatusAccepted)
	a := h.post("application/json", incJSON("q3")).want(t, http.StatusServiceUnavailable)
	if a.hdr.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if _, err := h.store.Incident("q3"); err == nil || h.store.QueueLen() != 2 {
		t.Fatalf("stored while full (queue %d)", h.store.QueueLen())
	}
}

func TestIncidentStatus(t *testing.T) {
	h := newHarness(t, nil)
	h.post("application/json", "["+incJSON("s1", `"key":"k-1"`)+","+incJSON("a/b c")+"]").want(t, http.StatusAccepted)
	a := h.get("/v1/incidents/s1").want(t, http.StatusOK)
	if a.json["id"] != "s1" || a.json["key"] != "k-1" || a.json["state"] != "queued" || a.json["ticket_id"] != 0.0 || a.json["error"] != "" {
		t.Fatalf("status: %s", a.body)
	}
	if err := h.store.SetIncidentState("s1", storage.StateDropped, 0, "no route for type"); err != nil {
		t.Fatal(err)
	}
	a = h.get("/v1/incidents/s1").want(t, http.StatusOK)
	if a.json["state"] != "dropped" || a.json["error"] != "no route for type" {
		t.Fatalf("status: %s", a.body)
	}
	if a := h.get("/v1/incidents/a%2Fb%20c").want(t, http.StatusOK); a.json["id"] != "a/b c" {
		t.Fatalf("escaped id: %s", a.body)
	}
	h.get("/v1/incidents/nope").want(t, http.StatusNotFound)
	h.get("/v1/incidents/").want(t, http.StatusNotFound)
}

func TestMethodsAndPaths(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/incidents", "POST"},
		{http.MethodPut, "/v1/incidents/x", "GET"},
		{http.MethodGet, "/v1/usage", "POST"},
		{http.MethodPost, "/healthz", "GET"},
		{http.MethodDelete, "/metrics", "GET"},
	} {
		a := h.do(tc.method, tc.path, "", "", "Bearer "+testToken).want(t, http.StatusMethodNotAllowed)
		if a.hdr.Get("Allow") != tc.allow {
			t.Fatalf("%s %s: Allow %q", tc.method, tc.path, a.hdr.Get("Allow"))
		}
	}
	h.get("/v1/nothing").want(t, http.StatusNotFound)
	h.get("//v1/incidents/../../x").want(t, http.StatusNotFound)
}
