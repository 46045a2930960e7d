package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/cwsim"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// simConfig starts a simulator and writes a config file pointing at it.
func simConfig(t *testing.T, extra string) (*cwsim.Server, string) {
	t.Helper()
	sim := cwsim.New(cwsim.Options{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	// TOMLBlock names the address the simulator listens on; this one is
	// served by httptest instead.
	block := replaceSite(sim.TOMLBlock(), srv.URL)
	path := filepath.Join(t.TempDir(), "cwbridge.toml")
	if err := os.WriteFile(path, []byte(block+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, path
}

func replaceSite(block, url string) string {
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "site") {
			l = `site = "` + url + `"`
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestVerifyPasses(t *testing.T) {
	sim, cfg := simConfig(t, "")
	code, out, errs := runCmd(t, "verify", "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "All 13 checks passed") || !strings.Contains(out, "Create and update tickets") {
		t.Fatalf("output:\n%s", out)
	}
	if strings.Contains(out, sim.Credentials().PrivateKey) {
		t.Fatal("verify printed the private key")
	}
	if n := sim.Stats().ByRoute["POST service/tickets"] + sim.Stats().ByRoute["POST procurement/catalog"]; n != 0 {
		t.Fatalf("verify created %d records", n)
	}
}

func TestVerifyReportsMissingPermission(t *testing.T) {
	sim, cfg := simConfig(t, "")
	sim.SetSecurity(cwsim.FuncProductCatalog, cwsim.All, cwsim.None, cwsim.All, cwsim.All)
	code, out, _ := runCmd(t, "verify", "--config", cfg)
	if code != exitFail {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "✗  Manage catalog items") || !strings.Contains(out, "Procurement > Product Catalog: set Add Level to All") {
		t.Fatalf("output does not explain the fix:\n%s", out)
	}
}

func TestVerifyWrongKeys(t *testing.T) {
	sim, cfg := simConfig(t, "")
	t.Setenv("CWBRIDGE_PRIVATE_KEY", "not-the-key")
	code, out, _ := runCmd(t, "verify", "--config", cfg)
	if code != exitFail {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "check the company ID and the API member's public and private keys") || !strings.Contains(out, "SKIPPED") {
		t.Fatalf("output:\n%s", out)
	}
	if strings.Contains(out, "not-the-key") || strings.Contains(out, sim.Credentials().PrivateKey) {
		t.Fatal("a key was printed")
	}
}

// A failed check's fix is wrapped under it and does not widen the table:
// the header and the fix lines stay within 80 columns.
func TestVerifyFixLinesFit(t *testing.T) {
	sim, cfg := simConfig(t, "")
	sim.SetSecurity(cwsim.FuncProductCatalog, cwsim.All, cwsim.None, cwsim.All, cwsim.All)
	t.Setenv("CWBRIDGE_PRIVATE_KEY", "not-the-key")
	_, out, _ := runCmd(t, "verify", "--config", cfg)
	if !strings.Contains(out, "fix:") {
		t.Fatalf("no fix line:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if n := len([]rune(l)); n > 80 && (i == 0 || strings.IndexAny(l, "✓✗-?") != 0) {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

// verify in a directory without a config file says so.
func TestVerifyWithoutConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CWBRIDGE_PRIVATE_KEY", "")
	code, _, errs := runCmd(t, "verify")
	if code != exitConfig || !strings.Contains(errs, "no cwbridge.toml here (or pass --config FILE)") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestVerifyBadConfigExits2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[connectwise]\nsite = \"na.myconnectwise.net\"\nsitee = \"x\"\n"), 0o600)
	code, _, errs := runCmd(t, "verify", "--config", bad)
	if code != exitConfig || !strings.Contains(errs, "bad.toml:3") || !strings.Contains(errs, "sitee") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	empty := filepath.Join(dir, "empty.toml")
	os.WriteFile(empty, nil, 0o600)
	code, _, errs = runCmd(t, "verify", "--config", empty)
	if code != exitConfig || !strings.Contains(errs, "site is empty") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "verify", "--config", filepath.Join(dir, "missing.toml"))
	if code != exitConfig || !strings.Contains(errs, "missing.toml") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "verify", "--nope")
	if code != exitConfig || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	t.Setenv("CWBRIDGE_PRIVATE_KEY", "super-secret-value")
	for _, c := range commands {
		code, out, _ := runCmd(t, c.name, "--help")
		if code != exitOK || strings.Count(out, "Usage: cwbridge "+c.name) != 1 {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, out)
		}
		if strings.Contains(out, "super-secret-value") {
			t.Errorf("%s --help shows a secret", c.name)
		}
		// Flags in the --flag form the README uses; no empty Flags section.
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "-") && !strings.HasPrefix(strings.TrimSpace(l), "--") {
				t.Errorf("%s --help lists a flag as %q", c.name, l)
			}
		}
		if strings.Contains(out, "Flags:") && !strings.Contains(out, "  --") {
			t.Errorf("%s --help prints an empty Flags section:\n%s", c.name, out)
		}
	}
	code, out, _ := runCmd(t, "--help")
	if code != exitOK || !strings.Contains(out, "verify") {
		t.Fatalf("top-level help: %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "frobnicate"); code != exitConfig {
		t.Fatalf("unknown command exit %d", code)
	}
}

func TestCWSimFlagValidation(t *testing.T) {
	for _, args := range [][]string{
		{"cwsim", "--fail-500", "2"},
		{"cwsim", "--listen", "0.0.0.0:0"},
		{"cwsim", "--retry-after", "10ms"},
		{"cwsim", "--companies", "-1"},
	} {
		if code, _, errs := runCmd(t, args...); code != exitConfig || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestCWSimServesAndPrintsConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, &env{stdout: &out, stderr: &bytes.Buffer{}}, []string{"cwsim", "--listen", "127.0.0.1:0", "--companies", "3"})
	}()
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, k := range []string{"[connectwise]", "site", "company_id", "public_key", "private_key", "client_id"} {
		if !strings.Contains(out.String(), k) {
			t.Fatalf("output lacks %s:\n%s", k, out.String())
		}
	}
}

// A damaged database file stops the command with one clear line and exit
// 1: no panic, no stack trace.
func TestDamagedDatabaseExits1WithOneLine(t *testing.T) {
	_, cfg := simConfig(t, "")
	data := t.TempDir()
	db := filepath.Join(data, "cwbridge.db")
	if err := os.WriteFile(db, []byte(strings.Repeat("garbage!", 4096)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "serve", "--config", cfg, "--data", data)
	if code != exitFail {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, db) || !strings.Contains(errs, "restore it from a backup") {
		t.Fatalf("stderr:\n%s", errs)
	}
}

// An intake certificate that cannot be loaded stops serve with the files
// named; config warnings are logged.
func TestServeIntakeTLSFilesNamed(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "missing-cert.pem"), filepath.Join(dir, "missing-key.pem")
	_, cfg := simConfig(t, "\n[intake]\nlisten = \"127.0.0.1:0\"\ntoken = \"0123456789abcdef-tls\"\ncert_file = \""+cert+"\"\nkey_file = \""+key+"\"\n")
	code, out, errs := runCmd(t, "serve", "--config", cfg, "--data", filepath.Join(dir, "data"))
	if code != exitFail || !strings.Contains(errs, cert) || !strings.Contains(errs, key) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}
