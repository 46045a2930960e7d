// Package connlimit caps the connections a listener hands out, in total
// and per remote IP, without ever blocking Accept: when a cap is reached
// the oldest connection that has not proven itself yet (an SSH connection
// before login, an HTTP connection between requests) is closed to make
// room, taken from the IP holding the most. A flood of silent connections
// therefore pushes out its own connections, not a technician's login or an
// intake POST that has just arrived; when nothing can be evicted the new
// connection is closed at once.
//
// This replaces a semaphore limit (golang.org/x/net/netutil style), under
// which a flood keeps every slot and the legitimate client waits in the
// kernel's backlog until the flood's timeouts expire.
package connlimit

import (
	"net"
	"sync"
	"sync/atomic"
)

// Limits are the caps; zero means no cap.
type Limits struct {
	Total int // connections open at once
	PerIP int // connections from one IP
	// Unsettled caps the connections not settled yet (an SSH connection
	// before login: each one costs a key exchange). Past it the oldest
	// unsettled connection of the busiest IP makes room.
	Unsettled int
}

// Stats counts what the limiter did, for tests and metrics.
type Stats struct {
	Open, Evicted, Refused int64
}

// Listener wraps a net.Listener with the limits. Connections it returns
// start out evictable; Settle marks one as proven (no longer evictable),
// Unsettle as evictable again.
type Listener struct {
	net.Listener
	lim Limits

	mu     sync.Mutex
	byIP   map[string][]*conn // open connections per IP, oldest first
	byAddr map[string]*conn   // by remote address, for Settle
	total  int

	evicted, refused atomic.Int64
}

// Wrap returns ln with the limits applied.
func Wrap(ln net.Listener, lim Limits) *Listener {
	return &Listener{Listener: ln, lim: lim, byIP: map[string][]*conn{}, byAddr: map[string]*conn{}}
}

type conn struct {
	net.Conn
	l       *Listener
	ip      string
	settled bool
	once    sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.forget(c) })
	return err
}

func ipOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// Accept returns the next connection within the limits, evicting or
// refusing as the package doc says. It never waits for a slot.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &conn{Conn: nc, l: l, ip: ipOf(nc.RemoteAddr())}
		victims, ok := l.admit(c)
		for _, v := range victims {
			_ = v.Close()
		}
		if ok {
			return c, nil
		}
		_ = nc.Close()
	}
}

// admit makes room for c and records it, or reports false. Victims are
// closed by the caller, outside the lock.
func (l *Listener) admit(c *conn) ([]*conn, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var victims []*conn
	if l.lim.PerIP > 0 && len(l.byIP[c.ip]) >= l.lim.PerIP {
		v := l.oldestEvictable(c.ip)
		if v == nil {
			l.refused.Add(1)
			return nil, false
		}
		victims = append(victims, v)
	}
	if l.lim.Unsettled > 0 && len(victims) == 0 && l.unsettled() >= l.lim.Unsettled {
		if v := l.oldestEvictable(l.busiestIP(victims)); v != nil {
			victims = append(victims, v)
		}
	}
	if l.lim.Total > 0 && l.total-len(victims) >= l.lim.Total {
		v := l.oldestEvictable(l.busiestIP(victims))
		if v == nil {
			l.refused.Add(1)
			return nil, false
		}
		victims = append(victims, v)
	}
	for _, v := range victims {
		l.removeLocked(v)
		v.once.Do(func() {}) // removed here; its Close must not remove again
	}
	l.evicted.Add(int64(len(victims)))
	l.byIP[c.ip] = append(l.byIP[c.ip], c)
	l.byAddr[c.RemoteAddr().String()] = c
	l.total++
	return victims, true
}

// busiestIP is the IP with the most evictable connections, not counting
// the ones already chosen.
func (l *Listener) busiestIP(chosen []*conn) string {
	best, bestN := "", 0
	for ip, cs := range l.byIP {
		n := 0
		for _, c := range cs {
			if !c.settled && !contains(chosen, c) {
				n++
			}
		}
		if n > bestN {
			best, bestN = ip, n
		}
	}
	return best
}

func (l *Listener) unsettled() int {
	n := 0
	for _, cs := range l.byIP {
		for _, c := range cs {
			if !c.settled {
				n++
			}
		}
	}
	return n
}

func contains(cs []*conn, c *conn) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func (l *Listener) oldestEvictable(ip string) *conn {
	for _, c := range l.byIP[ip] {
		if !c.settled {
			return c
		}
	}
	return nil
}

func (l *Listener) forget(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(c)
}

func (l *Listener) removeLocked(c *conn) {
	cs := l.byIP[c.ip]
	for i, x := range cs {
		if x == c {
			cs = append(cs[:i:i], cs[i+1:]...)
			if len(cs) == 0 {
				delete(l.byIP, c.ip)
			} else {
				l.byIP[c.ip] = cs
			}
			l.total--
			break
		}
	}
	if k := c.RemoteAddr().String(); l.byAddr[k] == c {
		delete(l.byAddr, k)
	}
}

// Settle marks the connection whose remote address is remote (as
// net.Addr.String gives it) as proven: it is no longer evicted to make
// room (it still counts toward the caps).
func (l *Listener) Settle(remote string) { l.setSettled(remote, true) }

// Unsettle makes it evictable again (an HTTP connection gone idle).
func (l *Listener) Unsettle(remote string) { l.setSettled(remote, false) }

func (l *Listener) setSettled(remote string, v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.byAddr[remote]; c != nil {
		c.settled = v
	}
}

// Stats reports the open connections and what was evicted or refused.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	open := l.total
	l.mu.Unlock()
	return Stats{Open: int64(open), Evicted: l.evicted.Load(), Refused: l.refused.Load()}
}
