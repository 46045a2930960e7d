// Package intake is cwbridge's incident HTTP API: POST /v1/incidents takes
// incidents in and answers only once they are durably queued in the store;
// GET /v1/incidents/{id} reports their progress; POST /v1/usage records
// wanted usage; /healthz and /metrics serve operators. The contract is the
// "Intake HTTP" section of CONTRACT.md.
package intake

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/internal/connlimit"
	"github.com/cwbridge/cwbridge/storage"
)

// Defaults for Options.
const (
	DefaultMaxBodyBytes = config.DefaultMaxBodyBytes // 1 MiB
	DefaultMaxQueue     = 100000
)

// Options configure a Server. Store and Token are required.
type Options struct {
	Store        *storage.Store
	Token        storage.Secret // the bearer token callers must send
	MaxBodyBytes int64          // default 1 MiB
	// MaxQueue: POST /v1/incidents answers 503 with Retry-After while
	// Store.QueueLen() is at least this. Default 100000.
	MaxQueue int
	// KnownAlertType says whether an incident's type may be taken in. nil:
	// the built-in types and any type with a stored route.
	KnownAlertType func(string) bool
	// Billing serves /v1/billing and /v1/billing/sync (nil: they answer
	// 503).
	Billing Billing
	// Health reports the ConnectWise side for /healthz. nil: "unknown".
	Health func() Health
	// Registry receives the intake's metrics and is what /metrics serves.
	// nil: a private registry (with Go and process collectors).
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Now      func() time.Time
	// TLS, when set, makes Serve speak HTTPS ([intake] cert_file, key_file).
	TLS *tls.Config
}

// Health is the state /healthz reports besides the queue.
type Health struct {
	ConnectWise    string    // ok | unconfigured | unauthorized | forbidden | unreachable | degraded | throttled
	Failed         int       // outbox items given up on
	ErrorRate      float64   // share of recent ConnectWise calls that failed
	ThrottledUntil time.Time // set while throttled
}

// Server is the intake. Create it with New; serve it with Serve or mount
// Handler.
type Server struct {
	o        Options
	tokenSum [sha256.Size]byte
	log      *slog.Logger
	m        *metrics
	metricsH http.Handler
	h        http.Handler
}

// New checks the options and registers the metrics.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("intake: Options.Store is required")
	}
	if o.Token.IsZero() {
		return nil, errors.New("intake: a token is required (" + config.EnvIntakeToken + " or [intake] token)")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = DefaultMaxQueue
	}
	if o.KnownAlertType == nil {
		o.KnownAlertType = storeKnownType(o.Store)
	}
	if o.Health == nil {
		o.Health = func() Health { return Health{ConnectWise: "unknown"} }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{o: o, tokenSum: sha256.Sum256([]byte(o.Token.Reveal())), log: o.Logger}
	m, err := newMetrics(o.Registry, o.Store)
	if err != nil {
		return nil, fmt.Errorf("intake: register metrics: %w", err)
	}
	s.m = m
	s.metricsH = promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})
	s.h = http.HandlerFunc(s.serveHTTP)
	return s, nil
}

// storeKnownType accepts the built-in types and any type with a stored route.
func storeKnownType(st *storage.Store) func(string) bool {
	return func(t string) bool {
		if config.IsBuiltinAlertType(t) {
			return true
		}
		_, err := st.Route(t)
		return err == nil
	}
}

// Handler serves the whole intake API.
func (s *Server) Handler() http.Handler { return s.h }

// Timeouts of the http.Server Serve runs. Writes get longer than reads: an
// accept waits for a group commit's fsync.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 5 * time.Second
	// Connection caps (internal/connlimit): past them the oldest connection
	// not inside a request (silent, or idle between requests) is closed to
	// make room, so idle connections cannot keep callers out.
	MaxConns      = 1024
	MaxConnsPerIP = 512
)

// Serve serves the intake on ln until ctx ends, then shuts down gracefully:
// requests in flight (an accept waiting for its fsync) get up to 5s to
// finish. It returns nil after a shutdown ctx asked for.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := connlimit.Wrap(ln, connlimit.Limits{Total: MaxConns, PerIP: MaxConnsPerIP})
	ln = lim
	if s.o.TLS != nil {
		ln = tls.NewListener(lim, s.o.TLS)
	}
	hs := &http.Server{
		// A connection inside a request is not evicted; between requests
		// (and before its first byte) it may be.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lim.Settle(r.RemoteAddr)
			defer lim.Unsettle(r.RemoteAddr)
			s.h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("intake: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		_ = hs.Close()
		err = fmt.Errorf("intake: shutdown: %w", err)
	}
	<-errc // http.ErrServerClosed
	return err
}

// Route names, also the "route" label of the metrics.
const (
	routeIncidents = "/v1/incidents"
	routeIncident  = "/v1/incidents/{id}"
	routeUsage     = "/v1/usage"
	routeBilling   = "/v1/billing"
	routeBillSync  = "/v1/billing/sync"
	routeHealthz   = "/healthz"
	routeMetrics   = "/metrics"
	routeOther     = "other"
)

func routeOf(path string) string {
	switch {
	case path == routeIncidents:
		return routeIncidents
	case strings.HasPrefix(path, routeIncidents+"/"):
		return routeIncident
	case path == routeUsage, path == routeHealthz, path == routeMetrics, path == routeBilling, path == routeBillSync:
		return path
	}
	return routeOther
}

// serveHTTP routes by hand rather than with http.ServeMux so that every
// answer, 404/405 and path-cleaning included, is JSON.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route := routeOf(r.URL.Path)
	rw := &statusWriter{ResponseWriter: w}
	defer func() { s.m.observe(route, rw.code(), time.Since(start)) }()
	h := rw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")

	if route != routeHealthz && !s.authorized(rw, r) {
		return
	}
	switch route {
	case routeIncidents:
		if allow(rw, r, http.MethodPost) {
			s.postIncidents(rw, r)
		}
	case routeIncident:
		if allow(rw, r, http.MethodGet) {
			s.getIncident(rw, r, strings.TrimPrefix(r.URL.Path, routeIncidents+"/"))
		}
	case routeUsage:
		if allow(rw, r, http.MethodPost) {
			s.postUsage(rw, r)
		}
	case routeBilling:
		if allow(rw, r, http.MethodGet) {
			s.billing(rw, r, false)
		}
	case routeBillSync:
		if allow(rw, r, http.MethodPost) {
			s.billing(rw, r, true)
		}
	case routeHealthz:
		if allow(rw, r, http.MethodGet) {
			s.healthz(rw)
		}
	case routeMetrics:
		if allow(rw, r, http.MethodGet) {
			s.metricsH.ServeHTTP(rw, r)
		}
	default:
		writeError(rw, http.StatusNotFound, "no such endpoint: "+quoteShort(r.URL.Path))
	}
}

// authorized checks the bearer token. Comparing SHA-256 digests in constant
// time keeps both the value and its length from leaking through timing.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	msg := ""
	switch {
	case auth == "":
		msg = "missing bearer token (Authorization: Bearer <token>)"
	case !strings.EqualFold(scheme, "Bearer"):
		msg = "Authorization must use the Bearer scheme"
	default:
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1 {
			return true
		}
		msg = "invalid bearer token"
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="cwbridge intake"`)
	writeError(w, http.StatusUnauthorized, msg)
	return false
}

// allow answers 405 with Allow unless r uses method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+method)
	return false
}
