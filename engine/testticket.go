package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

// SendTestTicket pushes one synthetic incident through the whole engine
// (routing, create, storage) and waits for its ticket, so the alert
// routing screen can prove a route works end to end.
func (e *Engine) SendTestTicket(ctx context.Context, alertType, workspace string) (int, error) {
	if workspace == "" {
		workspace = "cwbridge-test"
	}
	now := e.o.Now().UTC()
	id := fmt.Sprintf("test-%s-%d", alertType, now.UnixNano())
	inc := storage.Incident{
		ID: id, Type: alertType, Company: workspace, Severity: "low", Status: "firing",
		Title:       "Test ticket from cwbridge (" + alertType + ")",
		Description: "Sent from the alert routing screen to check this route. Safe to close.",
		Key:         "cwbridge-test|" + id, OccurredAt: now,
	}
	if _, _, err := e.Submit(ctx, []storage.Incident{inc}); err != nil {
		return 0, err
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		got, err := e.store.Incident(id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return 0, err
		}
		switch got.State {
		case storage.StateTicketed:
			return got.TicketID, nil
		case storage.StateFailed, storage.StateDropped:
			return 0, errors.New(got.Error)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("test ticket still %s: %w", got.State, ctx.Err())
		case <-t.C:
		}
	}
}
