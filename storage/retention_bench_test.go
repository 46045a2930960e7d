package storage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	retPerDay = flag.Int("retention.perday", 10000, "BenchmarkRetentionSteadyLoad: incidents per simulated day")
	retKeys   = flag.Int("retention.keys", 500, "BenchmarkRetentionSteadyLoad: incident keys the load is spread over")
	retDays   = flag.Int("retention.days", 60, "BenchmarkRetentionSteadyLoad: simulated days")
	retPrune  = flag.Duration("retention.prune", 6*time.Hour, "BenchmarkRetentionSteadyLoad: simulated time between prune passes (the engine's is 1h)")
	retWindow = flag.Duration("retention.window", 720*time.Hour, "BenchmarkRetentionSteadyLoad: [retention] closed_incidents and notes")
)

// BenchmarkRetentionSteadyLoad models a steady load on the store with an
// injected clock: -retention.perday incidents a day (default 10,000, the
// issue's example; 1,440,000 is 1,000 a minute) spread evenly over
// -retention.keys keys (500), for -retention.days days (60), every incident
// taken through the engine's own storage calls (enqueue, open or fold with
// its posting marker, feed event, ack). Each key's ticket is resolved six
// hours after it opened (staggered) by one more incident, as the engine
// resolves, so keys cycle through generations;
// every tenth closed ticket also gets a technician action (a processed
// note id and its "ran:" record). The resolves add about 2,000 incidents a
// day at 500 keys. Prune runs with the default [retention]
// windows (30 days; -retention.window) every -retention.prune of simulated
// time (6 hours; the engine prunes hourly, which only trims the peak).
//
// It reports the file size at day 30 and at the end, and then, in a fresh
// process (so the simulation's own heap does not count), the time to Open
// the store and read what the engine reads at start, and that process's
// peak RSS. Run it with -bench RetentionSteadyLoad -benchtime 1x.
func BenchmarkRetentionSteadyLoad(b *testing.B) {
	for range b.N {
		runRetentionLoad(b)
	}
}

func runRetentionLoad(b *testing.B) {
	dir := b.TempDir()
	m := newSim(b, dir)
	const tick = 10 * time.Minute
	perTick := max(1, *retPerDay/int(24*time.Hour/tick))
	ticks := *retDays * int(24*time.Hour/tick)
	life := int(6 * time.Hour / tick)
	keys := make([]string, *retKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("acme|malware|Malware on PC-%03d", i)
	}
	sizes := map[int]int64{}
	next := 0 // round robin over keys
	var pruned PruneStats
	start := time.Now()
	for i := 1; i <= ticks; i++ {
		m.clock.Set(day0.Add(time.Duration(i) * tick))
		batch := make([]string, 0, perTick)
		for range perTick {
			batch = append(batch, keys[next])
			next = (next + 1) % len(keys)
		}
		m.takeMany(batch)
		m.must(m.s.Update(func(t *Tx) error { m.work(t); return nil }))
		// Tickets are resolved six hours after they opened, keys
		// staggered, each by one more incident.
		var resolves []string
		for k, key := range keys {
			if (i+k)%life != 0 {
				continue
			}
			if cur, err := m.s.IncidentKey(key); err == nil && cur.State == KeyOpen {
				resolves = append(resolves, key)
			}
		}
		for _, id := range m.takeMany(resolves) {
			m.resolving[id] = true
		}
		m.must(m.s.Update(func(t *Tx) error {
			m.work(t)
			for k, key := range keys {
				if (i+k)%life != 0 {
					continue
				}
				cur, err := t.IncidentKey(key)
				if err != nil || cur.State != KeyClosed || cur.ClosedAt != t.now {
					continue
				}
				if (i+k)%(10*life) == 0 {
					note := strconv.Itoa(900000 + i*len(keys) + k)
					if _, err := t.MarkNoteProcessed(note); err != nil {
						return err
					}
					if _, err := t.MarkNoteProcessed(fmt.Sprintf("ran:%d/%s", cur.TicketID, note)); err != nil {
						return err
					}
				}
			}
			return nil
		}))
		if time.Duration(i)*tick%*retPrune == 0 {
			p := testPolicy
			p.Closed, p.Notes = *retWindow, *retWindow
			st, err := m.s.Prune(context.Background(), m.clock.Now(), p)
			m.must(err)
			pruned.Incidents += st.Incidents
			pruned.Keys += st.Keys
			pruned.Notes += st.Notes
			pruned.TicketIndex += st.TicketIndex
			pruned.WriteTxs += st.WriteTxs
		}
		if i%int(24*time.Hour/tick) == 0 {
			d := i / int(24*time.Hour/tick)
			fi, err := os.Stat(m.s.Path())
			m.must(err)
			sizes[d] = fi.Size()
			if d%10 == 0 {
				b.Logf("day %d: file %.1f MiB, %d incidents taken, %s", d, float64(fi.Size())/(1<<20), m.n, time.Since(start).Round(time.Second))
			}
		}
	}
	m.must(m.s.Close())
	last := *retDays
	b.ReportMetric(float64(sizes[min(30, last)])/(1<<20), "MiB@day30")
	b.ReportMetric(float64(sizes[last])/(1<<20), "MiB@end")
	b.ReportMetric(float64(m.n), "incidents")
	b.Logf("pruned %+v", pruned)

	// Restart in fresh processes; the median of five.
	var opens []float64
	var rss float64
	for range 5 {
		p := restartProbe(b, dir)
		opens = append(opens, p.OpenMS)
		rss = max(rss, p.PeakRSSMiB)
	}
	slices.Sort(opens)
	b.ReportMetric(opens[len(opens)/2], "open-ms")
	b.ReportMetric(rss, "peakRSS-MiB")
}

// takeMany enqueues one incident per entry of keys, in one batch, and
// returns their ids.
func (m *sim) takeMany(keys []string) []string {
	m.tb.Helper()
	if len(keys) == 0 {
		return nil
	}
	incs := make([]Incident, len(keys))
	ids := make([]string, len(keys))
	for i, key := range keys {
		m.n++
		ids[i] = fmt.Sprintf("evt-%09d", m.n)
		incs[i] = benchIncident(ids[i])
		incs[i].Key = key
	}
	if _, _, err := m.s.EnqueueIncidents(context.Background(), incs); err != nil {
		m.tb.Fatal(err)
	}
	return ids
}

type probeResult struct {
	OpenMS     float64 `json:"open_ms"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

const probeEnv = "CWBRIDGE_RETENTION_PROBE_DIR"

func restartProbe(b *testing.B, dir string) probeResult {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRetentionRestartProbe$", "-test.count=1")
	cmd.Env = append(os.Environ(), probeEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("restart probe: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "PROBE "); ok {
			var p probeResult
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				b.Fatal(err)
			}
			return p
		}
	}
	b.Fatalf("restart probe printed no result:\n%s", out)
	return probeResult{}
}

// TestRetentionRestartProbe is the restart half of the benchmark, run in
// its own process; it does nothing in a normal test run.
func TestRetentionRestartProbe(t *testing.T) {
	dir := os.Getenv(probeEnv)
	if dir == "" {
		t.Skip("run by BenchmarkRetentionSteadyLoad")
	}
	start := time.Now()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What the engine and the screens read when they start: the queue
	// depth, the keys (the action poller), the recent feed.
	_ = s.QueueLen()
	if _, err := s.IncidentKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecentFeed(200); err != nil {
		t.Fatal(err)
	}
	open := time.Since(start)
	defer s.Close()
	p := probeResult{OpenMS: float64(open.Microseconds()) / 1000, PeakRSSMiB: float64(procStatusKB(t, "VmHWM")) / 1024}
	out, _ := json.Marshal(p)
	fmt.Println("PROBE " + string(out))
}

func procStatusKB(t *testing.T, field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
