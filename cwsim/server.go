// Package cwsim is a strict, in-process simulator of the ConnectWise Manage
// (PSA) REST API 3.0: auth, versioned Accept, both paging modes, the
// conditions language, fields=, validation of writes, security roles and
// injectable faults. It follows ConnectWise's documented behaviour (see
// shared/docs/connectwise-api.md) rather than any one client's needs.
package cwsim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultVersion is the ConnectWise release the simulator plays. It is
// the server's own fact, so it is not taken from cwclient: a client that
// asks for another version must be told so, as ConnectWise would.
const DefaultVersion = "2025.8"

// Options configure a simulator. Zero values give deterministic defaults.
type Options struct {
	CompanyID, PublicKey, PrivateKey, ClientID string
	Codebase                                   string // default "v2025_8/"
	Version                                    string // server API version, default DefaultVersion
	Companies                                  int    // seeded client companies (default 25), plus "Catchall"
	Seed                                       int64  // default 1
	Faults                                     Faults
	Now                                        func() time.Time // clock for record timestamps; default time.Now

	// FirstTicketID numbers the first ticket (default 250001); a restarted
	// demo starts after the tickets its data dir already knows.
	FirstTicketID int
}

// Faults are injected misbehaviours. Fractions are in [0,1].
type Faults struct {
	Error500     float64
	RateLimit    float64
	RetryAfter   time.Duration // whole seconds, min 1s
	Latency      time.Duration
	LostResponse float64 // committed writes whose answer never arrives
	// SlowCommit delays every write before it commits. The write commits
	// even when the client gave up meanwhile, as ConnectWise finishes a
	// create whose caller timed out.
	SlowCommit time.Duration
	// ZeroIDAnswer and TruncatedAnswer are committed writes answered 2xx
	// with a body that is no use: {"id":0}, or the record cut in half.
	ZeroIDAnswer    float64
	TruncatedAnswer float64
	// HangUp drops every connection without an answer, before doing
	// anything: a proxy in front of a ConnectWise that is down. (A host
	// that refuses connections is a closed listener: see Close.)
	HangUp      bool
	HTMLAnswer  bool // a login page instead of the API (wrong host)
	SSLRequired bool // the cloud host without the api- prefix
}

// Stats count what the simulator saw.
type Stats struct {
	Requests                   int64
	ByRoute                    map[string]int64
	Served500, Served429, Lost int64
	Broken                     int64 // writes answered with a broken 2xx body
	Dropped                    int64 // connections dropped by HangUp
	InsideRetryAfter           int64
}

// Credentials are what a client needs to reach this server.
type Credentials struct {
	Site, CompanyID, PublicKey, PrivateKey, ClientID, APIVersion string
}

// Server is the simulator; it implements http.Handler.
type Server struct {
	opts Options
	now  func() time.Time

	mu       sync.RWMutex // guards colls, records and security
	colls    map[string]*collection
	codebase string
	security map[string]*secEntry
	secOrder []string
	seedGen  *seeder

	faults atomic.Pointer[Faults]

	statsMu   sync.Mutex
	requests  atomic.Int64
	s500      atomic.Int64
	s429      atomic.Int64
	lost      atomic.Int64
	broken    atomic.Int64
	dropped   atomic.Int64
	inside    atomic.Int64
	byRoute   map[string]int64
	raStart   time.Time // open Retry-After window, if raEnd is in the future
	raEnd     time.Time
	reqSeq    atomic.Uint64
	authBasic string

	lnMu   sync.Mutex
	srv    *http.Server
	ln     net.Listener
	url    string
	closed bool
}

// New builds a seeded simulator.
func New(opts Options) *Server {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Codebase == "" {
		opts.Codebase = "v" + strings.ReplaceAll(DefaultVersion, ".", "_") + "/"
	}
	if !strings.HasSuffix(opts.Codebase, "/") {
		opts.Codebase += "/"
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Companies <= 0 {
		opts.Companies = 25
	}
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0xC0FFEE))
	if opts.CompanyID == "" {
		opts.CompanyID = "cwbridge"
	}
	if opts.PublicKey == "" {
		opts.PublicKey = randomKey(rng, 16)
	}
	if opts.PrivateKey == "" {
		opts.PrivateKey = randomKey(rng, 16)
	}
	if opts.ClientID == "" {
		opts.ClientID = randomGUID(rng)
	}
	s := &Server{opts: opts, now: opts.Now, codebase: opts.Codebase, byRoute: map[string]int64{}}
	if s.now == nil {
		s.now = time.Now
	}
	s.SetFaults(opts.Faults)
	s.initSecurity()
	s.seed()
	return s
}

func randomKey(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func randomGUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
		uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// Listen serves in the background on a loopback address.
func (s *Server) Listen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("cwsim: listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("cwsim: listen %q: only loopback addresses are allowed", addr)
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.srv != nil {
		return errors.New("cwsim: already listening")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cwsim: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return nil
}

// URL is "http://127.0.0.1:PORT" after Listen, "" before.
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.url
}

// Close stops the listener and drops open connections.
func (s *Server) Close() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.srv == nil || s.closed {
		return nil
	}
	s.closed = true
	return s.srv.Close()
}

// Credentials returns the values a client is configured with.
func (s *Server) Credentials() Credentials {
	return Credentials{Site: s.URL(), CompanyID: s.opts.CompanyID, PublicKey: s.opts.PublicKey,
		PrivateKey: s.opts.PrivateKey, ClientID: s.opts.ClientID, APIVersion: s.opts.Version}
}

// TOMLBlock is a ready [connectwise] section for cwbridge.toml.
func (s *Server) TOMLBlock() string {
	c := s.Credentials()
	var b strings.Builder
	b.WriteString("[connectwise]\n")
	kv := func(k, v string) { fmt.Fprintf(&b, "%-16s = %s\n", k, tomlQuote(v)) }
	kv("site", c.Site)
	kv("company_id", c.CompanyID)
	kv("public_key", c.PublicKey)
	kv("private_key", c.PrivateKey)
	kv("client_id", c.ClientID)
	kv("api_version", c.APIVersion)
	kv("fallback_company", "Catchall")
	return b.String()
}

func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// SetFaults replaces the fault settings; safe while serving.
func (s *Server) SetFaults(f Faults) {
	if f.RetryAfter < time.Second {
		f.RetryAfter = time.Second
	}
	f.RetryAfter = f.RetryAfter.Truncate(time.Second)
	s.faults.Store(&f)
}

// SetCodebase moves the API, as a cloud upgrade does: the old codebase
// path answers 404 from then on.
func (s *Server) SetCodebase(cb string) {
	if !strings.HasSuffix(cb, "/") {
		cb += "/"
	}
	s.mu.Lock()
	s.codebase = cb
	s.mu.Unlock()
}

func (s *Server) currentCodebase() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.codebase
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	m := make(map[string]int64, len(s.byRoute))
	for k, v := range s.byRoute {
		m[k] = v
	}
	s.statsMu.Unlock()
	return Stats{Requests: s.requests.Load(), ByRoute: m, Served500: s.s500.Load(),
		Served429: s.s429.Load(), Lost: s.lost.Load(), InsideRetryAfter: s.inside.Load(),
		Broken: s.broken.Load(), Dropped: s.dropped.Load()}
}

// ResetStats zeroes the counters (an open Retry-After window stays open).
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	s.byRoute = map[string]int64{}
	s.statsMu.Unlock()
	s.requests.Store(0)
	s.s500.Store(0)
	s.s429.Store(0)
	s.lost.Store(0)
	s.broken.Store(0)
	s.dropped.Store(0)
	s.inside.Store(0)
}

// Records returns deep copies of a collection's records in id order.
// Names: companies, sites, boards, statuses, types, subtypes, priorities,
// agreementTypes, agreements, additions, catalog, subcategories,
// productTypes, tickets, notes (and mySecurity).
func (s *Server) Records(collection string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.colls[collection]
	if c == nil {
		return nil
	}
	out := make([]map[string]any, len(c.recs))
	for i, r := range c.recs {
		out[i] = copyMap(r.data)
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
