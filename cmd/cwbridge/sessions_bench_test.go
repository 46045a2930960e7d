package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"charm.land/wish/v2/testsession"
	gossh "golang.org/x/crypto/ssh"

	"github.com/cwbridge/cwbridge/storage"
)

// BenchmarkSessionsWatchingFeed: 20 technicians' SSH sessions (the real
// TUI through the real server, on loopback) watch the live Feed while the
// engine forwards 100 incidents a second to the simulator. The baseline is
// the same load on a fresh rig with no session, in the same run.
//
//	go test -run '^$' -bench SessionsWatchingFeed -benchtime 1x ./cmd/cwbridge
//
// Figures (ReportMetric):
//   - inc/s-alone, inc/s-sessions: incidents ticketed per second over the
//     run, from the first submit to the last ticket; drop-% between them
//   - p99-ms-alone, p99-ms-sessions: incident → ticket latency
//   - RSS-MiB/session: the process's RSS growth per session once all 20
//     draw the feed; it includes this test's own SSH client side of each
//     session, so the server's share is less
//   - frame-spread-max-ms: per feed event, the time from the first
//     session's frame after it to the last session's; the longest over the
//     run is the longest one session's frame waited for another's
//   - frame-lag-max-ms: the longest from a feed event to a session's next frame
//   - frame-pause-max-ms: a session's longest pause between two of its
//     frames while tickets kept coming
func BenchmarkSessionsWatchingFeed(b *testing.B) {
	const sessions, rate, seconds = 20, 100, 5
	for b.Loop() {
		alone := runFeedLoad(b, 0, rate, seconds)
		with := runFeedLoad(b, sessions, rate, seconds)
		b.ReportMetric(alone.throughput, "inc/s-alone")
		b.ReportMetric(with.throughput, "inc/s-sessions")
		b.ReportMetric(100*(alone.throughput-with.throughput)/alone.throughput, "drop-%")
		b.ReportMetric(alone.submitted.Seconds(), "submit-s-alone")
		b.ReportMetric(with.submitted.Seconds(), "submit-s-sessions")
		b.ReportMetric(ms(alone.p99), "p99-ms-alone")
		b.ReportMetric(ms(with.p99), "p99-ms-sessions")
		b.ReportMetric(with.rssPerSession/(1<<20), "RSS-MiB/session")
		b.ReportMetric(ms(with.spreadMax), "frame-spread-max-ms")
		b.ReportMetric(ms(with.lagMax), "frame-lag-max-ms")
		b.ReportMetric(ms(with.gapMax), "frame-pause-max-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type feedLoad struct {
	throughput        float64
	submitted         time.Duration // how long submitting at the rate took
	p99               time.Duration
	rssPerSession     float64
	spreadMax, lagMax time.Duration
	gapMax            time.Duration // a session's longest pause between its frames
}

// frameClock is a session's terminal as far as the benchmark cares: when
// each frame arrived (the bytes are dropped).
type frameClock struct {
	mu    sync.Mutex
	times []time.Time
	first chan struct{} // closed when the feed is on screen
	seen  bool
	buf   []byte
}

func (f *frameClock) Write(p []byte) (int, error) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, now)
	if !f.seen {
		f.buf = append(f.buf, p...)
		if bytes.Contains(f.buf, []byte("severity")) { // the Feed's filter line
			f.seen = true
			f.buf = nil
			close(f.first)
		}
	}
	return len(p), nil
}

// next is the first frame at or after t.
func (f *frameClock) next(t time.Time) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, _ := slices.BinarySearchFunc(f.times, t, func(a, b time.Time) int { return a.Compare(b) })
	if i == len(f.times) {
		return time.Time{}, false
	}
	return f.times[i], true
}

func runFeedLoad(b *testing.B, sessions, rate, seconds int) feedLoad {
	b.Helper()
	names := make([]string, sessions)
	for i := range names {
		names[i] = "tech" + strconv.Itoa(i)
	}
	r := newTUIRig(b, append(names, "idle")...) // the server needs a key even when nobody connects
	// Warm up: the route's lookups and the connection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := r.store.Subscribe(ctx, storage.ChangeFeed)
	submit := func(id string) {
		inc := storage.Incident{ID: id, Type: "threat", Company: "acme", Title: "Malware quarantined on " + id, Severity: "high",
			Key: id, Status: "firing", State: storage.StateQueued}
		if _, _, err := r.eng.Submit(ctx, []storage.Incident{inc}); err != nil {
			b.Fatal(err)
		}
	}
	waitCreated := func(n int, at map[string]time.Time) {
		deadline := time.After(2 * time.Minute)
		for len(at) < n {
			select {
			case ch := <-feed:
				if ch.Missed > 0 {
					b.Fatalf("the benchmark's own feed subscriber missed %d events", ch.Missed)
				}
				switch ch.Event.Kind {
				case storage.FeedCreated:
					at[ch.Event.IncidentID] = time.Now()
				case storage.FeedFailed, storage.FeedDropped:
					b.Fatalf("%s: %+v", ch.Event.IncidentID, ch.Event)
				}
			case <-deadline:
				b.Fatalf("%d of %d incidents ticketed after 2 minutes; health %+v", len(at), n, r.eng.Health())
			}
		}
	}
	submit("warm")
	waitCreated(1, map[string]time.Time{})

	runtime.GC()
	rss0 := rssBytes(b)
	clocks := make([]*frameClock, sessions)
	for i, name := range names {
		sess, err := testsession.NewClientSession(b, r.addr, clientConfig(r.keys[name]))
		if err != nil {
			b.Fatal(err)
		}
		if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		clocks[i] = &frameClock{first: make(chan struct{})}
		sess.Stdout = clocks[i]
		in, _ := sess.StdinPipe()
		if err := sess.Shell(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { io.WriteString(in, "q"); sess.Wait() })
	}
	for _, c := range clocks {
		select {
		case <-c.first:
		case <-time.After(30 * time.Second):
			b.Fatal("a session never showed the Feed")
		}
	}
	runtime.GC()
	var out feedLoad
	if sessions > 0 {
		out.rssPerSession = float64(rssBytes(b)-rss0) / float64(sessions)
	}

	n := rate * seconds
	sent := make(map[string]time.Time, n)
	created := make(map[string]time.Time, n)
	var events []time.Time // when the store published each new ticket
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.After(2 * time.Minute)
		for len(created) < n {
			select {
			case ch := <-feed:
				if ch.Missed > 0 {
					b.Errorf("the benchmark's own feed subscriber missed %d events", ch.Missed)
					return
				}
				if ch.Event.Kind == storage.FeedCreated {
					now := time.Now()
					created[ch.Event.IncidentID] = now
					events = append(events, now)
				}
			case <-deadline:
				b.Errorf("%d of %d incidents ticketed after 2 minutes", len(created), n)
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("inc-%05d", i)
		sent[ids[i]] = time.Now()
		submit(ids[i])
		<-tick.C
	}
	tick.Stop()
	out.submitted = time.Since(start)
	<-done
	if b.Failed() {
		b.FailNow()
	}
	var last time.Time
	lat := make([]time.Duration, 0, n)
	for _, id := range ids {
		c := created[id]
		if c.After(last) {
			last = c
		}
		lat = append(lat, c.Sub(sent[id]))
	}
	slices.Sort(lat)
	out.throughput = float64(n) / last.Sub(start).Seconds()
	out.p99 = lat[len(lat)*99/100]
	if sessions > 0 {
		// Each session's next frame after each event: the spread between
		// the first and the last session is how long one waited for
		// another. Events in the last 100ms may have no later frame yet.
		for _, ev := range events {
			var first, lastF time.Time
			ok := true
			for _, c := range clocks {
				f, found := c.next(ev)
				if !found {
					ok = false
					break
				}
				if first.IsZero() || f.Before(first) {
					first = f
				}
				if f.After(lastF) {
					lastF = f
				}
			}
			if !ok {
				continue
			}
			out.spreadMax = max(out.spreadMax, lastF.Sub(first))
			out.lagMax = max(out.lagMax, lastF.Sub(ev))
		}
		// A session held up by another would show a long pause between
		// its own frames while tickets keep coming.
		for _, c := range clocks {
			out.gapMax = max(out.gapMax, c.longestPause(start, last))
		}
	}
	return out
}

// longestPause is the longest time between two frames in [from, to].
func (f *frameClock) longestPause(from, to time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var longest time.Duration
	prev := from
	for _, t := range f.times {
		if t.Before(from) {
			continue
		}
		if t.After(to) {
			break
		}
		longest = max(longest, t.Sub(prev))
		prev = t
	}
	return max(longest, to.Sub(prev))
}

// rssBytes is the process's resident set (Linux).
func rssBytes(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
