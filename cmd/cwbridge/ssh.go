package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	bm "charm.land/wish/v2/bubbletea"
	rm "charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/config"
)

// sshSessionModel builds the TUI for one SSH session; each session gets its
// own model (no shared UI state), over the process's one store and engine.
type sshSessionModel func(s ssh.Session) (tea.Model, []tea.ProgramOption)

// newSSHServer builds the technicians' SSH server: host key created 0600
// when missing, only the keys in authorized_keys get in, a PTY is required.
func newSSHServer(c config.SSH, log *slog.Logger, model sshSessionModel) (*ssh.Server, error) {
	if err := checkAuthorizedKeys(c.AuthorizedKeys); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(c.HostKey); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("ssh host key directory: %w", err)
		}
	}
	srv, err := wish.NewServer(
		wish.WithAddress(c.Listen),
		wish.WithHostKeyPath(c.HostKey),
		wish.WithAuthorizedKeys(c.AuthorizedKeys),
		wish.WithIdleTimeout(30*time.Minute),
		// Listed last runs first: log, require a PTY, then the TUI; all
		// inside a panic guard so one session cannot take the server down.
		wish.WithMiddleware(rm.MiddlewareWithLogger(sshLogger{log},
			bm.Middleware(func(s ssh.Session) (tea.Model, []tea.ProgramOption) {
				m, opts := model(s)
				return m, append(opts, tea.WithContext(s.Context()))
			}),
			activeterm.Middleware(),
			logSessions(log),
		)),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	if st, err := os.Stat(c.HostKey); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.HostKey, 0o600); err != nil {
			return nil, fmt.Errorf("ssh host key %s: %w", c.HostKey, err)
		}
	}
	return srv, nil
}

// checkAuthorizedKeys validates the file up front: wish rejects every key
// when any line fails to parse, which would lock everyone out silently.
func checkAuthorizedKeys(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("[ssh] authorized_keys %s: %w (only the keys listed there get in)", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line, keys := 0, 0
	for sc.Scan() {
		line++
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		if _, _, _, _, err := gossh.ParseAuthorizedKey(l); err != nil {
			return fmt.Errorf("%s:%d: not an SSH public key: %v", path, line, err)
		}
		keys++
	}
	if keys == 0 {
		return fmt.Errorf("[ssh] authorized_keys %s lists no keys: nobody could log in", path)
	}
	return nil
}

func logSessions(log *slog.Logger) wish.Middleware {
	return func(next ssh.Handler) ssh.Handler {
		return func(s ssh.Session) {
			start := time.Now()
			fp := ""
			if k := s.PublicKey(); k != nil {
				fp = gossh.FingerprintSHA256(k)
			}
			pty, _, _ := s.Pty()
			log.Info("ssh session", "user", s.User(), "key", fp, "remote", s.RemoteAddr().String(), "term", pty.Term)
			next(s)
			log.Info("ssh session ended", "user", s.User(), "remote", s.RemoteAddr().String(), "after", time.Since(start).Round(time.Second))
		}
	}
}

// sshLogger adapts slog to the recover middleware's logger.
type sshLogger struct{ l *slog.Logger }

func (s sshLogger) Printf(format string, v ...any) { s.l.Error(fmt.Sprintf(format, v...)) }

// serveSSH runs srv on its listener until ctx ends.
func serveSSH(ctx context.Context, srv *ssh.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		srv.Close()
	}
	return nil
}
