package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/internal/textsafe"
	"github.com/cwbridge/cwbridge/storage"
)

const (
	// actionWatch is how long after closing a ticket its notes are watched.
	actionWatch = 7 * 24 * time.Hour
	// maxOutput bounds the command output quoted on the ticket.
	maxOutput = 2000
	// idsPerQuery keeps "id in (...)" well inside URL limits.
	idsPerQuery = 100
)

// actionPoller finds new resolution notes naming an action on the tickets
// the engine opened, with one ticket query per hundred tickets (by last
// update) and a notes query only for tickets that changed.
type actionPoller struct {
	e     *Engine
	mu    sync.Mutex
	since time.Time // tickets updated after this are looked at
}

func newActionPoller(e *Engine) *actionPoller { return &actionPoller{e: e} }

func (a *actionPoller) run(ctx context.Context) {
	t := time.NewTicker(a.e.o.PollInterval)
	defer t.Stop()
	for {
		if !a.e.isPaused() {
			if err := a.poll(ctx); err != nil && ctx.Err() == nil {
				a.e.log.Warn("polling tickets for actions", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *actionPoller) poll(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := a.e.cw()
	if err != nil {
		return nil
	}
	keys, err := a.e.store.IncidentKeys()
	if err != nil && len(keys) == 0 {
		return err
	}
	now := a.e.o.Now()
	var ids []int
	for _, k := range keys {
		if k.TicketID != 0 && (k.State == storage.KeyOpen || now.Sub(k.ClosedAt) < actionWatch) {
			ids = append(ids, k.TicketID)
		}
	}
	started := time.Now()
	for len(ids) > 0 {
		n := min(len(ids), idsPerQuery)
		batch := ids[:n]
		ids = ids[n:]
		cond := cwclient.InInts("id", batch)
		if !a.since.IsZero() {
			cond = cwclient.And(cond, cwclient.Gt("_info/lastUpdated", a.since))
		}
		changed, err := cwclient.Collect(c.Tickets(ctx, cwclient.Query{Conditions: cond, Fields: []string{"id"}}))
		a.e.noteCWResult(err, "")
		if err != nil {
			return err
		}
		for _, t := range changed {
			if err := a.scanNotes(ctx, c, t.ID); err != nil {
				return err
			}
		}
	}
	// Overlap a little: clocks differ, and processed notes are remembered.
	a.since = started.Add(-time.Minute).UTC()
	return nil
}

func (a *actionPoller) scanNotes(ctx context.Context, c *cwclient.Client, ticketID int) error {
	notes, err := c.TicketNotes(ctx, ticketID, cwclient.Query{Conditions: cwclient.Eq("resolutionFlag", true)})
	a.e.noteCWResult(err, "")
	if err != nil {
		return err
	}
	for _, n := range notes {
		if _, ok := ParseAction(n.Text); !ok {
			continue
		}
		ref := fmt.Sprintf("%d/%d", ticketID, n.ID)
		err := a.e.store.Update(func(t *storage.Tx) error {
			first, err := t.MarkNoteProcessed(strconv.Itoa(n.ID))
			if err != nil || !first {
				return err
			}
			_, err = t.Enqueue(storage.OutboxAction, ref)
			return err
		})
		if err != nil {
			return err
		}
		a.e.poke()
	}
	return nil
}

// ActionRequest is what the action command reads on stdin.
type ActionRequest struct {
	Action      string `json:"action"`
	Ticket      int    `json:"ticket"`
	IncidentKey string `json:"incident_key"`
	User        string `json:"user,omitempty"`
	Device      string `json:"device,omitempty"`
	Note        string `json:"note"`
	// Member is the ConnectWise member who wrote the note (its createdBy),
	// for the command's own checks and audit.
	Member string `json:"member"`
}

// memberAllowed applies [actions] allowed_members (empty: anyone).
func memberAllowed(allowed []string, member string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, m := range allowed {
		if strings.EqualFold(m, member) {
			return true
		}
	}
	return false
}

// errRescheduled tells settle the item already recorded its own retry.
var errRescheduled = errors.New("rescheduled by its handler")

const (
	markRunning = "running"
	markDone    = "done: "
)

// process runs one action at most once: the item is marked running on
// disk before the command starts, and its outcome is kept on the item
// until the answer is posted. A crash mid-run is answered, never re-run.
func (a *actionPoller) process(ctx context.Context, it storage.OutboxItem, ak *ack) error {
	ticketS, noteS, _ := strings.Cut(it.Ref, "/")
	ticketID, err1 := strconv.Atoi(ticketS)
	noteID, err2 := strconv.Atoi(noteS)
	if err1 != nil || err2 != nil {
		return permanent(fmt.Errorf("bad action reference %q", it.Ref))
	}
	c, err := a.e.cw()
	if err != nil {
		return errPaused
	}
	var outcome string
	posted := false // an earlier attempt may have posted the answer already
	switch {
	case strings.HasPrefix(it.LastError, markDone):
		outcome = strings.TrimPrefix(it.LastError, markDone)
		posted = true
	case it.LastError == markRunning:
		// Only the running marker means the command may have started: an
		// attempt that failed before (reading the note) left its own error.
		outcome = "interrupted: cwbridge stopped while the action ran; it may or may not have taken effect and was not repeated"
	default:
		notes, err := c.TicketNotes(ctx, ticketID, cwclient.Query{Conditions: cwclient.Eq("id", noteID)})
		a.e.noteCWResult(err, "")
		if err != nil {
			return err
		}
		if len(notes) == 0 {
			return nil // the note was deleted before we got to it
		}
		action, _ := ParseAction(notes[0].Text)
		req := ActionRequest{Action: action, Ticket: ticketID, Note: notes[0].Text, Member: notes[0].CreatedBy}
		if k, ok := a.keyOf(ticketID); ok {
			req.IncidentKey, req.User, req.Device = k.Key, k.LastUser, k.LastDevice
		}
		if !memberAllowed(a.e.o.Config.Actions.AllowedMembers, req.Member) {
			outcome = fmt.Sprintf("%s was not run: ConnectWise member %q is not in cwbridge's [actions] allowed_members",
				action, textsafe.OneLine(req.Member))
			a.e.log.Warn("action refused: member not allowed", "action", action, "ticket", ticketID, "member", textsafe.OneLine(req.Member))
			break
		}
		// A note's command runs once in its life, even when an admin
		// retries its failed item (which carries no marker any more).
		first, err := a.e.store.MarkNoteProcessed("ran:" + it.Ref)
		if err != nil {
			return err
		}
		if !first {
			outcome = action + " was not run again: it already ran (or was interrupted) for this note"
			break
		}
		if err := a.e.store.Reschedule(it.Seq, a.e.o.Now(), markRunning); err != nil {
			return permanent(err)
		}
		outcome = a.runCommand(ctx, req)
		a.e.m.actions.Inc()
		if err := a.e.store.Reschedule(it.Seq, a.e.o.Now(), markDone+outcome); err != nil {
			return permanent(err)
		}
		it.Attempts += 2
	}
	// The note id keeps answers to different notes distinct, so a retry
	// can tell whether its own answer landed.
	answer := "cwbridge: " + outcome + "\n\n(in answer to note " + noteS + ")"
	err = a.e.addNoteOnce(ctx, c, ticketID, cwclient.Note{Text: answer, InternalAnalysisFlag: true}, posted, "")
	if err != nil {
		if it.Attempts+1 >= a.e.o.MaxAttempts {
			// Out of attempts by this item's own count, which settle's
			// copy does not include: without permanent it would record a
			// plain retry over the "done" outcome and run the command again.
			return permanent(err)
		}
		next := a.e.o.Now().Add(backoff(a.e.o.RetryBase, a.e.o.RetryMax, it.Attempts))
		if rerr := a.e.store.Reschedule(it.Seq, next, markDone+outcome); rerr != nil {
			return permanent(rerr)
		}
		return errRescheduled
	}
	return a.e.store.Update(func(t *storage.Tx) error {
		if _, err := t.AppendFeed(storage.FeedEvent{Kind: storage.FeedAction, TicketID: ticketID, Message: outcome}); err != nil {
			return err
		}
		return ak.in(t)
	})
}

func (a *actionPoller) keyOf(ticketID int) (storage.IncidentKey, bool) {
	k, err := a.e.store.IncidentKeyByTicket(ticketID)
	return k, err == nil
}
