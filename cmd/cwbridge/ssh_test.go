package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
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

func newKey(t *testing.T) gossh.Signer {
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
	dir := t.TempDir()
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, append([]byte("# technicians\n"), gossh.MarshalAuthorizedKey(allowed.PublicKey())...), 0o600)
	c := config.SSH{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "keys", "host_ed25519"), AuthorizedKeys: ak}
	srv, err := newSSHServer(c, slog.New(slog.DiscardHandler), func(ssh.Session) (tea.Model, []tea.ProgramOption) {
		return hello{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return testsession.Listen(t, srv), c
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
		if err := checkAuthorizedKeys(p); err == nil {
			t.Errorf("%s authorized_keys accepted", name)
		}
	}
	if err := checkAuthorizedKeys(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
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
