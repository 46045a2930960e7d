// Package cwclient is a ConnectWise Manage (PSA) REST client: codebase
// discovery, authentication, typed errors, retries that never duplicate a
// write, one shared rate ceiling and Retry-After window, and paging as
// iterators.
package cwclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultAPIVersion is the model version we pin in the Accept header.
const DefaultAPIVersion = "2025.8"

// DefaultMaxRetryAfter is the longest one Retry-After holds calls back
// unless Config.MaxRetryAfter says otherwise.
const DefaultMaxRetryAfter = 5 * time.Minute

// Config is what a client needs. PrivateKey is a secret: the client sends
// it only inside the Authorization header and never prints it.
type Config struct {
	Site       string // host or URL
	CompanyID  string
	PublicKey  string
	PrivateKey string
	ClientID   string
	APIVersion string // default DefaultAPIVersion

	// MaxRequestsPerMinute is one ceiling shared by every caller of this
	// client. 0 means no ceiling (tests); ConnectWise advises staying
	// well under 1,000.
	MaxRequestsPerMinute int
	// Timeout bounds each attempt (default 30s); callers' contexts still apply.
	Timeout time.Duration
	// MaxRetryAfter caps how long one 429's Retry-After holds every call
	// back (default DefaultMaxRetryAfter): a misconfigured proxy's "wait a
	// day" must not stop forwarding for a day. A capped wait is logged.
	MaxRetryAfter time.Duration
	Retry         RetryPolicy
	// HTTPClient is used as is when set (tests); its Timeout is ignored in
	// favour of per-attempt contexts.
	HTTPClient *http.Client
	Logger     *slog.Logger
	UserAgent  string
	// Gate, when set, is the rate ceiling and Retry-After window this
	// client shares with every other client built with it (one API member,
	// one process); MaxRequestsPerMinute is then the Gate's. nil: its own.
	Gate *Gate
}

// Gate is one rate ceiling and one Retry-After window for every client
// that shares it: ConnectWise throttles the API member, not a client
// object, so however many clients a process builds (a new one per
// credential change, a short-lived one to verify a draft) they hold back
// together.
type Gate struct {
	limiter *rate.Limiter
	// blockedUntil is the end of the last Retry-After window, as an
	// offset from epoch on the monotonic clock: a wall-clock deadline
	// would open the window early while NTP slews the clock (seen: 0.5 ms
	// per second, enough to send inside the window).
	// Every request waits it out, not only the one that got the 429.
	blockedUntil atomic.Int64
	epoch        time.Time
}

// left is how much of the Retry-After window is still to come.
func (g *Gate) left() time.Duration {
	return time.Duration(g.blockedUntil.Load()) - time.Since(g.epoch)
}

// NewGate makes a gate allowing maxRequestsPerMinute (0: no ceiling).
func NewGate(maxRequestsPerMinute int) *Gate {
	limit, burst := rate.Inf, 1
	if maxRequestsPerMinute > 0 {
		limit = rate.Limit(float64(maxRequestsPerMinute) / 60)
		burst = max(1, min(10, maxRequestsPerMinute/60))
	}
	return &Gate{limiter: rate.NewLimiter(limit, burst), epoch: time.Now()}
}

// String masks the private key so a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("cwclient.Config{Site:%q CompanyID:%q PublicKey:%q PrivateKey:%s ClientID:%q APIVersion:%q}",
		c.Site, c.CompanyID, c.PublicKey, mask(c.PrivateKey), c.ClientID, c.APIVersion)
}

// GoString keeps %#v from printing the private key.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog from printing the private key.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return `"********"`
}

// RetryPolicy governs retries of 5xx, network errors and 429s.
type RetryPolicy struct {
	MaxAttempts int           // total tries per request (default 5)
	BaseDelay   time.Duration // first backoff (default 250ms)
	MaxDelay    time.Duration // backoff cap (default 30s)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	return p
}

// backoff is exponential with full jitter: [0, min(cap, base·2^n)).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay << min(attempt, 30)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Client talks to one ConnectWise site as one API member. It is safe for
// concurrent use; all callers share its rate ceiling and 429 window.
type Client struct {
	cfg       Config
	site      Site
	auth      string // "Basic ..." (secret: never logged)
	accept    string
	userAgent string
	http      *http.Client
	retry     RetryPolicy
	gate      *Gate
	log       *slog.Logger

	mu       sync.Mutex
	base     string // "https://api-na.../v2025_8/apis/3.0/"
	codebase string
	cbGen    uint64 // bumps on each rediscovery, so concurrent 404s refresh once

	requests atomic.Int64
}

var apiVersionRE = regexp.MustCompile(`^[0-9]{4}\.[0-9]{1,2}$`)

// New validates the configuration; it does no I/O.
func New(cfg Config) (*Client, error) {
	site, err := ParseSite(cfg.Site)
	if err != nil {
		return nil, err
	}
	cfg.CompanyID = strings.TrimSpace(cfg.CompanyID)
	cfg.PublicKey = strings.TrimSpace(cfg.PublicKey)
	cfg.ClientID = strings.TrimSpace(cfg.ClientID)
	switch {
	case cfg.CompanyID == "":
		return nil, configErr("company ID is empty: it is the company you type on the ConnectWise login page")
	case strings.ContainsAny(cfg.CompanyID, "+:/ "):
		return nil, configErr("company ID must not contain '+', ':', '/' or spaces")
	case cfg.PublicKey == "":
		return nil, configErr("public key is empty: create API keys on the API member (System > Members > API Members)")
	case strings.ContainsAny(cfg.PublicKey, ": "):
		return nil, configErr("public key must not contain ':' or spaces")
	case cfg.PrivateKey == "":
		return nil, configErr("private key is empty: it is shown once when the API key is created")
	case cfg.ClientID == "":
		return nil, configErr("client ID is empty: ConnectWise issues one per integration (developer.connectwise.com)")
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if !apiVersionRE.MatchString(cfg.APIVersion) {
		return nil, configErr(fmt.Sprintf("api version %q must look like 2025.8", cfg.APIVersion))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: defaultTransport()}
	}
	// Redirects would re-send Authorization to wherever they point; the
	// API never redirects, a login page does. Stop and treat it as such.
	hc2 := *hc
	hc2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	gate := cfg.Gate
	if gate == nil {
		gate = NewGate(cfg.MaxRequestsPerMinute)
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "cwbridge"
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:       cfg,
		site:      site,
		auth:      "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.CompanyID+"+"+cfg.PublicKey+":"+cfg.PrivateKey)),
		accept:    "application/vnd.connectwise.com+json; version=" + cfg.APIVersion,
		userAgent: ua,
		http:      &hc2,
		retry:     cfg.Retry.withDefaults(),
		gate:      gate,
		log:       lg,
	}, nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.ResponseHeaderTimeout = 60 * time.Second
	return t
}

// Site returns the parsed site.
func (c *Client) Site() Site { return c.site }

// Requests counts HTTP requests sent to the API (for metrics and tests).
func (c *Client) Requests() int64 { return c.requests.Load() }

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// baseURL returns the API base, discovering the codebase on first use.
func (c *Client) baseURL(ctx context.Context) (string, uint64, error) {
	c.mu.Lock()
	base, gen := c.base, c.cbGen
	c.mu.Unlock()
	if base != "" {
		return base, gen, nil
	}
	return c.rediscover(ctx, gen)
}

// rediscover refreshes the codebase unless another caller already did
// since generation seen.
func (c *Client) rediscover(ctx context.Context, seen uint64) (string, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cbGen != seen && c.base != "" {
		return c.base, c.cbGen, nil
	}
	info, err := c.fetchCompanyInfo(ctx)
	if err != nil {
		return "", c.cbGen, err
	}
	host := c.site.apiHost(info.Codebase, info.SiteURL)
	c.codebase = info.Codebase
	c.base = c.site.Scheme + "://" + host + "/" + info.Codebase + "apis/3.0/"
	c.cbGen++
	return c.base, c.cbGen, nil
}

// Codebase returns the discovered codebase ("v2025_8/"), discovering it if needed.
func (c *Client) Codebase(ctx context.Context) (string, error) {
	if _, _, err := c.baseURL(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codebase, nil
}

// request describes one API call.
type request struct {
	method     string
	path       string // relative to apis/3.0/, no leading slash
	query      url.Values
	body       any // JSON-encoded when non-nil
	header     http.Header
	idempotent bool // safe to repeat when the outcome is unknown
}

// response is a successful answer. The caller must close body.
type response struct {
	status int
	header http.Header
	body   io.ReadCloser
}

// do sends r with retries and returns a 2xx answer or an *Error.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, &Error{Kind: KindConfig, Method: r.method, Path: r.path, Message: "cannot encode request", Err: err}
		}
	}
	refreshed := false
	var last *Error
	for attempt := 0; attempt < c.retry.MaxAttempts; attempt++ {
		if attempt > 0 {
			wait := c.retry.backoff(attempt - 1)
			if last.Kind == KindRateLimited {
				wait = 0 // the shared window below already covers it
			}
			if err := sleep(ctx, wait); err != nil {
				return nil, c.ctxErr(r, err, last)
			}
		}
		resp, e := c.attempt(ctx, r, payload)
		if e == nil {
			return resp, nil
		}
		if ctx.Err() != nil && e.Kind == KindNetwork {
			// The caller gave up; report what we were waiting out.
			return nil, c.ctxErr(r, ctx.Err(), last)
		}
		last = e
		switch e.Kind {
		case KindNotFound:
			// A cloud upgrade moves the codebase; the old path then 404s.
			if !refreshed {
				refreshed = true
				old := c.currentBase()
				if nb, _, err := c.rediscover(ctx, c.gen()); err == nil && nb != old {
					attempt--
					continue
				}
			}
			return nil, e
		case KindRateLimited:
			continue // ConnectWise refused before doing anything
		case KindServer:
			// A 5xx after a write may have come after the write was done;
			// only the caller can check (search before creating again).
			if !r.idempotent {
				return nil, e
			}
			continue
		case KindNetwork, KindOutcomeUnknown:
			if r.idempotent {
				continue
			}
			return nil, e
		default:
			return nil, e
		}
	}
	return nil, last
}

func (c *Client) currentBase() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base
}

func (c *Client) gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cbGen
}

// ctxErr reports a caller's deadline or cancel; with the error that was
// being retried, when there was one, so the user sees the real cause.
func (c *Client) ctxErr(r request, err error, last *Error) error {
	e := &Error{Kind: KindNetwork, Method: r.method, Path: r.path, Err: err}
	if last != nil {
		e.Kind, e.Status, e.Code, e.RetryAfter, e.RetryAfterAsked, e.Fields = last.Kind, last.Status, last.Code, last.RetryAfter, last.RetryAfterAsked, last.Fields
		e.Message = strings.TrimSpace(last.Message + " (gave up: " + err.Error() + ")")
	}
	return e
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitTurn honours the shared Retry-After window and the rate ceiling.
// The window is checked again after the limiter's wait: a 429 that arrived
// meanwhile holds back this request too.
func (c *Client) waitTurn(ctx context.Context) error {
	for {
		for {
			d := c.gate.left()
			if d <= 0 {
				break
			}
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
		if err := c.gate.limiter.Wait(ctx); err != nil {
			return err
		}
		if c.gate.left() <= 0 {
			return nil
		}
	}
}

// HeldUntil is the end of the current Retry-After window (zero time when
// none is open), so a replacement client can honour it too.
func (c *Client) HeldUntil() time.Time {
	if d := c.gate.left(); d > 0 {
		return time.Now().Add(d)
	}
	return time.Time{}
}

// HoldUntil makes every request wait until t: a Retry-After window that
// ConnectWise announced to an earlier client for the same API member.
func (c *Client) HoldUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		c.block(d)
	}
}

// block extends the shared Retry-After window to at least d from now.
func (c *Client) block(d time.Duration) {
	until := int64(time.Since(c.gate.epoch) + d)
	for {
		cur := c.gate.blockedUntil.Load()
		if cur >= until || c.gate.blockedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// attempt sends one HTTP request.
func (c *Client) attempt(ctx context.Context, r request, payload []byte) (*response, *Error) {
	e := &Error{Method: r.method, Path: r.path}
	base, _, err := c.baseURL(ctx)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		e.Kind, e.Err = KindNetwork, err
		return nil, e
	}
	if err := c.waitTurn(ctx); err != nil {
		e.Kind, e.Err = KindNetwork, err
		return nil, e
	}
	u := base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	actx, cancel := c.withTimeout(ctx)
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		cancel()
		e.Kind, e.Err = KindConfig, err
		return nil, e
	}
	h := req.Header
	h.Set("Authorization", c.auth)
	h.Set("clientId", c.cfg.ClientID)
	h.Set("Accept", c.accept)
	h.Set("User-Agent", c.userAgent)
	h.Set("Cache-Control", "no-cache")
	if payload != nil {
		h.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		h[k] = v
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		e.Err = stripURL(err)
		e.Kind = KindNetwork
		if wrote.Load() {
			// ConnectWise got the request: this is no outage but a lost
			// answer (do retries a read; a write's caller searches).
			e.Kind = KindOutcomeUnknown
			e.Message = "the request was sent but no answer came; it may or may not have been applied"
		}
		return nil, e
	}
	e.Status = resp.StatusCode
	if resp.StatusCode/100 == 2 {
		br := bufio.NewReader(resp.Body)
		if first, _ := firstNonSpace(br); first == '<' || looksHTML(resp.Header.Get("Content-Type"), nil) {
			resp.Body.Close()
			cancel()
			e.webPage()
			return nil, e
		}
		return &response{status: resp.StatusCode, header: resp.Header, body: cancelOnClose{readCloser{br, resp.Body}, cancel}}, nil
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		e.Kind = KindWrongHost
		e.Message = "the site redirected to " + resp.Header.Get("Location")
		e.Hint = "the API never redirects; check the site (cloud API hosts start with api-)"
		return nil, e
	}
	raw, rerr := readBody(resp)
	if rerr != nil && !r.idempotent && resp.StatusCode >= 500 {
		e.Kind, e.Err = KindOutcomeUnknown, rerr
		return nil, e
	}
	var eb errorBody
	_ = json.Unmarshal(raw, &eb)
	e.Kind = kindForStatus(resp.StatusCode, len(eb.Errors))
	e.parseErrorBody(resp.Header.Get("Content-Type"), raw)
	if e.Kind == KindRateLimited {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
		if e.RetryAfter > c.cfg.MaxRetryAfter {
			e.RetryAfterAsked, e.RetryAfter = e.RetryAfter, c.cfg.MaxRetryAfter
			c.log.Warn("connectwise asked to wait longer than the cap; waiting the cap",
				"retry_after", e.RetryAfterAsked, "cap", e.RetryAfter, "path", r.path)
		} else {
			c.log.Warn("connectwise rate limit", "retry_after", e.RetryAfter, "path", r.path)
		}
		c.block(e.RetryAfter)
	}
	if e.Hint == "" {
		e.Hint = hintFor(e)
	}
	return nil, e
}

// parseRetryAfter reads seconds or an HTTP date; absent or bad → 5s, a
// cautious default since the guide says the header is always sent.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(max(n, 1)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return time.Second
	}
	return 5 * time.Second
}

// stripURL removes the URL from *url.Error: it adds nothing but noise
// (conditions with customer names) to messages.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

const maxErrorBody = 64 << 10

func readBody(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
}

// firstNonSpace peeks at the first meaningful byte without consuming it.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for i := 1; i <= 512; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			return 0, err
		}
		switch c := b[i-1]; c {
		case ' ', '\t', '\r', '\n':
			continue
		default:
			return c, nil
		}
	}
	return 0, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// getJSON fetches one object into out.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	return c.call(ctx, request{method: http.MethodGet, path: path, query: q, idempotent: true}, out)
}

// call performs r and decodes a JSON answer into out (when non-nil).
func (c *Client) call(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.body)
		return nil
	}
	if err := decodeJSON(resp.body, out); err != nil {
		kind := KindBadResponse
		if !r.idempotent {
			// The write was answered 2xx, so it most likely landed: only a
			// search can tell, never a second write.
			kind = KindOutcomeUnknown
		}
		return &Error{Kind: kind, Method: r.method, Path: r.path, Status: resp.status, Message: "unreadable answer: " + err.Error(), Err: err}
	}
	return nil
}

// create POSTs body and decodes the new record. A 2xx that names no
// record (id ≤ 0, or a body that does not decode) is no success: the write
// may have landed, so it reports an outcome-unknown error and the caller
// searches before it creates again.
func create[T any](ctx context.Context, c *Client, path string, body any, id func(T) int) (T, error) {
	var out T
	if err := c.call(ctx, request{method: http.MethodPost, path: path, body: body}, &out); err != nil {
		return out, err
	}
	if id(out) <= 0 {
		return out, &Error{Kind: KindOutcomeUnknown, Method: http.MethodPost, Path: path, Status: http.StatusOK,
			Message: fmt.Sprintf("the answer names no new record (id %d); it may or may not have been created", id(out))}
	}
	return out, nil
}

// decodeJSON decodes exactly one JSON value and rejects trailing garbage.
func decodeJSON(rd io.Reader, out any) error {
	dec := json.NewDecoder(rd)
	if err := dec.Decode(out); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON answer")
	}
	return nil
}

func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty answer where JSON was expected")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated JSON answer")
	case errors.As(err, &se):
		return fmt.Errorf("answer is not valid JSON (at byte %d): %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Errorf("unexpected JSON: field %q is %s, want %s", te.Field, te.Value, te.Type)
	}
	return fmt.Errorf("cannot read answer: %w", err)
}
