package connlimit

import (
	"io"
	"net"
	"testing"
	"time"
)

// dialFrom opens a loopback connection from the given local IP.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// accepted starts an accept loop and hands the server side of each
// connection to the test.
func accepted(t *testing.T, lim Limits) (*Listener, chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Wrap(ln, lim)
	t.Cleanup(func() { l.Close() })
	ch := make(chan net.Conn, 1000)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return l, ch
}

func next(t *testing.T, ch chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("nothing accepted")
		return nil
	}
}

// closedByServer reports whether the client side sees the server close.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF
}

func TestPerIPEvictsOldestUnsettledOfThatIP(t *testing.T) {
	l, ch := accepted(t, Limits{PerIP: 2})
	addr := l.Addr().String()
	a1 := dialFrom(t, "127.0.0.2", addr)
	s1 := next(t, ch)
	dialFrom(t, "127.0.0.2", addr)
	next(t, ch)
	other := dialFrom(t, "127.0.0.3", addr)
	next(t, ch)
	// a third from .2 evicts .2's oldest, not .3's.
	dialFrom(t, "127.0.0.2", addr)
	next(t, ch)
	if !closedByServer(a1) {
		t.Fatal("the oldest connection of the busy IP was not evicted")
	}
	_ = s1
	other.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := other.Read(make([]byte, 1)); err == io.EOF {
		t.Fatal("another IP's connection was evicted")
	}
	if st := l.Stats(); st.Open != 3 || st.Evicted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSettledAreKeptAndNewRefusedWhenFull(t *testing.T) {
	l, ch := accepted(t, Limits{Total: 2})
	addr := l.Addr().String()
	c1 := dialFrom(t, "127.0.0.1", addr)
	s1 := next(t, ch)
	c2 := dialFrom(t, "127.0.0.1", addr)
	s2 := next(t, ch)
	l.Settle(s1.RemoteAddr().String())
	l.Settle(s2.RemoteAddr().String())
	c3 := dialFrom(t, "127.0.0.4", addr)
	if !closedByServer(c3) {
		t.Fatal("a connection over the cap was not closed")
	}
	if st := l.Stats(); st.Refused != 1 || st.Open != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Unsettled again (idle), the oldest goes to make room; closing one
	// frees its slot.
	l.Unsettle(s1.RemoteAddr().String())
	dialFrom(t, "127.0.0.4", addr)
	next(t, ch)
	if !closedByServer(c1) {
		t.Fatal("the idle connection was not evicted")
	}
	s2.Close()
	dialFrom(t, "127.0.0.4", addr)
	next(t, ch)
	_ = c2
	if st := l.Stats(); st.Open != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// The total cap evicts from the IP holding the most connections.
func TestTotalEvictsFromBusiestIP(t *testing.T) {
	l, ch := accepted(t, Limits{Total: 3})
	addr := l.Addr().String()
	mine := dialFrom(t, "127.0.0.1", addr)
	next(t, ch)
	f1 := dialFrom(t, "127.0.0.9", addr)
	next(t, ch)
	dialFrom(t, "127.0.0.9", addr)
	next(t, ch)
	dialFrom(t, "127.0.0.9", addr)
	next(t, ch)
	if !closedByServer(f1) {
		t.Fatal("the flood's oldest was not evicted")
	}
	mine.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := mine.Read(make([]byte, 1)); err == io.EOF {
		t.Fatal("the quiet IP's connection was evicted")
	}
}

// Unsettled connections are capped on their own: settled ones do not
// count, and the oldest unsettled one of the busiest IP makes room.
func TestUnsettledCap(t *testing.T) {
	l, ch := accepted(t, Limits{Unsettled: 2})
	addr := l.Addr().String()
	dialFrom(t, "127.0.0.1", addr)
	s0 := next(t, ch)
	l.Settle(s0.RemoteAddr().String())
	f1 := dialFrom(t, "127.0.0.9", addr)
	next(t, ch)
	dialFrom(t, "127.0.0.9", addr)
	next(t, ch)
	dialFrom(t, "127.0.0.5", addr)
	next(t, ch)
	if !closedByServer(f1) {
		t.Fatal("the busiest IP's oldest unsettled connection was not evicted")
	}
	if st := l.Stats(); st.Open != 3 || st.Evicted != 1 {
		t.Fatalf("stats %+v", st)
	}
}
