package cwsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fixedNow keeps write timestamps deterministic in tests.
func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func newTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	s := New(opts)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t testing.TB) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("bad JSON %q: %v", r.body, err)
	}
	return v
}

func (r *resp) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("not an object: %s", r.body)
	}
	return m
}

func (r *resp) list(t testing.TB) []map[string]any {
	t.Helper()
	a, ok := r.json(t).([]any)
	if !ok {
		t.Fatalf("not an array: %s", r.body)
	}
	out := make([]map[string]any, len(a))
	for i, e := range a {
		out[i] = e.(map[string]any)
	}
	return out
}

var testClient = &http.Client{Timeout: 10 * time.Second}

func authHeaders(s *Server) http.Header {
	c := s.Credentials()
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.CompanyID+"+"+c.PublicKey+":"+c.PrivateKey)))
	h.Set("clientId", c.ClientID)
	h.Set("Accept", "application/vnd.connectwise.com+json; version=2025.8")
	return h
}

// api calls path (relative to apis/3.0) with valid credentials; hdr
// overrides headers (an empty value deletes one).
func api(t testing.TB, s *Server, method, path string, body any, hdr ...string) *resp {
	t.Helper()
	h := authHeaders(s)
	var rd io.Reader
	if body != nil {
		var b []byte
		switch x := body.(type) {
		case string:
			b = []byte(x)
		default:
			b, _ = json.Marshal(x)
		}
		rd = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			h.Del(hdr[i])
		} else {
			h.Set(hdr[i], hdr[i+1])
		}
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = s.URL() + "/v2025_8/apis/3.0/" + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{status: res.StatusCode, header: res.Header, body: data}
}

func wantStatus(t testing.TB, r *resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// wantError checks a ConnectWise-shaped error answer.
func wantError(t testing.TB, r *resp, status int, code string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	m := r.obj(t)
	if m["code"] != code {
		t.Fatalf("code %v, want %s; body %s", m["code"], code, r.body)
	}
	if _, ok := m["message"].(string); !ok {
		t.Fatalf("no message: %s", r.body)
	}
	if _, ok := m["errors"]; !ok {
		t.Fatalf("no errors key: %s", r.body)
	}
	return m
}

// wantFieldError checks a 400 InvalidObject naming field with code.
func wantFieldError(t testing.TB, r *resp, field, code string) {
	t.Helper()
	m := wantError(t, r, 400, "InvalidObject")
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		fe := e.(map[string]any)
		if fe["field"] == field && (code == "" || fe["code"] == code) {
			return
		}
	}
	t.Fatalf("no %s error for field %s in %s", code, field, r.body)
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}
