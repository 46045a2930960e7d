package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/internal/textsafe"
)

const (
	// maxCapture bounds the action output kept in memory; the rest is
	// counted and dropped.
	maxCapture = 64 << 10
	// actionWaitDelay is how long the output pipes stay open after the
	// command exited or was killed: a child that kept them (a daemonised
	// "sleep &") cannot hold the engine longer than this.
	actionWaitDelay = 2 * time.Second
)

// baseEnv lists the variables an action gets from cwbridge's environment
// when they are set. Nothing else is inherited: cwbridge's environment may
// hold CWBRIDGE_PRIVATE_KEY, CWBRIDGE_INTAKE_TOKEN and whatever its
// service manager put there. [actions] pass_env adds names.
var baseEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}

// ActionEnv builds the action command's environment from lookup (os.LookupEnv
// in production): the base variables, the configured pass_env names, and
// CWBRIDGE_ACTION naming the action. A CWBRIDGE_* name is never passed on,
// whatever the config says (validation refuses it too).
func ActionEnv(a config.Actions, action string, lookup func(string) (string, bool)) []string {
	env := []string{}
	seen := map[string]bool{}
	for _, name := range append(append([]string{}, baseEnv...), a.PassEnv...) {
		if seen[name] || strings.HasPrefix(strings.ToUpper(name), "CWBRIDGE_") {
			continue
		}
		seen[name] = true
		if v, ok := lookup(name); ok {
			env = append(env, name+"="+v)
		}
	}
	if !hasVar(env, "PATH") { // sh needs one to find anything
		env = append(env, "PATH=/usr/local/bin:/usr/bin:/bin")
	}
	return append(env, "CWBRIDGE_ACTION="+action)
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// capped keeps the first maxCapture bytes written to it and counts the rest.
type capped struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := maxCapture - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

// runCommand executes the configured command with the request on stdin
// and describes what happened. The command runs through /bin/sh in a
// process group of its own with a clean environment (ActionEnv); on the
// deadline or on shutdown (ctx) the whole group is killed, and once the
// shell has exited whatever it left running in its group is killed too.
func (a *actionPoller) runCommand(ctx context.Context, req ActionRequest) string {
	ac := a.e.o.Config.Actions
	cmdline := strings.TrimSpace(ac.Command)
	if cmdline == "" {
		return fmt.Sprintf("%s was not run: no [actions] command is configured in cwbridge", req.Action)
	}
	timeout := ac.Timeout.Duration
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	in, _ := json.Marshal(req)
	cmd := exec.CommandContext(rctx, "/bin/sh", "-c", cmdline)
	cmd.Env = ActionEnv(ac, req.Action, os.LookupEnv)
	cmd.Stdin = bytes.NewReader(in)
	out := &capped{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = actionWaitDelay
	err := cmd.Run()
	// The shell is gone; its group may not be (a background child). While
	// any member lives, the kernel does not hand the group id out again.
	_ = killGroup(cmd)

	var verdict string
	switch {
	case ctx.Err() != nil:
		verdict = req.Action + ": stopped (cwbridge was shutting down); it may or may not have taken effect"
	case rctx.Err() != nil:
		verdict = fmt.Sprintf("%s: failed (no answer within %s; the command and its children were killed)", req.Action, timeout)
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		verdict = req.Action + ": done"
	default:
		verdict = fmt.Sprintf("%s: failed (%v)", req.Action, err)
	}
	if text := outputText(out); text != "" {
		verdict += "\n\n" + text
	}
	return verdict
}

// killGroup sends SIGKILL to the command's process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// outputText is the output quoted on the ticket: control characters made
// harmless, at most maxOutput bytes (cut on a rune boundary), and a line
// saying how much was left out.
func outputText(out *capped) string {
	out.mu.Lock()
	defer out.mu.Unlock()
	raw := out.buf.Bytes()
	total := int64(len(raw)) + out.dropped
	text := strings.TrimSpace(textsafe.Clean(string(raw)))
	if len(text) <= maxOutput && out.dropped == 0 {
		return text
	}
	cut := min(len(text), maxOutput)
	for cut > 0 && cut < len(text) && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…\n[output truncated: %d bytes in all, only the start is shown; past %d KiB it was counted and dropped unread]",
		text[:cut], total, maxCapture>>10)
}
