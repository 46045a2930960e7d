package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/wish/v2/testsession"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
)

// tuiRig is serve's SSH side as it runs: the real TUI for each session
// (tuiSessions) over one store and one engine forwarding to a simulator,
// all on loopback.
type tuiRig struct {
	store *storage.Store
	eng   *engine.Engine
	sim   *cwsim.Server
	addr  string
	keys  map[string]gossh.Signer // by technician name
}

const tuiRigTOML = `
[engine]
max_requests_per_minute = 10000

[[routes]]
alert_type = "threat"
board = "Security"
status = "New"
priority = "Priority 2 - Quick Response"
type = "Incident"
closed_status = "Closed"
`

// newTUIRig sets up a finished setup against a simulator, starts the
// engine and serves SSH for technicians (one key each, named by its
// authorized_keys comment).
func newTUIRig(t testing.TB, technicians ...string) *tuiRig {
	t.Helper()
	sim := cwsim.New(cwsim.Options{Companies: 5})
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	st, err := storage.Open(filepath.Join(dir, "data"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse("test.toml", []byte(tuiRigTOML))
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Apply(st, cfg); err != nil {
		t.Fatal(err)
	}
	cr := sim.Credentials()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetConnection("tui:root", storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"}))
	must(st.SetOnboarding(storage.Onboarding{Step: "done", VerifiedAt: time.Now()}))
	eng, err := engine.New(engine.Options{Store: st, Config: cfg, Logger: slog.New(slog.DiscardHandler),
		PollInterval: time.Hour, CompanySyncInterval: -1, FoldWindow: time.Hour,
		ClientConfig: func(c *cwclient.Config) { c.Retry.BaseDelay, c.Retry.MaxDelay = time.Millisecond, 20*time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	engDone := make(chan struct{})
	go func() { defer close(engDone); eng.Run(ctx) }()

	r := &tuiRig{store: st, eng: eng, sim: sim, keys: map[string]gossh.Signer{}}
	var ak strings.Builder
	for _, name := range technicians {
		k := newKey(t)
		r.keys[name] = k
		ak.WriteString(strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.PublicKey()))) + " " + name + "\n")
	}
	akPath := filepath.Join(dir, "authorized_keys")
	must(os.WriteFile(akPath, []byte(ak.String()), 0o600))
	c := config.SSH{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "hk"), AuthorizedKeys: akPath}
	srv, err := newSSHServer(c, slog.New(slog.DiscardHandler), tuiSessions(cfg, st, eng))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sshDone := make(chan struct{})
	go func() { defer close(sshDone); serveSSH(ctx, srv, ln) }()
	t.Cleanup(func() { cancel(); <-sshDone; <-engDone })
	r.addr = ln.Addr().String()
	return r
}

// terminal is one technician's SSH session with a PTY: what they type and
// everything the TUI wrote.
type terminal struct {
	t    testing.TB
	sess *gossh.Session
	in   io.Writer
	out  *lockedBuffer
	mark int // wait looks at output after this
}

func (r *tuiRig) connect(t testing.TB, name string, w, h int) *terminal {
	t.Helper()
	sess, err := testsession.NewClientSession(t, r.addr, clientConfig(r.keys[name]))
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, sess: sess, out: &lockedBuffer{}}
	sess.Stdout = term.out
	if term.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return term
}

// press types keys (one string each) and marks the output, so the next
// wait sees only what the TUI drew after them.
func (term *terminal) press(keys ...string) {
	term.t.Helper()
	term.mark = len(term.out.String())
	for _, k := range keys {
		if _, err := io.WriteString(term.in, k); err != nil {
			term.t.Fatal(err)
		}
	}
}

// wait waits (up to 10s) until every word shows in what the TUI drew
// since the last press. Words, not phrases: the renderer skips cells
// that did not change, so a phrase may arrive cut by cursor moves.
func (term *terminal) wait(words ...string) time.Duration {
	term.t.Helper()
	start := time.Now()
	for {
		got := ansi.Strip(term.out.String()[term.mark:])
		missing := ""
		for _, w := range words {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			term.t.Fatalf("the screen never showed %q; it showed:\n%s", missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (term *terminal) quit() {
	term.t.Helper()
	term.press("q")
	done := make(chan error, 1)
	go func() { done <- term.sess.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		term.t.Fatal("the session did not end after q")
	}
}
