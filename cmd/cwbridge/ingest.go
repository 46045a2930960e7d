package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/intake"
)

const (
	defaultIntakeURL = "http://127.0.0.1:8088"
	maxIngestBatch   = 10000
	ingestNetRetries = 4                // network errors / 5xx per request, with backoff
	ingestBusyWaits  = 30               // 503 answers per request before giving up
	maxRetryAfter    = 30 * time.Second // cap on a server's Retry-After
)

// ingestStdin is what "-" reads; a variable so tests can feed it.
var ingestStdin io.Reader = os.Stdin

// ingestSleep waits between retries; tests replace it to run instantly.
var ingestSleep = func(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exampleIncident is the example in ingest --help; the README shows the
// same line (a test keeps them equal and checks the intake accepts it).
const exampleIncident = `{"id": "evt-1001", "type": "malware", "company": "acme", "title": "Malware quarantined on LAPTOP-07", "severity": "high", "user": "alice", "device": "LAPTOP-07", "reasons": ["Trojan:Win32/Emotet quarantined"], "occurred_at": "2026-11-20T09:30:00Z"}`

func runIngest(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "ingest", "ingest [FILE|-] [--url URL] [--token TOKEN] [--batch N] [--config FILE]")
	urlFlag := fs.String("url", "", "intake URL (default: http://<[intake] listen> from the config, else "+defaultIntakeURL+")")
	// No default shown: the token must never be printed, --help included.
	tokFlag := fs.String("token", "", "intake bearer token (default: $"+config.EnvIntakeToken+", else [intake] token from the config)")
	batch := fs.Int("batch", 100, "incidents per request (1-"+strconv.Itoa(maxIngestBatch)+")")
	cfgPath := fs.String("config", config.DefaultPath, "config file to take [intake] listen and token from")
	flagsHelp := fs.Usage
	fs.Usage = func() {
		flagsHelp()
		fmt.Fprintf(e.stdout, "\nFILE has one incident per line (NDJSON), for example:\n\n%s\n\n"+
			"Required: id, type, company, title. The README lists every field and the intake's answers.\n", exampleIncident)
	}
	pos, code := parseInterspersed(e, fs, args)
	if code >= 0 {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "cwbridge ingest: "+format+"\n", a...)
		return exitConfig
	}
	if len(pos) > 1 {
		return fail("unexpected argument %q (one FILE, or - for stdin)", pos[1])
	}
	if *batch < 1 || *batch > maxIngestBatch {
		return fail("--batch must be between 1 and %d, not %d", maxIngestBatch, *batch)
	}
	token, rawURL, maxLine, err := intakeTarget(fs, *tokFlag, *urlFlag, *cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	endpoint, err := incidentsURL(rawURL)
	if err != nil {
		return fail("--url: %v", err)
	}
	in, name := ingestStdin, "stdin"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the message names the file already
			}
			return fail("cannot read %s: %v", pos[0], err)
		}
		defer f.Close()
		in, name = f, pos[0]
	}
	g := &ingester{ctx: ctx, e: e, url: endpoint, token: token, client: &http.Client{
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	err = g.run(bufio.NewReaderSize(in, 64<<10), name, *batch, maxLine)
	// Counts only when the intake answered for some incidents: a refused
	// token or an unreachable intake is an error, not "accepted 0".
	if err == nil || g.accepted+g.dups+g.rejected > 0 {
		fmt.Fprintf(e.stdout, "accepted %d, duplicates %d, rejected %d\n", g.accepted, g.dups, g.rejected)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge ingest: %v\n", err)
		return exitFail
	}
	if g.rejected > 0 {
		return exitFail
	}
	return exitOK
}

// intakeTarget resolves where a running intake is and its token: the
// flags, then $CWBRIDGE_INTAKE_TOKEN, then the config's [intake] section.
// maxLine is the intake's body limit.
func intakeTarget(fs *flag.FlagSet, token, rawURL, cfgPath string) (tok, u string, maxLine int, err error) {
	if token == "" {
		token = os.Getenv(config.EnvIntakeToken)
	}
	maxLine = int(config.DefaultMaxBodyBytes)
	if token == "" || rawURL == "" || flagSet(fs, "config") {
		cfg, err := loadConfig(cfgPath, flagSet(fs, "config"))
		if err != nil {
			return "", "", 0, err
		}
		if token == "" {
			token = cfg.Intake.Token.Reveal()
		}
		if rawURL == "" && cfg.Intake.Listen != "" {
			rawURL = "http://" + dialable(cfg.Intake.Listen)
		}
		maxLine = int(cfg.Intake.MaxBodyBytes)
	}
	if rawURL == "" {
		rawURL = defaultIntakeURL
	}
	if token == "" {
		return "", "", 0, fmt.Errorf("no intake token: pass --token, set %s, or set [intake] token in the config", config.EnvIntakeToken)
	}
	return token, rawURL, maxLine, nil
}

// parseInterspersed lets flags follow the FILE argument (the flag package
// stops at the first non-flag). Everything after "--" is positional.
func parseInterspersed(e *env, fs *flag.FlagSet, args []string) ([]string, int) {
	var pos []string
	for {
		if code := parseFlagsAndArgs(e, fs, args); code >= 0 {
			return nil, code
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), -1
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// dialable turns a listen address into one to connect to: an empty or
// unspecified host means this machine.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// incidentsURL accepts the intake's base URL (or the endpoint itself, or a
// bare host:port) and returns the POST /v1/incidents URL.
func incidentsURL(raw string) (string, error) { return intakeURL(raw, "/v1/incidents") }

// intakeURL accepts the intake's base URL (or one ending in endpoint, or a
// bare host:port) and returns endpoint's URL.
func intakeURL(raw, endpoint string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("not a URL: %q", raw)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want http(s)://host:port, not %q", raw)
	}
	if u.User != nil {
		return "", errors.New("no credentials in the URL; use --token")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	for _, known := range []string{"/v1/incidents", "/v1/billing/sync", "/v1/billing"} {
		u.Path = strings.TrimSuffix(u.Path, known)
	}
	u.Path += endpoint
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// ingester posts batches and keeps the tally.
type ingester struct {
	ctx                      context.Context
	e                        *env
	client                   *http.Client
	url, token               string
	accepted, dups, rejected int
}

// ingestLine is one NDJSON line waiting to be sent.
type ingestLine struct {
	no   int
	text []byte
}

// run reads all of in, validating each line and sending full batches. A
// non-nil error means it stopped early; the tally covers what was answered.
func (g *ingester) run(in *bufio.Reader, name string, batch, maxLine int) error {
	var pending []ingestLine
	for no := 1; ; no++ {
		line, tooLong, err := readLine(in, maxLine)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s at line %d: %v", name, no, err)
		}
		switch text := bytes.TrimSpace(line); {
		case tooLong:
			g.reject(no, fmt.Sprintf("longer than %d bytes, the intake's body limit", maxLine))
		case len(text) == 0: // blank lines are allowed and skipped
		default:
			// Check locally first so a bad line never costs (or spoils) a batch.
			if _, ierr := intake.Decode(intake.ContentTypeNDJSON, text); ierr != nil {
				g.reject(no, ierr.Detail())
				continue
			}
			pending = append(pending, ingestLine{no, text})
			if len(pending) == batch {
				if err := g.send(pending); err != nil {
					return err
				}
				pending = nil
			}
		}
	}
	if len(pending) > 0 {
		return g.send(pending)
	}
	return nil
}

func (g *ingester) reject(no int, msg string) {
	g.rejected++
	fmt.Fprintf(g.e.stderr, "line %d: %s\n", no, msg)
}

// readLine returns the next line without its newline. A line over max is
// drained and reported as tooLong instead of being held in memory.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // + "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(line) > 0 || tooLong):
			return line, tooLong, nil
		case err != nil:
			return nil, false, err
		}
		return line, tooLong, nil
	}
}

// intakeAnswer is the JSON of a 202 or an error.
type intakeAnswer struct {
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Error      string `json:"error"`
	Index      *int   `json:"index"`
}

// send posts one batch. A 400 naming an item drops that item and resends
// the rest; a 413 splits the batch. An error means stop: the token is
// refused, the intake is unreachable, or it answered something unusable.
func (g *ingester) send(items []ingestLine) error {
	for len(items) > 0 {
		status, ans, err := g.post(items)
		if err != nil {
			return fmt.Errorf("%v (lines %d-%d not sent)", err, items[0].no, items[len(items)-1].no)
		}
		switch {
		case status == http.StatusAccepted:
			g.accepted += ans.Accepted
			g.dups += ans.Duplicates
			return nil
		case status == http.StatusBadRequest && ans.Index != nil && *ans.Index >= 0 && *ans.Index < len(items):
			i := *ans.Index
			g.reject(items[i].no, ans.Error)
			items = append(items[:i:i], items[i+1:]...)
		case status == http.StatusBadRequest:
			for _, it := range items {
				g.reject(it.no, "refused with its batch: "+ans.Error)
			}
			return nil
		case status == http.StatusRequestEntityTooLarge && len(items) == 1:
			g.reject(items[0].no, "larger than the intake's body limit")
			return nil
		case status == http.StatusRequestEntityTooLarge:
			half := len(items) / 2
			if err := g.send(items[:half]); err != nil {
				return err
			}
			items = items[half:]
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("the intake refused the token (HTTP %d) (lines %d-%d not sent)", status, items[0].no, items[len(items)-1].no)
		default:
			return fmt.Errorf("the intake answered HTTP %d: %s (lines %d-%d not sent)", status, oneLine(ans.Error), items[0].no, items[len(items)-1].no)
		}
	}
	return nil
}

// post sends items as one NDJSON request, waiting out 503s (Retry-After,
// capped) and retrying network errors and other 5xx with backoff. It
// returns the first other answer.
func (g *ingester) post(items []ingestLine) (int, intakeAnswer, error) {
	var body bytes.Buffer
	for _, it := range items {
		body.Write(it.text)
		body.WriteByte('\n')
	}
	netFails, busy := 0, 0
	for {
		status, ans, retryIn, err := g.postOnce(body.Bytes())
		if cerr := g.ctx.Err(); cerr != nil {
			return 0, ans, fmt.Errorf("interrupted")
		}
		switch {
		case err == nil && status == http.StatusServiceUnavailable:
			if busy++; busy > ingestBusyWaits {
				return 0, ans, fmt.Errorf("the intake is still busy after %d retries: %s", ingestBusyWaits, oneLine(ans.Error))
			}
		case err != nil || status >= 500:
			if netFails++; netFails > ingestNetRetries {
				if err == nil {
					err = fmt.Errorf("HTTP %d: %s", status, oneLine(ans.Error))
				}
				return 0, ans, fmt.Errorf("giving up on %s after %d tries: %v", g.url, netFails, err)
			}
			retryIn = time.Duration(250<<netFails) * time.Millisecond // 0.5s, 1s, 2s, 4s
		default:
			return status, ans, nil
		}
		if err := ingestSleep(g.ctx, retryIn); err != nil {
			return 0, ans, fmt.Errorf("interrupted")
		}
	}
}

// postOnce is one request; retryIn is the server's Retry-After (capped).
func (g *ingester) postOnce(body []byte) (status int, ans intakeAnswer, retryIn time.Duration, err error) {
	req, err := http.NewRequestWithContext(g.ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return 0, ans, 0, err
	}
	req.Header.Set("Content-Type", intake.ContentTypeNDJSON)
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, ans, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &ans) != nil {
		if resp.StatusCode == http.StatusAccepted {
			// Counts unknown: treat as a failed try; resending is safe
			// because the intake is idempotent on id.
			return 0, ans, 0, errors.New("the intake's 202 answer is not JSON")
		}
		ans.Error = strings.TrimSpace(string(b[:min(len(b), 200)]))
	}
	retryIn = 2 * time.Second
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retryIn = min(max(time.Duration(s)*time.Second, time.Second), maxRetryAfter)
	}
	return resp.StatusCode, ans, retryIn, nil
}
