package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
		cfg := cwclient.Config{
			Site: conn.Site, CompanyID: conn.CompanyID, PublicKey: conn.PublicKey,
			PrivateKey: conn.PrivateKey.Reveal(), ClientID: conn.ClientID, APIVersion: conn.APIVersion,
			MaxRequestsPerMinute: e.o.Config.Engine.MaxRequestsPerMinute,
			Logger:               e.log, UserAgent: "cwbridge",
			Retry: cwclient.RetryPolicy{MaxAttempts: 3},
		}
		if e.o.ClientConfig != nil {
			e.o.ClientConfig(&cfg)
		}
		if c, err = cwclient.New(cfg); err != nil {
			why = err.Error()
			c = nil
		}
	}
	e.clientMu.Lock()
	if c != nil && e.client != nil {
		// ConnectWise throttles the member, not our client object.
		c.HoldUntil(e.client.HeldUntil())
	}
	e.client, e.clientOK = c, why
	e.clientMu.Unlock()
	e.resolver.reset()
	e.pauseMu.Lock()
	if c == nil {
		e.cwState, e.paused, e.pauseReason = "unconfigured", true, why
	} else {
		e.cwState, e.paused, e.pauseReason = "ok", false, ""
	}
	e.pauseMu.Unlock()
	e.healthChanged()
	e.poke()
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

// noteCWResult records how the last ConnectWise call went, for health, and
// pauses forwarding on 401/403.
func (e *Engine) noteCWResult(err error, company string) {
	defer e.healthChanged()
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	if err == nil {
		if e.cwState != "ok" && !e.paused {
			e.cwState = "ok"
		}
		if company != "" {
			delete(e.companyErrs, company)
		}
		return
	}
	e.lastErr, e.lastErrAt = err.Error(), e.o.Now()
	switch cwclient.KindOf(err) {
	case cwclient.KindUnauthorized:
		e.cwState, e.paused, e.pauseReason = "unauthorized", true, "ConnectWise rejected the credentials: "+err.Error()
	case cwclient.KindForbidden:
		e.cwState, e.paused, e.pauseReason = "forbidden", true, "the API member's security role refused: "+err.Error()
	case cwclient.KindNetwork, cwclient.KindWrongHost:
		e.cwState = "unreachable"
	}
	if company != "" && !e.paused {
		e.companyErrs[company] = err.Error()
	}
}

func (e *Engine) isPaused() bool {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	return e.paused
}

// probe checks the credentials while paused, so forwarding resumes by
// itself once an admin fixes the API member.
func (e *Engine) probe(ctx context.Context) {
	t := time.NewTicker(e.o.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !e.isPaused() {
			continue
		}
		c, err := e.cw()
		if err != nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = probeAccess(pctx, c)
		cancel()
		if err == nil {
			e.pauseMu.Lock()
			e.paused, e.pauseReason, e.cwState = false, "", "ok"
			e.pauseMu.Unlock()
			e.log.Info("ConnectWise accepts the credentials again; forwarding resumes")
			e.healthChanged()
			e.poke()
		} else {
			e.noteCWResult(err, "")
		}
	}
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
