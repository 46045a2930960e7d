package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	bm "charm.land/wish/v2/bubbletea"
	rm "charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/internal/authkeys"
	"github.com/cwbridge/cwbridge/internal/connlimit"
)

// sshSessionModel builds the TUI for one SSH session; each session gets its
// own model (no shared UI state), over the process's one store and engine.
type sshSessionModel func(s ssh.Session) (tea.Model, []tea.ProgramOption)

// SSH connection discipline. A connection has sshHandshakeTimeout to
// finish the key exchange and log in; until it has logged in and opened a
// session it is evictable (internal/connlimit): past sshMaxConns in all,
// sshMaxPerIP from one address or sshMaxUnauthenticated not logged in, the
// oldest such connection (of the busiest address) is closed to make room,
// so silent connections cannot keep a technician out.
const (
	sshHandshakeTimeout   = 20 * time.Second
	sshIdleTimeout        = 30 * time.Minute
	sshMaxConns           = 256
	sshMaxPerIP           = 64
	sshMaxUnauthenticated = 32
)

// sshServer is the SSH server and, once serving, its limited listener.
type sshServer struct {
	*ssh.Server
	lim atomic.Pointer[connlimit.Listener]
	// stopping ends when serve stops: every session's TUI quits (cleanly,
	// so nothing logs an error) and the technician is told why.
	stopping context.Context
	stop     context.CancelFunc
}

// Serve serves ln under the connection limits.
func (s *sshServer) Serve(ln net.Listener) error {
	l := connlimit.Wrap(ln, connlimit.Limits{Total: sshMaxConns, PerIP: sshMaxPerIP, Unsettled: sshMaxUnauthenticated})
	s.lim.Store(l)
	return s.Server.Serve(l)
}

// newSSHServer builds the technicians' SSH server: host key created 0600
// when missing, only the keys in authorized_keys get in (read by
// internal/authkeys, options honoured), a PTY is required.
func newSSHServer(c config.SSH, log *slog.Logger, model sshSessionModel) (*sshServer, error) {
	keys, err := authkeys.NewReader(c.AuthorizedKeys, log, time.Now)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(c.HostKey); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("ssh host key directory: %w", err)
		}
	}
	s := &sshServer{}
	s.stopping, s.stop = context.WithCancel(context.Background())
	srv, err := wish.NewServer(
		wish.WithAddress(c.Listen),
		wish.WithHostKeyPath(c.HostKey),
		wish.WithPublicKeyAuth(func(ctx ssh.Context, key ssh.PublicKey) bool {
			k, ok := keys.Allow(key, ctx.RemoteAddr())
			if ok {
				ctx.SetValue(technicianKey{}, technician{Name: k.Name(), Viewer: k.Viewer()})
			}
			return ok
		}),
		wish.WithIdleTimeout(sshIdleTimeout),
		wish.WithMaxTimeout(c.MaxSession.Duration),
		// Listed last runs first: log, require a PTY, then the TUI; all
		// inside a panic guard so one session cannot take the server down.
		wish.WithMiddleware(rm.MiddlewareWithLogger(sshLogger{log},
			bm.MiddlewareWithProgramHandler(func(sess ssh.Session) *tea.Program {
				m, opts := model(sess)
				p := tea.NewProgram(m, append(append(opts, bm.MakeOptions(sess)...), tea.WithContext(sess.Context()))...)
				quit := context.AfterFunc(s.stopping, p.Quit)
				context.AfterFunc(sess.Context(), func() { quit() })
				return p
			}),
			activeterm.Middleware(),
			logSessions(log, s.stopping),
		)),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	srv.HandshakeTimeout = sshHandshakeTimeout
	// A connection that logged in and opens a session has proven itself:
	// it is no longer evicted to make room for new ones.
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{
		"session": func(srv *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
			if l := s.lim.Load(); l != nil {
				l.Settle(ctx.RemoteAddr().String())
			}
			ssh.DefaultSessionHandler(srv, conn, ch, ctx)
		},
	}
	if st, err := os.Stat(c.HostKey); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.HostKey, 0o600); err != nil {
			return nil, fmt.Errorf("ssh host key %s: %w", c.HostKey, err)
		}
	}
	s.Server = srv
	return s, nil
}

// technician is who holds the key a session logged in with: the key's
// authorized_keys comment (or its fingerprint), and whether it is read-only.
type technician struct {
	Name   string
	Viewer bool
}

type technicianKey struct{}

// sessionTechnician is the technician of an SSH session.
func sessionTechnician(s ssh.Session) technician {
	if t, ok := s.Context().Value(technicianKey{}).(technician); ok {
		return t
	}
	t := technician{Name: s.User()}
	if k := s.PublicKey(); k != nil {
		t.Name = gossh.FingerprintSHA256(k)
	}
	return t
}

// Actor is the technician as the audit log names them.
func (t technician) Actor() string { return "ssh:" + t.Name }

func (t technician) role() string {
	if t.Viewer {
		return "viewer"
	}
	return "admin"
}

// goodbye is what a technician's terminal shows when serve stops.
const goodbye = "cwbridge is stopping (the server is shutting down): goodbye."

func logSessions(log *slog.Logger, stopping context.Context) wish.Middleware {
	return func(next ssh.Handler) ssh.Handler {
		return func(s ssh.Session) {
			start := time.Now()
			tech := sessionTechnician(s)
			fp := ""
			if k := s.PublicKey(); k != nil {
				fp = gossh.FingerprintSHA256(k)
			}
			pty, _, _ := s.Pty()
			log.Info("ssh session", "technician", tech.Name, "role", tech.role(), "user", s.User(), "key", fp,
				"remote", s.RemoteAddr().String(), "term", pty.Term)
			next(s)
			why := "quit"
			if stopping.Err() != nil {
				why = "server stopping"
				fmt.Fprint(s, "\r\n"+goodbye+"\r\n")
			}
			log.Info("ssh session ended", "technician", tech.Name, "remote", s.RemoteAddr().String(),
				"after", time.Since(start).Round(time.Second), "why", why)
		}
	}
}

// sshLogger adapts slog to the recover middleware's logger.
type sshLogger struct{ l *slog.Logger }

func (s sshLogger) Printf(format string, v ...any) { s.l.Error(fmt.Sprintf(format, v...)) }

// serveSSH runs srv on its listener until ctx ends.
func serveSSH(ctx context.Context, srv *sshServer, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.stop() // every TUI quits and says goodbye; then the connections close
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		srv.Close()
	}
	return nil
}
