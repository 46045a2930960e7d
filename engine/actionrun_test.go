package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwsim"
)

// runner is an actionPoller over just a config: runCommand needs no more.
func runner(t *testing.T, a config.Actions) *actionPoller {
	t.Helper()
	cfg := config.Default()
	if a.Timeout.Duration == 0 {
		a.Timeout = config.Duration{Duration: config.DefaultActionTimeout}
	}
	cfg.Actions = a
	return &actionPoller{e: &Engine{o: Options{Config: cfg}}}
}

// runBounded runs the command and fails the test if it has not returned
// within bound: the point of these tests is that it returns.
func runBounded(t *testing.T, ctx context.Context, a *actionPoller, bound time.Duration) string {
	t.Helper()
	done := make(chan string, 1)
	go func() { done <- a.runCommand(ctx, ActionRequest{Action: "Block User", Ticket: 7}) }()
	select {
	case out := <-done:
		return out
	case <-time.After(bound):
		t.Fatalf("the action did not return within %s", bound)
		return ""
	}
}

// waitDead waits until pid no longer exists (kill 0 says ESRCH; a zombie
// of ours cannot be one: the test process is not its parent).
func waitDead(t *testing.T, pidFile string) {
	t.Helper()
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", pidFile)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d outlived the action", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestActionEnvironmentIsClean(t *testing.T) {
	t.Setenv(config.EnvPrivateKey, "PRIVATE-KEY-xyzzy")
	t.Setenv(config.EnvIntakeToken, "INTAKE-TOKEN-plugh")
	t.Setenv("UNRELATED_SECRET", "leaked-if-seen")
	t.Setenv("PLATFORM_API_KEY", "passed-on-purpose")
	t.Setenv("HOME", "/home/cwbridge")
	dump := filepath.Join(t.TempDir(), "env")
	a := runner(t, config.Actions{Command: "env > '" + dump + "'", PassEnv: []string{"PLATFORM_API_KEY", "CWBRIDGE_PRIVATE_KEY"}})
	if out := runBounded(t, context.Background(), a, 30*time.Second); !strings.HasPrefix(out, "Block User: done") {
		t.Fatalf("outcome %q", out)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	for _, bad := range []string{"xyzzy", "plugh", "leaked-if-seen", "CWBRIDGE_PRIVATE_KEY", "CWBRIDGE_INTAKE_TOKEN"} {
		if strings.Contains(env, bad) {
			t.Errorf("the action's environment holds %q:\n%s", bad, env)
		}
	}
	for _, want := range []string{"PATH=", "HOME=/home/cwbridge", "PLATFORM_API_KEY=passed-on-purpose", "CWBRIDGE_ACTION=Block User"} {
		if !strings.Contains(env, want) {
			t.Errorf("the action's environment lacks %q:\n%s", want, env)
		}
	}
}

// The deadline kills the whole process group, grandchildren included, and
// the run returns promptly (it waited 20 s past a 2 s deadline before).
func TestActionDeadlineKillsProcessGroup(t *testing.T) {
	pid := filepath.Join(t.TempDir(), "pid")
	a := runner(t, config.Actions{Command: "sleep 300 & echo $! > '" + pid + "'; wait", Timeout: config.Duration{Duration: time.Second}})
	out := runBounded(t, context.Background(), a, 20*time.Second)
	if !strings.Contains(out, "no answer within 1s") {
		t.Fatalf("outcome %q", out)
	}
	waitDead(t, pid)
}

// A child left in the background holding the output pipe neither blocks
// the run nor outlives it.
func TestActionBackgroundChildDoesNotHang(t *testing.T) {
	pid := filepath.Join(t.TempDir(), "pid")
	a := runner(t, config.Actions{Command: "(sleep 300 & echo $! > '" + pid + "'); echo started"})
	out := runBounded(t, context.Background(), a, 20*time.Second)
	if !strings.HasPrefix(out, "Block User: done") || !strings.Contains(out, "started") {
		t.Fatalf("outcome %q", out)
	}
	waitDead(t, pid)
}

// Shutdown (the engine's context ends) kills the group too.
func TestActionKilledOnShutdown(t *testing.T) {
	dir := t.TempDir()
	pid := filepath.Join(dir, "pid")
	a := runner(t, config.Actions{Command: "sleep 300 & echo $! > '" + pid + "'; wait"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(pid); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	out := runBounded(t, ctx, a, 20*time.Second)
	if !strings.Contains(out, "stopped (cwbridge was shutting down)") {
		t.Fatalf("outcome %q", out)
	}
	waitDead(t, pid)
}

func TestActionOutputIsCappedAndCleaned(t *testing.T) {
	a := runner(t, config.Actions{Command: "printf '\\033[31mred\\033[0m\\n'; head -c 10000000 /dev/zero | tr '\\0' a"})
	out := runBounded(t, context.Background(), a, 60*time.Second)
	if strings.Contains(out, "\x1b") || !strings.Contains(out, "red") {
		t.Fatalf("escape codes kept: %q", out[:min(len(out), 80)])
	}
	if !strings.Contains(out, "output truncated: 10000013 bytes in all") {
		t.Fatalf("no truncation notice: %q", out[max(0, len(out)-200):])
	}
	if len(out) > maxOutput+400 {
		t.Fatalf("outcome is %d bytes", len(out))
	}
}

func TestActionCappedWriterCounts(t *testing.T) {
	var c capped
	chunk := make([]byte, 40<<10)
	for range 3 {
		if n, err := c.Write(chunk); n != len(chunk) || err != nil {
			t.Fatal(n, err)
		}
	}
	if c.buf.Len() != maxCapture || c.dropped != 3*int64(len(chunk))-maxCapture {
		t.Fatalf("kept %d, dropped %d", c.buf.Len(), c.dropped)
	}
}

// The note's author reaches the command, and allowed_members refuses
// anyone else, with an answer on the ticket saying so.
func TestActionMemberPassedAndAllowList(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml+"allowed_members = [\"someone-else\"]\n", nil)
	ticket := r.openTicket("m1", "km")
	r.techNote(ticket, "Block User", true)
	r.poll()
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ticket)) == 1 })
	if a := r.answers(ticket)[0]; !strings.Contains(a, `Block User was not run: ConnectWise member "cwbridgeapi" is not in cwbridge's [actions] allowed_members`) {
		t.Fatalf("answer %q", a)
	}
	if runs := readRuns(t, log); len(runs) != 0 {
		t.Fatalf("ran for a member not allowed: %+v", runs)
	}

	toml2, log2 := actionScript(t)
	r2 := newRig(t, cwsim.Options{}, toml2+"allowed_members = [\"CWBridgeAPI\"]\n", nil)
	ticket2 := r2.openTicket("m2", "km2")
	r2.techNote(ticket2, "Block User", true)
	r2.poll()
	r2.waitFor(10*time.Second, "the answer", func() bool { return len(r2.answers(ticket2)) == 1 })
	runs := readRuns(t, log2)
	if len(runs) != 1 || runs[0].Member != "cwbridgeapi" {
		t.Fatalf("runs %+v", runs)
	}
}
