package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// target is where an incident's ticket goes.
type target struct {
	company string // CW company identifier
	route   resolvedRoute
	// The route's link switches (links.go).
	linkContact, linkConfiguration bool
}

// processIncident applies one incident to its key: open a ticket, fold a
// repeat, or close on resolve.
func (e *Engine) processIncident(ctx context.Context, it storage.OutboxItem, a *ack) error {
	again := it.Attempts > 0
	inc, err := e.store.Incident(it.Ref)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // nothing to do for an incident that is gone
	}
	if err != nil {
		return permanent(err)
	}
	switch inc.State {
	case storage.StateTicketed, storage.StateNoted, storage.StateClosed, storage.StateDropped:
		return nil // already done: a redelivery after a crash
	}
	key := storage.KeyOf(inc)
	tgt, drop, err := e.target(ctx, inc)
	if err != nil {
		return err
	}
	if drop != "" {
		return e.drop(a, inc, key, drop)
	}
	if inc.Status == "resolved" {
		return e.resolve(ctx, a, inc, key, tgt, again)
	}
	k, err := e.store.IncidentKey(key)
	exists := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return permanent(err)
	}
	switch {
	case exists && k.State == storage.KeyOpen:
		return e.fold(a, inc, k)
	case exists && k.State == storage.KeyPendingCreate:
		return e.create(ctx, a, inc, k, tgt)
	case exists && k.State == storage.KeyClosed && e.o.Config.Engine.Reopen == config.ReopenReopen && k.TicketID != 0:
		return e.reopen(ctx, a, inc, k, tgt, again)
	}
	gen := 1
	if exists {
		gen = k.Generation + 1
	}
	nk := storage.IncidentKey{
		Key: key, Workspace: inc.Company, CWCompany: tgt.company, AlertType: inc.Type,
		Generation: gen, ExternalXRef: ExternalXRef(key, gen),
	}
	return e.create(ctx, a, inc, nk, tgt)
}

// ack is the outbox item a handler works on. The commit that records the
// work removes the item too (one commit, one fsync per item), and marks the
// ack done so settle does not take the writer lock again to ack an item
// that is gone. A nil ack acks nothing (a flush run for a resolve).
type ack struct {
	seq  uint64
	done bool // set once a commit acked it: read only after that commit returned nil
}

// in acks the item inside t.
func (a *ack) in(t *storage.Tx) error {
	if a == nil {
		return nil
	}
	if err := t.Ack(a.seq); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	a.done = true
	return nil
}

// target resolves the company and the route; drop is a reason to drop.
func (e *Engine) target(ctx context.Context, inc storage.Incident) (target, string, error) {
	var t target
	ws, err := e.store.Workspace(inc.Company)
	switch {
	case err == nil:
		t.company = ws.CWCompany
	case errors.Is(err, storage.ErrNotFound):
		conn, _ := e.store.Connection()
		if conn.FallbackCompany == "" {
			return t, fmt.Sprintf("no workspace %q and no fallback_company configured", inc.Company), nil
		}
		t.company = conn.FallbackCompany
	default:
		return t, "", permanent(err)
	}
	r, err := e.store.Route(inc.Type)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return t, fmt.Sprintf("no route for alert type %q", inc.Type), nil
	case err != nil:
		return t, "", permanent(err)
	case !r.Enabled:
		return t, fmt.Sprintf("the route for alert type %q is disabled", inc.Type), nil
	}
	if e.isPaused() {
		return t, "", errPaused
	}
	t.linkContact, t.linkConfiguration = r.LinksContact(), r.LinksConfiguration()
	t.route, err = e.resolver.resolve(ctx, r)
	return t, "", err
}

// drop records a visible, reasoned drop: never a silent loss.
func (e *Engine) drop(a *ack, inc storage.Incident, key, reason string) error {
	e.m.dropped.Inc()
	return e.store.Update(func(t *storage.Tx) error {
		if err := t.SetIncidentState(inc.ID, storage.StateDropped, 0, reason); err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		_, err := t.AppendFeed(storage.FeedEvent{Kind: storage.FeedDropped, Company: inc.Company, Severity: inc.Severity,
			IncidentID: inc.ID, Key: key, Message: reason})
		return err
	})
}

// create opens the key's ticket exactly once. The pending marker is on disk
// before the call; if an earlier attempt's outcome is unknown, ConnectWise
// is searched by externalXRef before anything is created, and after a
// create that got no usable answer it is only searched, not created again,
// for the create search window: ConnectWise may commit it minutes late.
func (e *Engine) create(ctx context.Context, a *ack, inc storage.Incident, k storage.IncidentKey, tgt target) error {
	c, err := e.cw()
	if err != nil {
		return errPaused
	}
	if k.State == storage.KeyPendingCreate {
		found, err := c.TicketsByXRef(ctx, k.ExternalXRef)
		e.noteCWResult(err, inc.Company)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			how := "found after an interrupted create"
			if !k.UnknownSince.IsZero() {
				how = "committed late by ConnectWise, adopted"
			}
			return e.created(a, inc, k, found[0].ID, how, nil)
		}
		if wait := e.lateCommitWait(k); wait != nil {
			return wait
		}
		if !k.UnknownSince.IsZero() {
			e.log.Warn("a create that got no answer never appeared; creating again",
				"key", k.Key, "xref", k.ExternalXRef, "unknown_since", k.UnknownSince)
		}
	}
	k.LastIncident, k.LastUser, k.LastDevice = inc.ID, inc.User, inc.Device
	k.Occurrences = 1
	if err := e.store.BeginTicketCreate(k); err != nil {
		return permanent(err)
	}
	r := tgt.route
	t := cwclient.Ticket{
		Summary:            Summary(inc.Severity, inc.Title, tgt.company),
		Company:            &cwclient.Ref{Identifier: tgt.company},
		Board:              &cwclient.Ref{ID: r.board},
		Status:             idRef(r.status),
		Priority:           idRef(r.priority),
		Type:               idRef(r.typ),
		SubType:            idRef(r.subtype),
		Severity:           ticketSeverity(inc.Severity),
		ExternalXRef:       k.ExternalXRef,
		InitialDescription: Description(inc, tgt.company),
	}
	plan := e.links.plan(inc, tgt)
	withLinks(&t, plan)
	tk, err := c.CreateTicket(ctx, t)
	e.noteCWResult(err, inc.Company)
	if err != nil && t.Contact != nil && cwclient.KindOf(err) == cwclient.KindValidation {
		// A refused create made no ticket: the cached contact must not
		// cost the incident its ticket, so create it without.
		plan.contactRefused(err)
		t.Contact = nil
		tk, err = c.CreateTicket(ctx, t)
		e.noteCWResult(err, inc.Company)
	}
	if err != nil {
		if outcomeUnknown(err) {
			// Remembered on disk, so a restart keeps searching too.
			if uerr := e.store.UpdateIncidentKey(k.Key, func(cur *storage.IncidentKey, _ bool) error {
				cur.UnknownSince = e.o.Now()
				return nil
			}); uerr != nil {
				return permanent(uerr)
			}
			return err
		}
		if e.resolver.stale(err) {
			e.resolver.reset() // ids changed in ConnectWise: look them up again next attempt
		}
		if cwclient.KindOf(err) == cwclient.KindValidation && !e.resolver.stale(err) {
			return permanent(err)
		}
		return err
	}
	return e.created(a, inc, k, tk.ID, "", plan)
}

// lateCommitWait is the error that makes a pending key's item wait and
// search again, while its create (which got no usable answer) may still
// be committed; nil when there is nothing to wait for.
func (e *Engine) lateCommitWait(k storage.IncidentKey) error {
	if k.UnknownSince.IsZero() {
		return nil
	}
	left := k.UnknownSince.Add(e.o.Config.Engine.CreateSearchWindow.Duration).Sub(e.o.Now())
	if left <= 0 {
		return nil
	}
	return fmt.Errorf("%w: no ticket with externalXRef %s yet; searching again, %s before it may be created again",
		errLateCommit, k.ExternalXRef, left.Round(time.Second))
}

// errLateCommit: a create got no usable answer and its ticket has not
// shown up yet; the item waits and searches again.
var errLateCommit = errors.New("waiting for a create ConnectWise may still commit")

// outcomeUnknown: the call may have been carried out though no usable
// answer came (a timeout after sending, a lost or broken answer).
//
// A 502 or 504 is one: a gateway gave up waiting on ConnectWise, which may
// still commit. Other 5xx answers come from ConnectWise itself, done.
func outcomeUnknown(err error) bool {
	var ce *cwclient.Error
	if errors.As(err, &ce) && ce.Kind == cwclient.KindServer && (ce.Status == http.StatusBadGateway || ce.Status == http.StatusGatewayTimeout) {
		return true
	}
	return cwclient.KindOf(err) == cwclient.KindOutcomeUnknown || errors.Is(err, context.DeadlineExceeded)
}

func idRef(id int) *cwclient.Ref {
	if id == 0 {
		return nil
	}
	return &cwclient.Ref{ID: id}
}

// created records the ticket and tells the feed; plan (nil: none) adds the
// link outcomes known so far and the link item that finishes them.
func (e *Engine) created(a *ack, inc storage.Incident, k storage.IncidentKey, ticketID int, how string, plan *linkPlan) error {
	e.m.created.Inc()
	msg := Summary(inc.Severity, inc.Title, "")
	if how != "" {
		msg += " (" + how + ")"
	}
	return e.store.Update(func(t *storage.Tx) error {
		if err := t.TicketCreated(k.Key, ticketID); err != nil {
			return err
		}
		if err := plan.record(t, k.Key); err != nil {
			return err
		}
		if err := t.SetIncidentState(inc.ID, storage.StateTicketed, ticketID, ""); err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		_, err := t.AppendFeed(storage.FeedEvent{Kind: storage.FeedCreated, Company: inc.Company, Severity: inc.Severity,
			IncidentID: inc.ID, Key: k.Key, TicketID: ticketID, Message: msg})
		return err
	})
}

// fold adds a repeat to the open ticket. The first repeat after a quiet
// window is noted at once (a flush item due now); later ones are gathered
// and posted together when the window ends, so a storm costs at most two
// calls per window. Either way the note is owed by a durable flush item
// written with the repeat, so a failed or interrupted post is retried
// rather than lost.
func (e *Engine) fold(a *ack, inc storage.Incident, k storage.IncidentKey) error {
	now := e.o.Now()
	return e.store.Update(func(t *storage.Tx) error {
		cur, err := t.IncidentKey(k.Key)
		if err != nil {
			return err
		}
		quiet := cur.Unnoted == 0 && now.Sub(cur.LastNoteAt) >= e.o.FoldWindow
		cur.Occurrences++
		cur.Unnoted++
		if cur.FoldFirst.IsZero() {
			cur.FoldFirst = inc.OccurredAt
			if cur.FoldFirst.IsZero() {
				cur.FoldFirst = now
			}
		}
		cur.FoldLast = inc.OccurredAt
		if cur.FoldLast.IsZero() {
			cur.FoldLast = now
		}
		cur.FoldUsers = addUser(cur.FoldUsers, inc.User)
		cur.LastIncident, cur.LastUser, cur.LastDevice = inc.ID, inc.User, inc.Device
		if quiet || !cur.FlushScheduled {
			due := cur.LastNoteAt.Add(e.o.FoldWindow)
			if quiet {
				due = now
			}
			cur.FlushScheduled = true
			if _, err := t.EnqueueAt(storage.OutboxFlush, k.Key, due); err != nil {
				return err
			}
		}
		if err := t.PutIncidentKey(cur); err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		// The repeat is attached to the open ticket; its note is owed by
		// the durable flush item above.
		return t.SetIncidentState(inc.ID, storage.StateNoted, cur.TicketID, "")
	})
}

// flushKey posts the folded repeats of a key as one note.
// again means an earlier attempt may have posted the note already; a is
// the flush item to ack with the result (nil when called for a resolve).
func (e *Engine) flushKey(ctx context.Context, key string, again bool, a *ack) error {
	k, err := e.store.IncidentKey(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return permanent(err)
	}
	if k.Unnoted == 0 || k.State != storage.KeyOpen {
		return e.store.Update(func(t *storage.Tx) error {
			if err := t.UpdateIncidentKey(key, func(cur *storage.IncidentKey, _ bool) error {
				cur.FlushScheduled = false
				return nil
			}); err != nil {
				return err
			}
			return a.in(t)
		})
	}
	c, err := e.cw()
	if err != nil {
		return errPaused
	}
	text := foldNote(k.Unnoted, k.FoldFirst, k.FoldLast, k.FoldUsers, k.Occurrences)
	err = e.addNoteOnce(ctx, c, k.TicketID, cwclient.Note{Text: text, DetailDescriptionFlag: true}, again, k.Workspace)
	if err != nil {
		return err
	}
	e.m.notes.Inc()
	n := k.Unnoted
	return e.store.Update(func(t *storage.Tx) error {
		cur, err := t.IncidentKey(key)
		if err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		// Repeats that arrived during the call stay for the next note.
		cur.Unnoted -= n
		cur.LastNoteAt = e.o.Now()
		cur.FlushScheduled = false
		if cur.Unnoted <= 0 {
			cur.Unnoted, cur.FoldFirst, cur.FoldLast, cur.FoldUsers = 0, timeZero, timeZero, nil
		} else {
			cur.FlushScheduled = true
			if _, err := t.EnqueueAt(storage.OutboxFlush, key, cur.LastNoteAt.Add(e.o.FoldWindow)); err != nil {
				return err
			}
		}
		if err := t.PutIncidentKey(cur); err != nil {
			return err
		}
		ev := storage.FeedEvent{Kind: storage.FeedNoted, Company: k.Workspace, Key: key,
			IncidentID: k.LastIncident, TicketID: k.TicketID, Message: text}
		if last, err := t.Incident(k.LastIncident); err == nil {
			ev.Severity = last.Severity // so severity filters in the feed see notes too
		}
		_, err = t.AppendFeed(ev)
		return err
	})
}

// resolve posts a resolution note and sets the route's closed status. Each
// step is recorded, so a retry does not post the note twice.
func (e *Engine) resolve(ctx context.Context, a *ack, inc storage.Incident, key string, tgt target, again bool) error {
	k, err := e.store.IncidentKey(key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && k.State == storage.KeyClosed) {
		return e.drop(a, inc, key, "resolved, but no ticket is open for this key")
	}
	if err != nil {
		return permanent(err)
	}
	if k.State == storage.KeyPendingCreate {
		// The create's outcome is unknown: settle it before closing.
		c, err := e.cw()
		if err != nil {
			return errPaused
		}
		found, err := c.TicketsByXRef(ctx, k.ExternalXRef)
		e.noteCWResult(err, inc.Company)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			if wait := e.lateCommitWait(k); wait != nil {
				return wait // the create may still land: its ticket must be closed then
			}
			return e.drop(a, inc, key, "resolved before its ticket could be created")
		}
		if err := e.store.TicketCreated(key, found[0].ID); err != nil {
			return permanent(err)
		}
		k.State, k.TicketID = storage.KeyOpen, found[0].ID
	}
	if k.Unnoted > 0 {
		if err := e.flushKey(ctx, key, again, nil); err != nil {
			return err
		}
	}
	c, err := e.cw()
	if err != nil {
		return errPaused
	}
	if !k.ResolveNoted {
		text := "Resolved by the security platform: " + oneLine(inc.Title)
		if inc.Description != "" {
			text += "\n\n" + inc.Description
		}
		// The incident id keeps this note distinct from an earlier
		// resolution of a reopened ticket (see addNoteOnce).
		text += "\n\nIncident: " + inc.ID
		if err := e.addNoteOnce(ctx, c, k.TicketID, cwclient.Note{Text: text, ResolutionFlag: true}, again, inc.Company); err != nil {
			return err
		}
		if err := e.store.UpdateIncidentKey(key, func(cur *storage.IncidentKey, _ bool) error {
			cur.ResolveNoted = true
			return nil
		}); err != nil {
			return permanent(err)
		}
	}
	closed := tgt.route.closed
	if closed == 0 {
		return permanent(fmt.Errorf("board %d has no closed status; set closed_status on the %q route", tgt.route.board, inc.Type))
	}
	_, err = c.PatchTicket(ctx, k.TicketID, cwclient.Replace("status", cwclient.Ref{ID: closed}))
	e.noteCWResult(err, inc.Company)
	if err != nil {
		if e.resolver.stale(err) {
			e.resolver.reset()
		}
		return err
	}
	e.m.closed.Inc()
	return e.store.Update(func(t *storage.Tx) error {
		cur, err := t.IncidentKey(key)
		if err != nil {
			return err
		}
		cur.State, cur.ClosedAt, cur.ResolveNoted = storage.KeyClosed, e.o.Now(), false
		if err := t.PutIncidentKey(cur); err != nil {
			return err
		}
		if err := t.SetIncidentState(inc.ID, storage.StateClosed, cur.TicketID, ""); err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		_, err = t.AppendFeed(storage.FeedEvent{Kind: storage.FeedClosed, Company: inc.Company, Severity: inc.Severity,
			IncidentID: inc.ID, Key: key, TicketID: cur.TicketID, Message: "resolved: " + oneLine(inc.Title)})
		return err
	})
}

// reopen puts a closed ticket back to the route's status (engine.reopen =
// "reopen") and notes why.
func (e *Engine) reopen(ctx context.Context, a *ack, inc storage.Incident, k storage.IncidentKey, tgt target, again bool) error {
	c, err := e.cw()
	if err != nil {
		return errPaused
	}
	status := tgt.route.status
	if status == 0 {
		status = tgt.route.defaultStatus
	}
	if status != 0 {
		_, err = c.PatchTicket(ctx, k.TicketID, cwclient.Replace("status", cwclient.Ref{ID: status}))
		e.noteCWResult(err, inc.Company)
		if err != nil {
			return err
		}
	}
	text := "Reopened: the incident fired again.\n\n" + Description(inc, tgt.company)
	if err := e.addNoteOnce(ctx, c, k.TicketID, cwclient.Note{Text: text, DetailDescriptionFlag: true}, again, inc.Company); err != nil {
		return err
	}
	e.m.reopened.Inc()
	return e.store.Update(func(t *storage.Tx) error {
		cur, err := t.IncidentKey(k.Key)
		if err != nil {
			return err
		}
		cur.State, cur.ClosedAt, cur.Occurrences, cur.LastNoteAt = storage.KeyOpen, timeZero, cur.Occurrences+1, e.o.Now()
		cur.LastIncident, cur.LastUser, cur.LastDevice = inc.ID, inc.User, inc.Device
		if err := t.PutIncidentKey(cur); err != nil {
			return err
		}
		if err := t.SetIncidentState(inc.ID, storage.StateTicketed, cur.TicketID, ""); err != nil {
			return err
		}
		if err := a.in(t); err != nil {
			return err
		}
		_, err = t.AppendFeed(storage.FeedEvent{Kind: storage.FeedReopened, Company: inc.Company, Severity: inc.Severity,
			IncidentID: inc.ID, Key: k.Key, TicketID: cur.TicketID, Message: Summary(inc.Severity, inc.Title, "")})
		return err
	})
}

// addNoteOnce posts a note; when an earlier attempt may have posted it
// (its answer was lost, or the process died mid-call), the ticket's notes
// are checked first so the ticket does not get it twice. A durable marker
// written before the first try covers the crash that leaves no retry
// record; note texts are unique per purpose, so the text identifies it.
// After a post that got no usable answer, the note is only searched for,
// not posted again, for the create search window (a late commit).
func (e *Engine) addNoteOnce(ctx context.Context, c *cwclient.Client, ticketID int, n cwclient.Note, again bool, company string) error {
	sum := sha256.Sum256([]byte(strings.TrimSpace(n.Text)))
	id := fmt.Sprintf("%d:%x", ticketID, sum[:12])
	first, err := e.store.MarkNoteProcessed("posting:" + id)
	if err != nil {
		return err
	}
	if !first {
		again = true
	}
	if again {
		notes, err := c.TicketNotes(ctx, ticketID, cwclient.Query{})
		e.noteCWResult(err, company)
		if err != nil {
			return err
		}
		for _, old := range notes {
			if strings.TrimSpace(old.Text) == strings.TrimSpace(n.Text) {
				return nil
			}
		}
		at, unknown, err := e.store.NoteMarkedAt("unknown:" + id)
		if err != nil {
			return err
		}
		if unknown {
			if left := at.Add(e.o.Config.Engine.CreateSearchWindow.Duration).Sub(e.o.Now()); left > 0 {
				return fmt.Errorf("%w: the note on ticket %d is not there yet; searching again, %s before it may be posted again",
					errLateCommit, ticketID, left.Round(time.Second))
			}
			if err := e.store.ForgetNote("unknown:" + id); err != nil {
				return err
			}
		}
	}
	_, err = c.AddNote(ctx, ticketID, n)
	e.noteCWResult(err, company)
	if outcomeUnknown(err) {
		if _, merr := e.store.MarkNoteProcessed("unknown:" + id); merr != nil {
			return merr
		}
	}
	return err
}
