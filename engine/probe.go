package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
)

// probeNow asks the probe to check at once (a pause began, the client
// changed). It never blocks.
func (e *Engine) probeNow() {
	select {
	case e.probeWake <- struct{}{}:
	default:
	}
}

// probeMax bounds the wait between two probes of an outage.
const probeMax = time.Minute

// probe checks ConnectWise once at start, so health says "ok" only after
// an answer, and then while forwarding is paused, so it resumes by itself
// once an admin fixes the API member, the outage ends or the throttle
// window closes.
func (e *Engine) probe(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.probeWake:
		}
		t.Reset(e.probeOnce(ctx, &fails))
	}
}

// probeOnce runs one check if one is due and returns when to look again.
func (e *Engine) probeOnce(ctx context.Context, fails *int) time.Duration {
	e.pauseMu.Lock()
	paused, kind, state := e.paused, e.pauseKind, e.cwState
	e.pauseMu.Unlock()
	c, err := e.cw()
	if err != nil || (!paused && state == StateOK) {
		*fails = 0
		return e.o.ProbeInterval
	}
	if d := time.Until(c.HeldUntil()); d > 0 {
		// Nothing may be sent before a Retry-After window ends (whoever
		// received it): a probe waiting in the gate would time out and
		// read as an outage.
		return d
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if kind == pauseAuth {
		err = probeAccess(pctx, c)
	} else {
		_, err = c.SystemInfo(pctx)
	}
	cancel()
	if ctx.Err() != nil {
		return e.o.ProbeInterval
	}
	if err == nil {
		*fails = 0
		if paused {
			e.resume(c)
		} else {
			e.noteCWResult(nil, "")
		}
		return e.o.ProbeInterval
	}
	e.noteCWResult(err, "")
	*fails++
	if k := cwclient.KindOf(err); kind == pauseAuth || !systemic(k) && !troubled(k) {
		return e.o.ProbeInterval
	}
	return min(e.o.ProbeInterval<<min(*fails-1, 8), max(probeMax, e.o.ProbeInterval))
}

// probeAccess checks what forwarding needs: the credentials, reading
// tickets, and the security-role levels for the writes (which a probe must
// not try), so a role that still refuses to add tickets keeps the pause
// instead of resuming into the same 403 every probe.
func probeAccess(ctx context.Context, c *cwclient.Client) error {
	if _, err := c.SystemInfo(ctx); err != nil {
		return err
	}
	// One record is enough: Collect would page through every ticket.
	for _, err := range c.Tickets(ctx, cwclient.Query{Fields: []string{"id"}, PageSize: 1}) {
		if err != nil {
			return err
		}
		break
	}
	roles, err := c.MySecurity(ctx)
	if err != nil {
		return nil // the role is unreadable: let forwarding try
	}
	for _, need := range []struct{ function, level string }{
		{"Service Tickets", "add"}, {"Service Tickets", "edit"}, {"Service Tickets", "inquire"}, {"Table Setup", "inquire"},
	} {
		for _, r := range roles {
			if !strings.EqualFold(r.ModuleFunctionName, need.function) {
				continue
			}
			lvl := map[string]string{"add": r.AddLevel, "edit": r.EditLevel, "inquire": r.InquireLevel}[need.level]
			if strings.EqualFold(lvl, cwclient.LevelNone) || lvl == "" {
				return &cwclient.Error{Kind: cwclient.KindForbidden, Path: "system/mySecurity",
					Message: fmt.Sprintf("the API member's security role has %s > %s %s level None", r.ModuleName, r.ModuleFunctionName, need.level)}
			}
		}
	}
	return nil
}
