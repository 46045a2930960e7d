package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/engine"
)

func postUsage(base, token, company, product string, q int) (int, error) {
	body := fmt.Sprintf(`{"company":%q,"product":%q,"quantity":%d}`, company, product, q)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/usage", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// billingCLI runs "cwbridge billing ARGS" in-process.
func billingCLI(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &out}, append([]string{"billing"}, args...))
	return code, out.String()
}

// activeAdditions counts the simulator's active additions per
// (agreement, catalog identifier), with their quantities.
func activeAdditions(sim *cwsim.Server) map[string][]int {
	out := map[string][]int{}
	for _, a := range sim.Records("additions") {
		if a["cancelledDate"] != nil {
			continue
		}
		p := a["product"].(map[string]any)
		k := fmt.Sprintf("%v/%v", a["agreementId"], p["identifier"])
		out[k] = append(out[k], int(a["quantity"].(float64)))
	}
	return out
}

// TestBillingSurvivesSIGKILL posts usage to a `cwbridge serve` against a
// faulty ConnectWise (10% 500s, 5% 429s, 5% lost answers), syncs with
// `cwbridge billing sync` and kills serve at random points. In the end
// each (agreement, product) has exactly one active addition at the latest
// quantity, and `billing plan` exits 0.
func TestBillingSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	sim := cwsim.New(cwsim.Options{Seed: 5})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	addr := freePort(t)
	base := "http://" + addr
	const token = "billing-kill-token-0123"
	var ws strings.Builder
	var agreements []string
	seen := map[string]bool{}
	for _, a := range sim.Records("agreements") {
		co := a["company"].(map[string]any)["identifier"].(string)
		if a["agreementStatus"] != "Active" || seen[co] || len(agreements) == 3 {
			continue
		}
		seen[co] = true
		agreements = append(agreements, fmt.Sprint(a["id"]))
		fmt.Fprintf(&ws, "\n[[workspaces]]\nkey = \"ws%d\"\ncw_company = %q\nagreement_id = %v\n", len(agreements)-1, co, a["id"])
	}
	cfg := filepath.Join(t.TempDir(), "cwbridge.toml")
	text := replaceSite(sim.TOMLBlock(), srv.URL) + fmt.Sprintf("\n[intake]\nlisten = %q\ntoken = %q\n", addr, token) +
		"\n[billing]\ninterval = \"1m\"\n" +
		"\n[[products]]\nkey = \"users\"\ncw_identifier = \"SEC-USER\"\ndescription = \"Security seat\"\n" +
		"\n[[products]]\nkey = \"devices\"\ncw_identifier = \"AV-ENDPOINT\"\ndescription = \"Endpoint protection\"\n" + ws.String()
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 9))
	sim.SetFaults(cwsim.Faults{Error500: 0.1, RateLimit: 0.05, LostResponse: 0.05, RetryAfter: time.Second})

	// syncUntil runs billing sync until it exits 0, or gives up at deadline.
	syncUntil := func(p *serveProc, deadline time.Time) {
		t.Helper()
		for {
			code, out := billingCLI("sync", "--url", base, "--token", token)
			if code == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("billing sync never completed: %d %s\n%s", code, out, p.out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	want := map[string]int{}
	for round := range 4 {
		p := startServe(t, cfg, data)
		waitHealthy(t, base, p)
		for i := range agreements {
			for j, prod := range []string{"users", "devices"} {
				q := 1 + rng.IntN(50) + 100*j
				if code, err := postUsage(base, token, fmt.Sprintf("ws%d", i), prod, q); err != nil || code != http.StatusAccepted {
					t.Fatalf("usage: %d %v", code, err)
				}
				want[fmt.Sprintf("%d/%s", i, prod)] = q
			}
		}
		if round == 0 {
			// Changes are pending (1); a fault may make one answer an error (2).
			for deadline := time.Now().Add(30 * time.Second); ; {
				code, out := billingCLI("plan", "--url", base, "--token", token)
				if code == 1 {
					break
				}
				if code != 2 || time.Now().After(deadline) {
					t.Fatalf("plan before any sync, usage posted: exit %d\n%s", code, out)
				}
			}
		}
		if round%2 == 0 {
			syncUntil(p, time.Now().Add(60*time.Second))
		}
		// Killed at a random point: inside a background or CLI sync, or idle.
		go billingCLI("sync", "--url", base, "--token", token)
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}

	p := startServe(t, cfg, data)
	waitHealthy(t, base, p)
	syncUntil(p, time.Now().Add(90*time.Second))
	sim.SetFaults(cwsim.Faults{})
	if code, out := billingCLI("plan", "--url", base, "--token", token); code != 0 {
		t.Errorf("plan after the sync: exit %d\n%s", code, out)
	}
	if code, _ := billingCLI("plan", "--url", base, "--token", "wrong-token-0123456789"); code != 2 {
		t.Errorf("plan with a wrong token: exit %d", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	got := activeAdditions(sim)
	for i, ag := range agreements {
		for _, prod := range []struct{ key, ident string }{{"users", "SEC-USER"}, {"devices", "AV-ENDPOINT"}} {
			q := got[ag+"/"+prod.ident]
			if w := want[fmt.Sprintf("%d/%s", i, prod.key)]; len(q) != 1 || q[0] != w {
				t.Errorf("agreement %s %s: active additions %v, want one at %d", ag, prod.ident, q, w)
			}
		}
	}
	n := 0
	for _, it := range sim.Records("catalog") {
		if it["identifier"] == "SEC-USER" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d SEC-USER catalog items", n)
	}
}

func TestBillingExitCodes(t *testing.T) {
	q := 4
	for _, tc := range []struct {
		sub  string
		rows []engine.BillingRow
		want int
	}{
		{"plan", nil, 0},
		{"plan", []engine.BillingRow{{Action: engine.BillInStep}}, 0},
		{"plan", []engine.BillingRow{{Action: engine.BillInStep}, {Action: engine.BillUpdate, InCW: &q}}, 1},
		{"plan", []engine.BillingRow{{Action: engine.BillWait}}, 1},
		{"plan", []engine.BillingRow{{Action: engine.BillCreate}, {Action: engine.BillError}}, 2},
		{"sync", []engine.BillingRow{{Action: engine.BillCreate, Done: engine.DoneCreated}, {Action: engine.BillInStep}}, 0},
		{"sync", []engine.BillingRow{{Action: engine.BillUpdate, Done: engine.DoneSkipped}}, 1},
		{"sync", []engine.BillingRow{{Action: engine.BillError, Done: engine.DoneFailed}}, 2},
	} {
		if got := billingExit(tc.sub, engine.BillingPlan{Rows: tc.rows}); got != tc.want {
			t.Errorf("%s %+v: exit %d, want %d", tc.sub, tc.rows, got, tc.want)
		}
	}
	if code, out := billingCLI("frobnicate"); code != 2 || !strings.Contains(out, "plan or sync") {
		t.Errorf("bad subcommand: %d %s", code, out)
	}
	if code, _ := billingCLI("plan", "--url", "http://127.0.0.1:1", "--token", "tok-0123456789abcdef"); code != 2 {
		t.Errorf("no serve: exit %d", code)
	}
}
