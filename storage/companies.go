package storage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// Company is a cached ConnectWise company.
type Company struct {
	ID          int       `json:"id"`
	Identifier  string    `json:"identifier"`
	Name        string    `json:"name"`
	Deleted     bool      `json:"deleted,omitempty"`
	LastUpdated time.Time `json:"last_updated,omitzero"` // CW's _info.lastUpdated, for incremental sync
}

// ReplaceCompanies swaps the whole cache for cs in one transaction (a full
// refresh: companies missing from cs are gone afterwards). It records the
// full sync's time and sets the sync watermark to the newest LastUpdated
// in cs.
func (t *Tx) ReplaceCompanies(cs []Company, fetchedAt time.Time) error {
	cw, err := getBucket(t.tx, bktCW)
	if err != nil {
		return err
	}
	// Dropping and recreating is one free-list operation, cheaper than
	// deleting 20,000 keys one by one.
	for _, name := range []string{bktCompanies[1], bktCompanyIDs[1]} {
		if err := cw.DeleteBucket([]byte(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if _, err := cw.CreateBucket([]byte(name)); err != nil {
			return err
		}
	}
	if err := cw.Put(keyCompaniesFullAt, []byte(fetchedAt.UTC().Format(time.RFC3339Nano))); err != nil {
		return err
	}
	if err := cw.Delete(keyCompaniesMark); err != nil {
		return err
	}
	_, err = t.putCompanies(cs, fetchedAt, true)
	return err
}

// UpsertCompanies writes cs over the cache (an incremental sync by
// lastUpdated; a company ConnectWise deleted comes with Deleted set);
// others stay. It moves the sync watermark up to the newest LastUpdated in
// cs, and tells subscribers only when a company changed. It reports how
// many did.
func (t *Tx) UpsertCompanies(cs []Company, fetchedAt time.Time) (changed int, err error) {
	return t.putCompanies(cs, fetchedAt, false)
}

func (t *Tx) putCompanies(cs []Company, fetchedAt time.Time, replace bool) (int, error) {
	b, err := getBucket(t.tx, bktCompanies)
	if err != nil {
		return 0, err
	}
	ids, err := getBucket(t.tx, bktCompanyIDs)
	if err != nil {
		return 0, err
	}
	cw, err := getBucket(t.tx, bktCW)
	if err != nil {
		return 0, err
	}
	mark, err := parseTime(bktCW, keyCompaniesMark, cw.Get(keyCompaniesMark))
	if err != nil {
		mark = time.Time{} // unreadable: the next newest LastUpdated replaces it
	}
	changed := 0
	// Sorted keys turn the B+tree inserts into appends; with a high fill
	// percent 20,000 rows pack into few pages.
	sorted := slices.SortedFunc(slices.Values(cs), func(a, b Company) int { return cmp.Compare(a.ID, b.ID) })
	b.FillPercent = 0.9
	for _, c := range sorted {
		if c.ID <= 0 {
			return 0, invalid("company %q has id %d", c.Identifier, c.ID)
		}
		if c.LastUpdated.After(mark) {
			mark = c.LastUpdated
		}
		k := itob(uint64(c.ID))
		v, err := json.Marshal(c)
		if err != nil {
			return 0, err
		}
		old := b.Get(k)
		if bytes.Equal(old, v) {
			continue
		}
		changed++
		if old != nil {
			var oc Company
			if json.Unmarshal(old, &oc) == nil && !strings.EqualFold(oc.Identifier, c.Identifier) && oc.Identifier != "" {
				if err := ids.Delete([]byte(strings.ToLower(oc.Identifier))); err != nil {
					return 0, err
				}
			}
		}
		if err := b.Put(k, v); err != nil {
			return 0, err
		}
		if c.Identifier != "" {
			if err := ids.Put([]byte(strings.ToLower(c.Identifier)), k); err != nil {
				return 0, err
			}
		}
	}
	if err := cw.Put(keyCompaniesAt, []byte(fetchedAt.UTC().Format(time.RFC3339Nano))); err != nil {
		return 0, err
	}
	if !mark.IsZero() {
		if err := cw.Put(keyCompaniesMark, []byte(mark.UTC().Format(time.RFC3339Nano))); err != nil {
			return 0, err
		}
	}
	// A sync that found nothing new does not make every screen reload
	// the whole list.
	if changed > 0 || replace {
		t.changed(Change{Kind: ChangeCompanies})
	}
	return changed, nil
}

// Companies lists the cache by id; corrupt rows are skipped and reported.
func (t *Tx) Companies() ([]Company, error) {
	b, err := getBucket(t.tx, bktCompanies)
	if err != nil {
		return nil, err
	}
	out := make([]Company, 0, b.Stats().KeyN)
	err = listJSON(t.tx, bktCompanies, func(k, v []byte) error {
		var c Company
		if err := decode(bktCompanies, k, v, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// Company returns one cached company by id; ErrNotFound if absent.
func (t *Tx) Company(id int) (Company, error) {
	var c Company
	if id <= 0 {
		return c, fmt.Errorf("%w: cw/companies/%d", ErrNotFound, id)
	}
	err := getJSON(t.tx, bktCompanies, itob(uint64(id)), &c)
	return c, err
}

// CompanyByIdentifier finds a cached company by its CW identifier, case
// insensitively (CW treats identifiers so).
func (t *Tx) CompanyByIdentifier(identifier string) (Company, error) {
	ids, err := getBucket(t.tx, bktCompanyIDs)
	if err != nil {
		return Company{}, err
	}
	k := []byte(strings.ToLower(identifier))
	id := ids.Get(k)
	if id == nil {
		return Company{}, notFound(bktCompanyIDs, k)
	}
	if len(id) != 8 {
		return Company{}, corrupt(bktCompanyIDs, k, fmt.Errorf("id is %d bytes, want 8", len(id)))
	}
	var c Company
	err = getJSON(t.tx, bktCompanies, id, &c)
	return c, err
}

// CompaniesFetchedAt is when the cache was last written; zero if never.
func (t *Tx) CompaniesFetchedAt() (time.Time, error) {
	cw, err := getBucket(t.tx, bktCW)
	if err != nil {
		return time.Time{}, err
	}
	return parseTime(bktCW, keyCompaniesAt, cw.Get(keyCompaniesAt))
}

// CompanySync is where the company cache stands, for the background sync.
type CompanySync struct {
	FetchedAt time.Time // last sync of any kind; zero if never
	FullAt    time.Time // last full sync; zero if never
	// Watermark is the newest ConnectWise lastUpdated in the cache: an
	// incremental sync asks for companies updated at or after it, on
	// ConnectWise's own clock.
	Watermark time.Time
	Empty     bool // no company cached
	// Source names the connection the last full sync read (see
	// SetCompaniesSource): a sync from another one starts over.
	Source string
}

// SetCompaniesSource records which ConnectWise connection the cache was
// read from.
func (t *Tx) SetCompaniesSource(source string) error {
	cw, err := getBucket(t.tx, bktCW)
	if err != nil {
		return err
	}
	return cw.Put(keyCompaniesFrom, []byte(source))
}

// CompanySync reads the cache's sync state.
func (t *Tx) CompanySync() (CompanySync, error) {
	var st CompanySync
	cw, err := getBucket(t.tx, bktCW)
	if err != nil {
		return st, err
	}
	b, err := getBucket(t.tx, bktCompanies)
	if err != nil {
		return st, err
	}
	k, _ := b.Cursor().First()
	st.Empty = k == nil
	if st.FetchedAt, err = parseTime(bktCW, keyCompaniesAt, cw.Get(keyCompaniesAt)); err != nil {
		return st, err
	}
	if st.FullAt, err = parseTime(bktCW, keyCompaniesFullAt, cw.Get(keyCompaniesFullAt)); err != nil {
		return st, err
	}
	st.Source = string(cw.Get(keyCompaniesFrom))
	st.Watermark, err = parseTime(bktCW, keyCompaniesMark, cw.Get(keyCompaniesMark))
	return st, err
}

func (s *Store) CompanySync() (CompanySync, error) { return viewGet(s, (*Tx).CompanySync) }

func parseTime(p bucketPath, k, v []byte) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, corrupt(p, k, fmt.Errorf("invalid time: %w", err))
	}
	return at, nil
}

func (s *Store) ReplaceCompanies(cs []Company, fetchedAt time.Time) error {
	return s.Update(func(t *Tx) error { return t.ReplaceCompanies(cs, fetchedAt) })
}
func (s *Store) UpsertCompanies(cs []Company, fetchedAt time.Time) (changed int, err error) {
	return updateGet(s, func(t *Tx) (int, error) { return t.UpsertCompanies(cs, fetchedAt) })
}
func (s *Store) Companies() ([]Company, error) { return viewGet(s, (*Tx).Companies) }
func (s *Store) Company(id int) (Company, error) {
	return viewGet(s, func(t *Tx) (Company, error) { return t.Company(id) })
}
func (s *Store) CompanyByIdentifier(identifier string) (Company, error) {
	return viewGet(s, func(t *Tx) (Company, error) { return t.CompanyByIdentifier(identifier) })
}
func (s *Store) CompaniesFetchedAt() (time.Time, error) {
	return viewGet(s, (*Tx).CompaniesFetchedAt)
}
