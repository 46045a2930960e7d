package engine

import (
	"context"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

// retentionInterval is how often the engine prunes finished state
// ([retention]); it also prunes once when it starts.
const retentionInterval = time.Hour

// retain prunes in the background until ctx ends. Pruning runs in short
// transactions (storage.Prune), so intake and forwarding go on meanwhile.
func (e *Engine) retain(ctx context.Context) {
	repeat(ctx, 0, retentionInterval, func() {
		if _, err := e.prune(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("pruning finished state", "err", err)
		}
	})
}

// repeat runs fn after first and then every interval until ctx ends.
func repeat(ctx context.Context, first, interval time.Duration, fn func()) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
		t.Reset(interval)
	}
}

// prune runs one retention pass as of the engine's clock.
func (e *Engine) prune(ctx context.Context) (storage.PruneStats, error) {
	r := e.o.Config.Retention
	st, err := e.store.Prune(ctx, e.o.Now(), storage.RetentionPolicy{
		Closed: r.ClosedIncidents.Duration,
		Notes:  r.Notes.Duration,
		Watch:  actionWatch, // a key stays while its ticket is watched for actions
	})
	if st.Incidents+st.Keys+st.Notes+st.TicketIndex > 0 {
		e.log.Info("pruned finished state", "incidents", st.Incidents, "keys", st.Keys,
			"note_ids", st.Notes, "ticket_index", st.TicketIndex, "transactions", st.WriteTxs)
	}
	return st, err
}
