package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/intake"
	"github.com/cwbridge/cwbridge/storage"
)

const ingestToken = "ingest-test-token-4f1c"

// intakeT serves an in-process intake over a temp store. wrap, if set,
// sits in front of the intake's handler.
func ingestIntake(t *testing.T, wrap func(http.Handler) http.Handler) (*storage.Store, string) {
	return ingestIntakeLimit(t, wrap, 0)
}

func ingestIntakeLimit(t *testing.T, wrap func(http.Handler) http.Handler, maxBody int64) (*storage.Store, string) {
	t.Helper()
	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv, err := intake.New(intake.Options{Store: st, Token: storage.NewSecret(ingestToken), MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return st, hs.URL
}

func ingestFile(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "incidents.ndjson")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ingestLineJSON(id string, extra ...string) string {
	s := `{"id":"` + id + `","type":"threat","company":"acme","title":"Suspicious sign-in"`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// noSleep makes retries instant and counts the waits.
func ingestNoSleep(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	old := ingestSleep
	ingestSleep = func(ctx context.Context, d time.Duration) error { n.Add(1); return ctx.Err() }
	t.Cleanup(func() { ingestSleep = old })
	return &n
}

func TestIngestCounts(t *testing.T) {
	st, url := ingestIntake(t, nil)
	var lines []string
	for i := range 250 {
		lines = append(lines, ingestLineJSON("i"+strconv.Itoa(i)))
	}
	lines = append(lines, "", ingestLineJSON("i7")) // a blank line and a repeat
	code, out, errs := runCmd(t, "ingest", ingestFile(t, lines...), "--url", url, "--token", ingestToken, "--batch", "100")
	if code != exitOK || strings.TrimSpace(out) != "accepted 250, duplicates 1, rejected 0" {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if st.QueueLen() != 250 {
		t.Fatalf("queue %d", st.QueueLen())
	}
	if strings.Contains(out+errs, ingestToken) {
		t.Fatal("printed the token")
	}
}

// TestIngestBadLines: a line failing local validation is reported with its
// number and never sent; a line only the server refuses (unknown type) is
// dropped and the rest of its batch resent.
func TestIngestBadLines(t *testing.T) {
	st, url := ingestIntake(t, nil)
	file := ingestFile(t,
		ingestLineJSON("b1"),
		ingestLineJSON("b2", `"severity":"urgent"`),
		`{"id":"b3",`,
		ingestLineJSON("b4"),
		`{"id":"b5","type":"custom_edr","company":"acme","title":"T"}`,
		ingestLineJSON("b6"),
	)
	code, out, errs := runCmd(t, "ingest", file, "--url", url, "--token", ingestToken)
	if code != exitFail || strings.TrimSpace(out) != "accepted 3, duplicates 0, rejected 3" {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`line 2: field "severity": must be one of`, "line 3: malformed JSON", `line 5: field "type": unknown alert type "custom_edr"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for _, id := range []string{"b1", "b4", "b6"} {
		if _, err := st.Incident(id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
	}
}

func TestIngestStdinEnvTokenAndBusy(t *testing.T) {
	waits := ingestNoSleep(t)
	var busy atomic.Int32
	st, url := ingestIntake(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if busy.Add(1) == 1 { // the first request finds the queue full
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	t.Setenv("CWBRIDGE_INTAKE_TOKEN", ingestToken)
	old := ingestStdin
	ingestStdin = strings.NewReader(ingestLineJSON("s1") + "\n" + ingestLineJSON("s2") + "\n")
	t.Cleanup(func() { ingestStdin = old })
	code, out, errs := runCmd(t, "ingest", "-", "--url", url, "--config", ingestConfig(t, ""))
	if code != exitOK || strings.TrimSpace(out) != "accepted 2, duplicates 0, rejected 0" || waits.Load() != 1 {
		t.Fatalf("exit %d waits %d\n%s\n%s", code, waits.Load(), out, errs)
	}
	if st.QueueLen() != 2 {
		t.Fatalf("queue %d", st.QueueLen())
	}
}

// TestIngestSplitsOversizeBatches: a 413 halves the batch until it fits; a
// single line over the limit is rejected alone.
func TestIngestSplitsOversizeBatches(t *testing.T) {
	st, url := ingestIntakeLimit(t, nil, 1024)
	var lines []string
	for i := range 10 {
		lines = append(lines, ingestLineJSON("z"+strconv.Itoa(i), `"description":"`+strings.Repeat("d", 200)+`"`))
	}
	lines = append(lines, ingestLineJSON("huge", `"description":"`+strings.Repeat("h", 1500)+`"`))
	code, out, errs := runCmd(t, "ingest", ingestFile(t, lines...), "--url", url, "--token", ingestToken, "--batch", "11")
	if code != exitFail || strings.TrimSpace(out) != "accepted 10, duplicates 0, rejected 1" || !strings.Contains(errs, "line 11: larger than") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if st.QueueLen() != 10 {
		t.Fatalf("queue %d", st.QueueLen())
	}
}

func TestIngestConfigDefaults(t *testing.T) {
	st, url := ingestIntake(t, nil)
	listen := strings.TrimPrefix(url, "http://")
	cfg := ingestConfig(t, "[intake]\nlisten = \""+listen+"\"\ntoken = \""+ingestToken+"\"\n")
	code, out, errs := runCmd(t, "ingest", "--config", cfg, ingestFile(t, ingestLineJSON("c1")))
	if code != exitOK || st.QueueLen() != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

func TestIngestFailures(t *testing.T) {
	ingestNoSleep(t)
	_, url := ingestIntake(t, nil)
	file := ingestFile(t, ingestLineJSON("f1"))
	// Wrong token: stops, exit 1, the token is not printed.
	code, out, errs := runCmd(t, "ingest", file, "--url", url, "--token", "wrong-token-xyz")
	if code != exitFail || !strings.Contains(errs, "refused the token") || strings.Contains(out+errs, "wrong-token-xyz") {
		t.Fatalf("bad token: exit %d\n%s\n%s", code, out, errs)
	}
	if out != "" {
		t.Fatalf("a refused token printed counts on stdout: %q", out)
	}
	// Nothing listening: retried, then exit 1.
	code, _, errs = runCmd(t, "ingest", file, "--url", "http://127.0.0.1:1", "--token", ingestToken)
	if code != exitFail || !strings.Contains(errs, "giving up") {
		t.Fatalf("unreachable: exit %d\n%s", code, errs)
	}
}

func TestIngestBadFlags(t *testing.T) {
	t.Setenv("CWBRIDGE_INTAKE_TOKEN", "")
	t.Chdir(t.TempDir()) // no ./cwbridge.toml
	file := ingestFile(t, ingestLineJSON("x"))
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{file}, "no intake token"},
		{[]string{file, "--token", "t", "--batch", "0"}, "--batch"},
		{[]string{file, "extra", "--token", "t"}, "unexpected argument"},
		{[]string{file, "--token", "t", "--url", "ftp://x"}, "--url"},
		{[]string{"/no/such/file", "--token", "t"}, "cannot read /no/such/file"},
		{[]string{file, "--token", "t", "--config", "/no/such.toml"}, "/no/such.toml"},
		{[]string{"--bogus"}, "bogus"},
	} {
		code, out, errs := runCmd(t, append([]string{"ingest"}, tc.args...)...)
		if code != exitConfig || !strings.Contains(errs, tc.msg) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", tc.args, code, errs, out)
		}
	}
	code, out, _ := runCmd(t, "ingest", "--help")
	if code != exitOK || !strings.Contains(out, "--token") && !strings.Contains(out, "-token") {
		t.Fatalf("help: %d %s", code, out)
	}
}

func TestIncidentsURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8088":               "http://127.0.0.1:8088/v1/incidents",
		"127.0.0.1:8088":                      "http://127.0.0.1:8088/v1/incidents",
		"https://h.example/base/":             "https://h.example/base/v1/incidents",
		"http://127.0.0.1:8088/v1/incidents/": "http://127.0.0.1:8088/v1/incidents",
	} {
		if got, err := incidentsURL(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	if got := dialable("0.0.0.0:8088"); got != "127.0.0.1:8088" {
		t.Errorf("dialable: %s", got)
	}
	if got := dialable(":8088"); got != "127.0.0.1:8088" {
		t.Errorf("dialable: %s", got)
	}
}

func ingestConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cwbridge.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The example incident in ingest --help is the README's, and the intake
// accepts it.
func TestIngestExampleIncident(t *testing.T) {
	_, out, _ := runCmd(t, "ingest", "--help")
	if !strings.Contains(out, exampleIncident) {
		t.Fatalf("ingest --help has no example incident:\n%s", out)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), exampleIncident) {
		t.Fatal("the README's example incident differs from ingest --help's")
	}
	if strings.Contains(string(readme), "../") {
		t.Fatal("the README points outside the repository")
	}
	ingestNoSleep(t)
	_, url := ingestIntake(t, nil)
	code, out, errs := runCmd(t, "ingest", ingestFile(t, exampleIncident), "--url", url, "--token", ingestToken)
	if code != exitOK || !strings.Contains(out, "accepted 1") {
		t.Fatalf("the example was not accepted: exit %d\n%s\n%s", code, out, errs)
	}
}
