package intake

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

const testToken = "s3cret-intake-token-value"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	t     *testing.T
	store *storage.Store
	srv   *Server
	url   string
	logs  *syncBuf
}

// newHarness serves an intake over a temp store on an httptest listener.
// edit may change the options before New.
func newHarness(t *testing.T, edit func(*Options)) *harness {
	t.Helper()
	st, err := storage.Open(t.TempDir(), storage.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logs := &syncBuf{}
	o := Options{Store: st, Token: storage.NewSecret(testToken), Now: func() time.Time { return testNow },
		Logger: slogTo(logs)}
	if edit != nil {
		edit(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if strings.Contains(logs.String(), testToken) {
			t.Error("the token appears in the logs")
		}
	})
	return &harness{t: t, store: st, srv: srv, url: hs.URL, logs: logs}
}

type answer struct {
	code int
	hdr  http.Header
	body string
	json map[string]any
}

// do sends a request with the test token (auth "" sends none).
func (h *harness) do(method, path, ctype, body, auth string) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, hdr: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &a.json); err != nil {
			h.t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
		}
	}
	if strings.Contains(a.body, testToken) {
		h.t.Fatalf("%s %s: the answer holds the token", method, path)
	}
	return a
}

func (h *harness) post(ctype, body string) answer {
	h.t.Helper()
	return h.do(http.MethodPost, "/v1/incidents", ctype, body, "Bearer "+testToken)
}

func (h *harness) get(path string) answer {
	h.t.Helper()
	return h.do(http.MethodGet, path, "", "", "Bearer "+testToken)
}

// want checks the status code and, for errors, that the body is JSON with
// an "error".
func (a answer) want(t *testing.T, code int) answer {
	t.Helper()
	if a.code != code {
		t.Fatalf("status %d, want %d: %s", a.code, code, a.body)
	}
	if code >= 400 {
		if s, _ := a.json["error"].(string); s == "" {
			t.Fatalf("error answer without a JSON error: %q", a.body)
		}
	}
	return a
}

// nothingStored fails if the store holds any incident or queued work.
func (h *harness) nothingStored(ids ...string) {
	h.t.Helper()
	if n := h.store.QueueLen(); n != 0 {
		h.t.Fatalf("queue holds %d items, want 0", n)
	}
	for _, id := range ids {
		if _, err := h.store.Incident(id); err == nil {
			h.t.Fatalf("incident %q was stored", id)
		}
	}
}

func incJSON(id string, extra ...string) string {
	s := `{"id":"` + id + `","type":"threat","company":"acme","title":"Suspicious sign-in"`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// syncBuf collects log output written from server goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func slogTo(b *syncBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
