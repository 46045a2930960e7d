package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/intake"
	"github.com/cwbridge/cwbridge/storage"
)

// floodConns is how many silent connections each port gets: bounded so
// that both ends fit in the test process's file descriptors.
const floodConns = 3000

// flood opens n connections to addr from the loopback address src that
// never send a byte. Connections the server closes stay open here (their
// descriptors are counted below).
func flood(t *testing.T, src, addr string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("flood connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	return conns
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// Thousands of silent connections to the SSH port and to the intake do
// not keep a technician out or the intake from answering, and the server
// side holds no more connections than its caps.
func TestFloodOfSilentConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of loopback connections")
	}
	key := newKey(t)
	sshAddr, _, sshSrv := sshTestServerWith(t, string(gossh.MarshalAuthorizedKey(key.PublicKey())), slog.New(slog.DiscardHandler))

	st, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token = "flood-test-token-0123456789"
	in, err := intake.New(intake.Options{Store: st, Token: storage.NewSecret(token)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	intakeURL := "http://" + ln.Addr().String()

	before := openFDs(t)
	// The flood comes from other loopback addresses than the technician
	// and the caller, as it would from another host.
	flood(t, "127.0.0.2", sshAddr, floodConns)
	flood(t, "127.0.0.3", ln.Addr().String(), floodConns)

	// A technician logs in.
	start := time.Now()
	c, err := gossh.Dial("tcp", sshAddr, clientConfig(key))
	if err != nil {
		t.Fatalf("login under the flood: %v", err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("session under the flood: %v", err)
	}
	sshTook := time.Since(start)
	sess.Close()
	c.Close()

	// The intake takes an incident.
	start = time.Now()
	body := `{"id":"flood-1","type":"threat","company":"acme","title":"under flood"}`
	req, _ := http.NewRequest(http.MethodPost, intakeURL+"/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("intake POST under the flood: %v", err)
	}
	resp.Body.Close()
	postTook := time.Since(start)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("intake POST under the flood: %s", resp.Status)
	}

	// Server side: at most the caps; the client side holds 2*floodConns.
	serverSide := openFDs(t) - before - 2*floodConns
	if serverSide > sshMaxConns+intake.MaxConns+64 {
		t.Fatalf("the servers hold %d descriptors for %d silent connections (caps %d + %d)", serverSide, 2*floodConns, sshMaxConns, intake.MaxConns)
	}
	stats := sshSrv.lim.Load().Stats()
	if stats.Evicted == 0 {
		t.Fatalf("ssh limiter: %+v", stats)
	}
	t.Logf("%d silent connections to each port: ssh login+session %v, intake POST %v; server-side descriptors %d; ssh limiter %+v",
		floodConns, sshTook.Round(time.Millisecond), postTook.Round(time.Millisecond), serverSide, stats)
}
