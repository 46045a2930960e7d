package engine

import (
	"context"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

const (
	// defaultCompanySync is how often the company cache asks ConnectWise
	// what changed (Options.CompanySyncInterval): one request when nothing
	// did, so every screen opens on a list at most this old.
	defaultCompanySync = 5 * time.Minute
	// companyFullSyncEvery bounds the time between full syncs, which find
	// what an incremental one cannot: a company purged outright, or one
	// written with a lastUpdated older than the watermark.
	companyFullSyncEvery = 24 * time.Hour
)

// companyFields are the fields the cache keeps (storage.Company).
var companyFields = []string{"id", "identifier", "name", "deletedFlag", "_info/lastUpdated"}

// keepCompanies keeps the company cache fresh until ctx ends: a full sync
// when the cache is empty, never fully synced, a day old or from another
// connection, else an incremental one by lastUpdated. It waits while
// forwarding is paused (bad credentials) or ConnectWise is not set up.
func (e *Engine) keepCompanies(ctx context.Context) {
	every := e.o.CompanySyncInterval
	if every < 0 {
		return
	}
	repeat(ctx, e.firstCompanySync(), every, func() {
		if e.isPaused() {
			return
		}
		if _, err := e.syncCompanies(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("syncing companies from ConnectWise", "err", err)
		}
	})
}

// firstCompanySync is how long Run waits before its first sync: a restart
// right after a sync does not sync again at once.
func (e *Engine) firstCompanySync() time.Duration {
	st, err := e.store.CompanySync()
	if err != nil || st.FetchedAt.IsZero() {
		return 0
	}
	return max(0, st.FetchedAt.Add(e.o.CompanySyncInterval).Sub(e.o.Now()))
}

// companySync is what one sync did.
type companySync struct {
	full             bool
	fetched, changed int
}

// syncCompanies runs one sync with the engine's client (so its rate
// limiter counts these calls too). Its errors do not pause forwarding: a
// role that cannot read companies can still open tickets.
func (e *Engine) syncCompanies(ctx context.Context) (companySync, error) {
	var res companySync
	c, err := e.cw()
	if err != nil {
		return res, nil // not set up: nothing to sync from
	}
	conn, err := e.store.Connection()
	if err != nil {
		return res, err
	}
	source := conn.Site + " " + conn.CompanyID
	st, err := e.store.CompanySync()
	if err != nil {
		return res, err
	}
	now := e.o.Now()
	res.full = st.Empty || st.FullAt.IsZero() || st.Watermark.IsZero() || st.Source != source ||
		now.Sub(st.FullAt) >= companyFullSyncEvery || now.Before(st.FullAt)
	q := cwclient.Query{Fields: companyFields}
	if !res.full {
		// At or after the watermark (ConnectWise's own clock, whole
		// seconds): a company updated in the watermark's second after we
		// read it is not missed; those read before come back unchanged. A
		// deletion that did not move lastUpdated is caught by dateDeleted.
		q.Conditions = cwclient.Or(cwclient.Ge("_info/lastUpdated", st.Watermark), cwclient.Ge("dateDeleted", st.Watermark))
	}
	var rows []storage.Company
	for co, err := range c.Companies(ctx, q) {
		if err != nil {
			return res, err
		}
		r := storage.Company{ID: co.ID, Identifier: co.Identifier, Name: co.Name, Deleted: co.DeletedFlag}
		if co.Info != nil {
			r.LastUpdated = co.Info.LastUpdated
		}
		rows = append(rows, r)
	}
	res.fetched = len(rows)
	err = e.store.Update(func(t *storage.Tx) error {
		if res.full {
			res.changed = len(rows)
			if err := t.ReplaceCompanies(rows, now); err != nil {
				return err
			}
			return t.SetCompaniesSource(source)
		}
		res.changed, err = t.UpsertCompanies(rows, now)
		return err
	})
	if err == nil && (res.full || res.changed > 0) {
		e.log.Info("company cache synced", "full", res.full, "fetched", res.fetched, "changed", res.changed)
	}
	return res, err
}
