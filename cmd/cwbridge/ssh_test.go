package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/testsession"
	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/config"
)

// hello is a stand-in for the TUI: it shows a line and quits on q.
type hello struct{}

func (hello) Init() tea.Cmd { return nil }
func (h hello) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "q" {
		return h, tea.Quit
	}
	return h, nil
}
func (hello) View() tea.View { return tea.NewView("hello from cwbridge") }

func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sshTestServer(t *testing.T, allowed gossh.Signer) (string, config.SSH) {
	t.Helper()
	addr, c, _ := sshTestServerWith(t, "# technicians\n"+string(gossh.MarshalAuthorizedKey(allowed.PublicKey())), slog.New(slog.DiscardHandler))
	return addr, c
}

// sshTestServerWith serves the SSH server on loopback with the given
// authorized_keys content, through the same limited listener serve uses.
func sshTestServerWith(t *testing.T, authorizedKeys string, log *slog.Logger) (string, config.SSH, *sshServer) {
	t.Helper()
	addr, c, srv, _ := serveSSHTest(t, authorizedKeys, log, nil)
	return addr, c, srv
}

// serveSSHTest is sshTestServerWith with a session model of the test's
// (nil: hello) and stop, which stops the server as serve does (waiting
// for it); cleanup stops it too.
func serveSSHTest(t *testing.T, authorizedKeys string, log *slog.Logger, model sshSessionModel) (string, config.SSH, *sshServer, func()) {
	t.Helper()
	dir := t.TempDir()
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, []byte(authorizedKeys), 0o600)
	c := config.SSH{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "keys", "host_ed25519"), AuthorizedKeys: ak}
	if model == nil {
		model = func(ssh.Session) (tea.Model, []tea.ProgramOption) { return hello{}, nil }
	}
	srv, err := newSSHServer(c, log, model)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); serveSSH(ctx, srv, ln) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return ln.Addr().String(), c, srv, stop
}

func clientConfig(s gossh.Signer) *gossh.ClientConfig {
	return &gossh.ClientConfig{User: "tech", Auth: []gossh.AuthMethod{gossh.PublicKeys(s)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
}

func TestSSHListedKeyGetsTheTUI(t *testing.T) {
	key := newKey(t)
	addr, c := sshTestServer(t, key)
	if st, err := os.Stat(c.HostKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", st, err)
	}
	sess, err := testsession.NewClientSession(t, addr, clientConfig(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	sess.Stdout = out
	in, _ := sess.StdinPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "hello from cwbridge") {
		if time.Now().After(deadline) {
			t.Fatalf("no TUI output: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.Write([]byte("q"))
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end after q")
	}
}

func TestSSHRefusesOthers(t *testing.T) {
	addr, _ := sshTestServer(t, newKey(t))
	if _, err := testsession.NewClientSession(t, addr, clientConfig(newKey(t))); err == nil {
		t.Fatal("an unlisted key got in")
	}
}

func TestSSHNeedsAPTY(t *testing.T) {
	key := newKey(t)
	addr, _ := sshTestServer(t, key)
	sess, err := testsession.NewClientSession(t, addr, clientConfig(key))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := sess.CombinedOutput("")
	if !strings.Contains(string(out), "PTY") {
		t.Fatalf("no-PTY session got %q", out)
	}
}

func TestAuthorizedKeysChecked(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "# nobody\n", "garbage": "ssh-ed25519 not-base64!!\n"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		c := config.SSH{HostKey: filepath.Join(dir, "hk"), AuthorizedKeys: p}
		if _, err := newSSHServer(c, slog.New(slog.DiscardHandler), nil); err == nil {
			t.Errorf("%s authorized_keys accepted", name)
		}
	}
	c := config.SSH{HostKey: filepath.Join(dir, "hk"), AuthorizedKeys: filepath.Join(dir, "missing")}
	if _, err := newSSHServer(c, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}

// canLogIn reports whether key gets through authentication.
func canLogIn(t *testing.T, addr string, key gossh.Signer) bool {
	t.Helper()
	c, err := gossh.Dial("tcp", addr, clientConfig(key))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// The options in authorized_keys are honoured the OpenSSH way, an
// indented comment is a comment, and a refused key is logged with why.
func TestSSHKeyOptionsHonoured(t *testing.T) {
	keys := map[string]gossh.Signer{}
	var ak strings.Builder
	ak.WriteString("   # indented comment: was a lock-out\n\n")
	for _, opt := range []string{``, `restrict`, `from="127.0.0.0/8"`, `from="10.9.9.9"`, `no-pty`, `command="/bin/sh"`, `expiry-time="20000101"`, `from="!127.0.0.1,*"`} {
		k := newKey(t)
		keys[opt] = k
		if opt != "" {
			ak.WriteString(opt + " ")
		}
		ak.Write(gossh.MarshalAuthorizedKey(k.PublicKey()))
	}
	logs := &lockedBuffer{}
	addr, _, _ := sshTestServerWith(t, ak.String(), slog.New(slog.NewTextHandler(logs, nil)))
	for opt, want := range map[string]bool{``: true, `restrict`: true, `from="127.0.0.0/8"`: true,
		`from="10.9.9.9"`: false, `no-pty`: false, `command="/bin/sh"`: false, `expiry-time="20000101"`: false, `from="!127.0.0.1,*"`: false} {
		if got := canLogIn(t, addr, keys[opt]); got != want {
			t.Errorf("key with %q: logged in %v, want %v", opt, got, want)
		}
	}
	for _, why := range []string{"no-pty, and the cwbridge TUI needs a PTY", "command=, and cwbridge runs no command", "expired", "from= list"} {
		if !strings.Contains(logs.String(), why) {
			t.Errorf("no log line saying %q:\n%s", why, logs.String())
		}
	}
}

// A malformed line added while the server runs is skipped with an ERROR
// naming file and line; the keys after it still get in.
func TestSSHBadLineAddedAtRuntime(t *testing.T) {
	a, b := newKey(t), newKey(t)
	logs := &lockedBuffer{}
	addr, c, _ := sshTestServerWith(t, string(gossh.MarshalAuthorizedKey(a.PublicKey())), slog.New(slog.NewTextHandler(logs, nil)))
	if !canLogIn(t, addr, a) || canLogIn(t, addr, b) {
		t.Fatal("before the edit")
	}
	edited := string(gossh.MarshalAuthorizedKey(a.PublicKey())) + "this is not a key\n" + string(gossh.MarshalAuthorizedKey(b.PublicKey()))
	if err := os.WriteFile(c.AuthorizedKeys, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if !canLogIn(t, addr, b) || !canLogIn(t, addr, a) {
		t.Fatalf("a bad line locked keys out; logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "file="+c.AuthorizedKeys+" line=2") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// lockedBuffer is written by the SSH session's goroutine while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The server carries the handshake timeout and the configured maximum
// session time.
func TestSSHTimeoutsWired(t *testing.T) {
	dir := t.TempDir()
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, gossh.MarshalAuthorizedKey(newKey(t).PublicKey()), 0o600)
	c := config.SSH{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "hk"), AuthorizedKeys: ak, MaxSession: config.Duration{Duration: 2 * time.Hour}}
	srv, err := newSSHServer(c, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.HandshakeTimeout != sshHandshakeTimeout || srv.MaxTimeout != 2*time.Hour || srv.IdleTimeout != sshIdleTimeout {
		t.Fatalf("handshake %v, max %v, idle %v", srv.HandshakeTimeout, srv.MaxTimeout, srv.IdleTimeout)
	}
}

// TestSSHSessionKnowsItsTechnician: a session's actor is the key's
// authorized_keys comment (the fingerprint when there is none), role
// words apart, and the serve log names the technician on connect and
// disconnect.
func TestSSHSessionKnowsItsTechnician(t *testing.T) {
	ann, bob := newKey(t), newKey(t)
	body := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(ann.PublicKey()))) + " ann@laptop\n" +
		strings.TrimSpace(string(gossh.MarshalAuthorizedKey(bob.PublicKey()))) + " role=viewer\n"
	logs := &lockedBuffer{}
	seen := make(chan technician, 2)
	addr, _, _, _ := serveSSHTest(t, body, slog.New(slog.NewTextHandler(logs, nil)), func(s ssh.Session) (tea.Model, []tea.ProgramOption) {
		seen <- sessionTechnician(s)
		return hello{}, nil
	})

	for _, tc := range []struct {
		key  gossh.Signer
		want technician
	}{{ann, technician{Name: "ann@laptop"}}, {bob, technician{Name: gossh.FingerprintSHA256(bob.PublicKey()), Viewer: true}}} {
		sess, err := testsession.NewClientSession(t, addr, clientConfig(tc.key))
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		in, _ := sess.StdinPipe()
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-seen:
			if got != tc.want {
				t.Errorf("technician %+v, want %+v", got, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no session")
		}
		in.Write([]byte("q"))
		sess.Wait()
	}
	if got := (technician{Name: "ann@laptop"}).Actor(); got != "ssh:ann@laptop" {
		t.Errorf("actor %q", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `msg="ssh session ended" technician=ann@laptop`) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not name the technician:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "technician=ann@laptop role=admin") || !strings.Contains(logs.String(), "role=viewer") {
		t.Fatalf("connect lines:\n%s", logs.String())
	}
}

// TestSSHStopSaysGoodbye: when serve stops, a technician's session ends
// with a one-line goodbye, and the log has no ERROR for it.
func TestSSHStopSaysGoodbye(t *testing.T) {
	key := newKey(t)
	logs := &lockedBuffer{}
	addr, _, _, stop := serveSSHTest(t, string(gossh.MarshalAuthorizedKey(key.PublicKey())), slog.New(slog.NewTextHandler(logs, nil)), nil)

	sess, err := testsession.NewClientSession(t, addr, clientConfig(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "hello from cwbridge") {
		if time.Now().After(deadline) {
			t.Fatalf("no TUI: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	ended := make(chan error, 1)
	go func() { ended <- sess.Wait() }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived the server")
	}
	<-stopped
	if !strings.Contains(out.String(), goodbye) {
		t.Fatalf("no goodbye on the terminal: %q", out.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), `why="server stopping"`) {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// Only keys get in: a password or keyboard-interactive login is refused
// even for the right user name.
func TestSSHRefusesPasswords(t *testing.T) {
	key := newKey(t)
	addr, _ := sshTestServer(t, key)
	for name, auth := range map[string]gossh.AuthMethod{
		"password": gossh.Password("tech"),
		"keyboard-interactive": gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"tech"}, nil
		}),
	} {
		cfg := &gossh.ClientConfig{User: "tech", Auth: []gossh.AuthMethod{auth}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
		if c, err := gossh.Dial("tcp", addr, cfg); err == nil {
			c.Close()
			t.Errorf("a %s login got in", name)
		}
	}
}
