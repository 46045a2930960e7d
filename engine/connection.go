package engine

import (
	"errors"
	"fmt"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// Reconnect rebuilds the ConnectWise client from the stored connection
// (after the wizard saved new credentials) and lifts a pause.
func (e *Engine) Reconnect() {
	conn, err := e.store.Connection()
	var c *cwclient.Client
	why := ""
	switch {
	case errors.Is(err, storage.ErrNotFound):
		why = "no ConnectWise connection configured"
	case err != nil:
		why = "cannot read the ConnectWise connection: " + err.Error()
	default:
		if c, err = e.newClient(conn); err != nil {
			why = err.Error()
			c = nil
		}
	}
	e.clientMu.Lock()
	e.client, e.clientConn, e.clientOK = c, conn, why
	e.clientMu.Unlock()
	e.resolver.reset()
	e.links.reset() // another ConnectWise, or another member: other contacts
	e.pauseMu.Lock()
	if c == nil {
		e.cwState, e.paused, e.pauseKind, e.pauseReason = StateUnconfigured, true, pauseNone, why
	} else {
		// Not "ok" before ConnectWise has answered: the probe asks at once.
		e.cwState, e.paused, e.pauseKind, e.pauseReason = StateUnreachable, false, pauseNone, ""
		e.lastErr = "not reached yet"
	}
	e.serverErrs, e.results, e.resultsN = 0, [resultWindow]bool{}, 0
	e.pauseMu.Unlock()
	e.healthChanged()
	e.probeNow()
	e.poke()
}

// newClient builds a client for conn behind the engine's one gate: every
// client of this process shares one rate ceiling and one Retry-After
// window, however many there are.
func (e *Engine) newClient(conn storage.Connection) (*cwclient.Client, error) {
	cfg := cwclient.Config{
		Site: conn.Site, CompanyID: conn.CompanyID, PublicKey: conn.PublicKey,
		PrivateKey: conn.PrivateKey.Reveal(), ClientID: conn.ClientID, APIVersion: conn.APIVersion,
		MaxRetryAfter: e.o.Config.Engine.MaxRetryAfter.Duration,
		Logger:        e.log, UserAgent: "cwbridge",
		Retry: cwclient.RetryPolicy{MaxAttempts: 3},
		Gate:  e.gate,
	}
	if e.o.ClientConfig != nil {
		e.o.ClientConfig(&cfg)
	}
	return cwclient.New(cfg)
}

// ClientFor is the ConnectWise client for conn that screens use: the
// engine's own for the stored connection, else (the wizard checking
// credentials not saved yet) a short-lived one behind the same gate, so
// no session has a rate ceiling or Retry-After window of its own.
func (e *Engine) ClientFor(conn storage.Connection) (*cwclient.Client, error) {
	e.clientMu.RLock()
	c, cur := e.client, e.clientConn
	e.clientMu.RUnlock()
	if c != nil && cur.Equal(conn) {
		return c, nil
	}
	return e.newClient(conn)
}

func (e *Engine) cw() (*cwclient.Client, error) {
	e.clientMu.RLock()
	defer e.clientMu.RUnlock()
	if e.client == nil {
		return nil, errors.New(e.clientOK)
	}
	return e.client, nil
}

// Client returns the current ConnectWise client, nil when unconfigured.
func (e *Engine) Client() *cwclient.Client {
	c, _ := e.cw()
	return c
}

// ConnectWise states, as /healthz and the screens show them.
const (
	StateOK           = "ok"
	StateUnconfigured = "unconfigured"
	StateUnauthorized = "unauthorized" // 401: paused until the credentials work
	StateForbidden    = "forbidden"    // 403: paused until the role allows
	StateUnreachable  = "unreachable"  // no answer (or not reached yet): paused while it lasts
	StateDegraded     = "degraded"     // 5xx answers; paused after degradedAfter in a row
	StateThrottled    = "throttled"    // 429: paused until the Retry-After window ends
)

// pauseKind says why forwarding is paused, which sets how the probe
// retries: credentials are checked every ProbeInterval, outages with a
// backoff, a throttle when its window ends.
type pauseKind int

const (
	pauseNone pauseKind = iota
	pauseAuth
	pauseOutage
	pauseThrottle
)

// degradedAfter is how many troubled calls in a row pause forwarding: one
// can be a single bad request, several are ConnectWise in trouble.
const degradedAfter = 3

// resultWindow is how many recent calls the error rate is taken over.
const resultWindow = 50

// noteCWResult records how a ConnectWise call went, for health, and pauses
// forwarding on what no single item can fix: rejected credentials (401,
// 403), an unreachable host, a throttle (429), and 5xx answers in a row.
// While paused the probe checks, and forwarding resumes by itself.
func (e *Engine) noteCWResult(err error, company string) {
	defer e.healthChanged()
	kind := cwclient.KindOf(err)
	if err != nil && !systemic(kind) && !troubled(kind) {
		// A fault of this one request (a validation error, a lost answer):
		// the item handles it; ConnectWise as a whole is fine.
		e.pauseMu.Lock()
		e.lastErr, e.lastErrAt = err.Error(), e.o.Now()
		if company != "" && !e.paused {
			e.companyErrs[company] = err.Error()
		}
		e.pauseMu.Unlock()
		return
	}
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	e.results[e.resultsN%resultWindow] = err != nil
	e.resultsN++
	if err == nil {
		e.serverErrs = 0
		if !e.paused {
			e.cwState = StateOK
		}
		if company != "" {
			delete(e.companyErrs, company)
		}
		return
	}
	e.lastErr, e.lastErrAt = err.Error(), e.o.Now()
	switch kind {
	case cwclient.KindUnauthorized:
		e.pauseLocked(StateUnauthorized, pauseAuth, "ConnectWise rejected the credentials: "+err.Error())
	case cwclient.KindForbidden:
		e.pauseLocked(StateForbidden, pauseAuth, "the API member's security role refused: "+err.Error())
	case cwclient.KindNetwork, cwclient.KindWrongHost:
		e.pauseLocked(StateUnreachable, pauseOutage, "ConnectWise is unreachable: "+err.Error())
	case cwclient.KindRateLimited:
		e.pauseLocked(StateThrottled, pauseThrottle, "ConnectWise asked to slow down: "+err.Error())
	case cwclient.KindServer, cwclient.KindOutcomeUnknown:
		e.serverErrs++
		if e.cwState == StateOK {
			e.cwState = StateDegraded
		}
		if e.serverErrs >= degradedAfter {
			e.pauseLocked(StateDegraded, pauseOutage, fmt.Sprintf("%d calls in a row failed (server errors or no answer): %v", e.serverErrs, err))
		}
	}
}

// systemic kinds are faults of ConnectWise (or the way to it) as a whole.
func systemic(k cwclient.Kind) bool {
	switch k {
	case cwclient.KindUnauthorized, cwclient.KindForbidden, cwclient.KindNetwork, cwclient.KindWrongHost, cwclient.KindRateLimited:
		return true
	}
	return false
}

// troubled kinds say ConnectWise is struggling when they come in a row: a
// 5xx, an answer that never came.
func troubled(k cwclient.Kind) bool {
	return k == cwclient.KindServer || k == cwclient.KindOutcomeUnknown
}

// pauseLocked stops forwarding; caller holds pauseMu. A pause already on
// keeps its start but takes the newer state and reason.
func (e *Engine) pauseLocked(state string, kind pauseKind, reason string) {
	if !e.paused {
		// The probe looks within ProbeInterval; not at once, or a request
		// that fails alone would spin through pause and resume.
		e.log.Warn("forwarding paused", "state", state, "reason", reason)
	}
	e.cwState, e.paused, e.pauseKind, e.pauseReason = state, true, kind, reason
}

// resume lifts a pause after a successful probe through c. It lifts
// nothing when the client changed meanwhile (a Reconnect decides the state
// then), so a probe that began before a Reconnect found no connection
// cannot resume forwarding without a client.
func (e *Engine) resume(c *cwclient.Client) {
	e.clientMu.RLock()
	same := e.client == c
	e.clientMu.RUnlock()
	e.pauseMu.Lock()
	if !same || e.cwState == StateUnconfigured {
		e.pauseMu.Unlock()
		return
	}
	was := e.paused
	e.paused, e.pauseKind, e.pauseReason, e.cwState, e.serverErrs = false, pauseNone, "", StateOK, 0
	e.resumedCause, e.cause = e.cause, 0
	e.pauseMu.Unlock()
	if was {
		e.log.Info("ConnectWise answers again; forwarding resumes")
	}
	e.healthChanged()
	e.poke()
}

// errorRate is the share of failed calls among the recent ones; caller
// holds pauseMu.
func (e *Engine) errorRateLocked() float64 {
	n := min(e.resultsN, resultWindow)
	if n == 0 {
		return 0
	}
	bad := 0
	for _, b := range e.results[:n] {
		if b {
			bad++
		}
	}
	return float64(bad) / float64(n)
}

// pauseCause notes the item whose refusal (401, 403, a login page)
// paused forwarding; refusedAgain reports that it was, and the probe has
// resumed since, so the refusal is that item's own.
func (e *Engine) pauseCause(seq uint64) {
	e.pauseMu.Lock()
	e.cause = seq
	e.pauseMu.Unlock()
}

func (e *Engine) refusedAgain(seq uint64) bool {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	return seq != 0 && e.resumedCause == seq
}

func (e *Engine) isPaused() bool {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	return e.paused
}
