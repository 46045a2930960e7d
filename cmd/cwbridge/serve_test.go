package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
)

// TestMain lets the test binary stand in for cwbridge: with
// CWBRIDGE_AS_MAIN set it runs main(), so subprocess tests need no build.
func TestMain(m *testing.M) {
	if os.Getenv("CWBRIDGE_AS_MAIN") == "1" {
		os.Args = append([]string{"cwbridge"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

const serveRoutes = `
[engine]
workers = 4

[[routes]]
alert_type = "malware"
board = "Security"
status = "New"
priority = "Priority 2 - Quick Response"
type = "Incident"
closed_status = "Closed"
`

type serveProc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startServe(t *testing.T, cfg, data string) *serveProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", cfg, "--data", data)
	cmd.Env = append(os.Environ(), "CWBRIDGE_AS_MAIN=1")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &serveProc{cmd: cmd, out: out}
}

func waitHealthy(t *testing.T, base string, p *serveProc) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve never became healthy:\n%s", p.out)
}

type incidentIn struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Company  string `json:"company"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	Status   string `json:"status"`
	User     string `json:"user"`
}

func post(base, token string, incs []incidentIn) (int, error) {
	body, _ := json.Marshal(incs)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/incidents", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func incidentState(base, token, id string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/incidents/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var st struct{ State, Error string }
	json.NewDecoder(resp.Body).Decode(&st)
	return st.State, nil
}

// TestServeSurvivesSIGKILL kills a forwarding `cwbridge serve` at random
// points, restarts it on the same data dir, and checks that every accepted
// incident is forwarded and no key ever gets two tickets.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	sim := cwsim.New(cwsim.Options{Faults: cwsim.Faults{Error500: 0.1, LostResponse: 0.05, Latency: 5 * time.Millisecond}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	addr := freePort(t)
	base := "http://" + addr
	const token = "kill-test-token-0123"
	cfg := filepath.Join(t.TempDir(), "cwbridge.toml")
	block := replaceSite(sim.TOMLBlock(), srv.URL)
	if err := os.WriteFile(cfg, []byte(block+fmt.Sprintf("\n[intake]\nlisten = %q\ntoken = %q\n", addr, token)+serveRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))

	var accepted []incidentIn
	resolvedKeys, firedKeys := map[string]bool{}, map[string]bool{}
	const keys = 12
	for round := range 5 {
		p := startServe(t, cfg, data)
		waitHealthy(t, base, p)
		var batch []incidentIn
		for i := range 30 {
			k := rng.IntN(keys)
			key := fmt.Sprintf("host-%d", k)
			status := "firing"
			// Resolve a key once, in a later round, after it has fired.
			if round >= 2 && firedKeys[key] && !resolvedKeys[key] && i%7 == 0 {
				status, resolvedKeys[key] = "resolved", true
			}
			if status == "firing" && resolvedKeys[key] {
				continue // keep each key to one ticket generation
			}
			batch = append(batch, incidentIn{ID: fmt.Sprintf("r%d-%d", round, i), Type: "malware", Company: "acme",
				Title: "Malware on " + key, Severity: "high", Key: key, Status: status, User: fmt.Sprintf("user%d", i%3)})
		}
		code, err := post(base, token, batch)
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("round %d: post: %d %v\n%s", round, code, err, p.out)
		}
		accepted = append(accepted, batch...)
		for _, inc := range batch {
			if inc.Status == "firing" {
				firedKeys[inc.Key] = true
			}
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}

	// A last run finishes the work, then stops cleanly.
	p := startServe(t, cfg, data)
	waitHealthy(t, base, p)
	deadline := time.Now().Add(90 * time.Second)
	for _, inc := range accepted {
		for {
			st, err := incidentState(base, token, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st == "ticketed" || st == "noted" || st == "closed" {
				break
			}
			if st != "queued" {
				t.Fatalf("incident %s ended %q\n%s", inc.ID, st, p.out)
			}
			if time.Now().After(deadline) {
				t.Fatalf("incident %s still queued\n%s", inc.ID, p.out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- p.cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, p.out)
		}
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("serve did not stop within 10 s of SIGTERM\n%s", p.out)
	}
	t.Logf("clean stop took %v", time.Since(start))

	perXRef := map[string]int{}
	for _, tk := range sim.Records("tickets") {
		if x, _ := tk["externalXRef"].(string); strings.HasPrefix(x, "cwb-") {
			perXRef[x]++
		}
	}
	fired := map[string]bool{}
	for _, inc := range accepted {
		fired[inc.Key] = true
	}
	if len(perXRef) != len(fired) {
		t.Errorf("%d keys fired but %d ticket references exist: %v", len(fired), len(perXRef), perXRef)
	}
	for x, n := range perXRef {
		if n != 1 {
			t.Errorf("reference %s has %d tickets", x, n)
		}
	}
	if st := sim.Stats(); st.Lost == 0 || st.Served500 == 0 {
		t.Logf("faults served: %+v (the run may not have exercised them)", st)
	}
}
