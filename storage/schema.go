package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes.
//
// The bucket tree (v4). All values are JSON unless noted, so records can be
// read with `bbolt get cwbridge.db <bucket> <key>`; decoders ignore unknown
// fields, so adding a field needs no new version. Changing what a key or
// bucket means does: bump SchemaVersion and add a migration below.
//
//	meta/
//	  schema_version            uint64 BE
//	  outbox_pending            uint64 BE: keys in outbox/pending (v2)
//	  outbox_failed             uint64 BE: keys in outbox/failed (v3)
//	settings/
//	  connectwise               connectionRecord (private key in clear: the file is 0600)
//	  intake                    intakeRecord {token}
//	  onboarding                onboardingRecord {step, draft, values, verified_at}: step "done"
//	                            once setup is finished (older versions kept one shared draft here)
//	drafts/      <actor>        onboardingRecord: that technician's unfinished wizard (drafts.go;
//	                            created at Open when missing; no version bump)
//	  agreement_type            AgreementType {id, name}
//	products/    <product key>  ProductMapping
//	workspaces/  <workspace key> Workspace
//	cw/
//	  companies_fetched_at      RFC 3339 text
//	  companies_full_at         RFC 3339 text: the last full sync
//	  companies_updated_through RFC 3339 text: newest _info.lastUpdated cached
//	  companies_source          text: the connection (site, company) of the last full sync
//	  companies/   <id u64 BE>  Company
//	  company_ids/ <lower(identifier)> id u64 BE (v2)
//	  lookups/     <table>      LookupTable; table is "boards", "priorities",
//	                            "statuses/<board id>", "types/<board id>", "subtypes/<board id>"
//	routes/      <alert type>   Route
//	incidents/   <incident id>  Incident
//	keys/        <incident key> IncidentKey; the key is scoped: "<workspace>|<key>" (v4)
//	ticket_keys/ <ticket id u64 BE> incident key, raw text: whose ticket it is (v3)
//	closed_tickets/ <ticket id u64 BE> RFC 3339 text: when it closed, kept by
//	                            retention for tickets a key has moved on from
//	                            (created at Open when missing; no version bump)
//	outbox/
//	  pending/   <seq u64 BE>   OutboxItem, FIFO (v2); incident items carry their key (v3)
//	  failed/    <seq u64 BE>   OutboxItem, given up on (v2)
//	feed/        <seq u64 BE>   FeedEvent, oldest trimmed past the cap
//	notes/       <note id>      RFC 3339 time it was processed
//	usage/       <workspace> 0x00 <product>  Usage
//	audit/       <seq u64 BE>   AuditEntry
//	revisions/   <subject>      audit seq u64 BE of the subject's latest change (see revisions.go)
//	billing/
//	  last_sync                 BillingSync: the last finished usage sync
//	  catalog/   <product key>  CatalogState: the CW catalog item behind a product
//	  creates/   <agreement id>:<item id> AdditionCreate: an addition POST that may
//	                            have happened (written before the call)
//
// v1 differed in three ways, all fixed by migrateV1toV2: outbox items sat
// directly in outbox/ with given-up items flagged "dead":true (so peeking had
// to skip them and queue depth needed a full scan); there was no
// meta/outbox_pending counter; there was no cw/company_ids index (a lookup by
// identifier scanned every company).
//
// v2 differed in three more, fixed by migrateV2toV3: no ticket_keys index (an
// action scanned every key to find its ticket's), no meta/outbox_failed
// counter (health decoded the failed list to count it), and incident outbox
// items without their key (the dispatcher read each incident to order it).
//
// v3 keyed incidents by the key as sent, so two workspaces sending the same
// key shared one ticket; migrateV3toV4 moves every key under its workspace
// (ScopedKey), with its ticket index entries and its outbox items.
const SchemaVersion = 4

type migration struct {
	from int
	name string
	fn   func(tx *bolt.Tx) error
}

// migrations[i] takes a file from version migrations[i].from to from+1.
// They run in order inside the one transaction that opens the file, so a
// crash mid-migration leaves the old layout untouched.
var migrations = []migration{
	{from: 1, name: "split outbox into pending/failed, count pending, index companies by identifier", fn: migrateV1toV2},
	{from: 2, name: "index keys by ticket, count failed, key on incident outbox items", fn: migrateV2toV3},
	{from: 3, name: "scope incident keys by workspace", fn: migrateV3toV4},
}

// errSkip rolls back the opening transaction of a file that is already
// current, so a plain Open writes nothing and costs no fsync.
var errSkip = errors.New("storage: schema is current")

var errMissingBucket = errors.New("bucket missing")

// initSchema creates or upgrades the layout. It runs once in Open.
func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bktMeta[0]))
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return errors.New("storage: file has buckets but no meta/schema_version; not a cwbridge database")
		}
		return createAll(tx)
	}
	raw := meta.Get(keySchemaVersion)
	if len(raw) != 8 {
		return corrupt(bktMeta, keySchemaVersion, fmt.Errorf("schema version is %d bytes, want 8", len(raw)))
	}
	v := int(btoi(raw))
	if v == SchemaVersion && complete(tx) {
		return errSkip
	}
	if v > SchemaVersion {
		return fmt.Errorf("storage: database schema v%d is newer than this cwbridge (v%d); refusing to open", v, SchemaVersion)
	}
	for _, m := range migrations {
		if m.from < v {
			continue
		}
		if err := m.fn(tx); err != nil {
			return fmt.Errorf("storage: migrating v%d to v%d (%s): %w", m.from, m.from+1, m.name, err)
		}
		v = m.from + 1
	}
	if v != SchemaVersion {
		return fmt.Errorf("storage: no migration from schema v%d", v)
	}
	return createAll(tx)
}

// complete reports whether every bucket and counter of the current layout
// is there, so opening has nothing to write.
func complete(tx *bolt.Tx) bool {
	for _, p := range allBuckets {
		if _, err := getBucket(tx, p); err != nil {
			return false
		}
	}
	meta := tx.Bucket([]byte(bktMeta[0]))
	return len(meta.Get(keyOutboxPending)) == 8 && len(meta.Get(keyOutboxFailed)) == 8
}

func createAll(tx *bolt.Tx) error {
	for _, p := range allBuckets {
		if _, err := createBucket(tx, p); err != nil {
			return fmt.Errorf("storage: create bucket %s: %w", p, err)
		}
	}
	meta := tx.Bucket([]byte(bktMeta[0]))
	// A missing or mangled counter is rebuilt by counting, so it can never
	// keep the store from opening.
	for key, p := range map[string]bucketPath{string(keyOutboxPending): bktPending, string(keyOutboxFailed): bktFailed} {
		if len(meta.Get([]byte(key))) == 8 {
			continue
		}
		if err := meta.Put([]byte(key), itob(uint64(countValues(tx, p)))); err != nil {
			return err
		}
	}
	return meta.Put(keySchemaVersion, itob(SchemaVersion))
}

// countValues counts the records (not sub-buckets) in p.
func countValues(tx *bolt.Tx, p bucketPath) int {
	b, err := getBucket(tx, p)
	if err != nil {
		return 0
	}
	n := 0
	_ = b.ForEach(func(k, v []byte) error {
		if v != nil {
			n++
		}
		return nil
	})
	return n
}

// outboxItemV1 is the v1 outbox value: v2's OutboxItem plus the dead flag.
type outboxItemV1 struct {
	OutboxItem
	Dead bool `json:"dead,omitempty"`
}

func migrateV1toV2(tx *bolt.Tx) error {
	outbox, err := tx.CreateBucketIfNotExists([]byte(bktOutbox[0]))
	if err != nil {
		return err
	}
	pending, err := outbox.CreateBucketIfNotExists([]byte(bktPending[1]))
	if err != nil {
		return err
	}
	failed, err := outbox.CreateBucketIfNotExists([]byte(bktFailed[1]))
	if err != nil {
		return err
	}
	// Collect first: bbolt cursors must not see their bucket change underfoot.
	type kv struct{ k, v []byte }
	var items []kv
	c := outbox.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil { // a sub-bucket (pending/failed just made)
			continue
		}
		items = append(items, kv{bytes.Clone(k), bytes.Clone(v)})
	}
	var count uint64
	for _, it := range items {
		var old outboxItemV1
		dst, val := pending, it.v
		// A value that does not decode is kept as is in pending: dropping it
		// would lose work silently, and PeekDue reports it by bucket and key.
		if json.Unmarshal(it.v, &old) == nil {
			if old.Dead {
				dst = failed
				if old.FailedAt.IsZero() {
					old.FailedAt = time.Now().UTC()
				}
			}
			if val, err = json.Marshal(old.OutboxItem); err != nil {
				return err
			}
		}
		if dst == pending {
			count++
		}
		if err := dst.Put(it.k, val); err != nil {
			return err
		}
		if err := outbox.Delete(it.k); err != nil {
			return err
		}
	}
	// Keep sequence numbers growing from where v1 left off.
	if err := pending.SetSequence(outbox.Sequence()); err != nil {
		return err
	}
	meta := tx.Bucket([]byte(bktMeta[0]))
	if err := meta.Put(keyOutboxPending, itob(count)); err != nil {
		return err
	}

	cw, err := tx.CreateBucketIfNotExists([]byte(bktCW[0]))
	if err != nil {
		return err
	}
	companies, err := cw.CreateBucketIfNotExists([]byte(bktCompanies[1]))
	if err != nil {
		return err
	}
	ids, err := cw.CreateBucketIfNotExists([]byte(bktCompanyIDs[1]))
	if err != nil {
		return err
	}
	return companies.ForEach(func(k, v []byte) error {
		var co Company
		if v == nil || len(k) != 8 || json.Unmarshal(v, &co) != nil || co.Identifier == "" {
			return nil // unindexable; Companies() still reports it
		}
		return ids.Put([]byte(strings.ToLower(co.Identifier)), bytes.Clone(k))
	})
}

func migrateV2toV3(tx *bolt.Tx) error {
	idx, err := createBucket(tx, bktTicketKeys)
	if err != nil {
		return err
	}
	keys, err := getBucket(tx, bktKeys)
	if err != nil {
		return err
	}
	if err := keys.ForEach(func(k, v []byte) error {
		var ik IncidentKey
		if v == nil || json.Unmarshal(v, &ik) != nil || ik.TicketID <= 0 {
			return nil // unreadable: IncidentKeys still reports it
		}
		return idx.Put(itob(uint64(ik.TicketID)), bytes.Clone(k))
	}); err != nil {
		return err
	}
	// Counted by createAll, which runs after the migrations.
	if err := tx.Bucket([]byte(bktMeta[0])).Delete(keyOutboxFailed); err != nil {
		return err
	}
	incidents, err := getBucket(tx, bktIncidents)
	if err != nil {
		return err
	}
	return rewriteItems(tx, func(it *OutboxItem) bool {
		if it.Kind != OutboxIncident || it.Key != "" {
			return false
		}
		var inc Incident
		if raw := incidents.Get([]byte(it.Ref)); raw == nil || json.Unmarshal(raw, &inc) != nil {
			return false // the engine drops an item whose incident is gone
		}
		it.Key = v3KeyOf(inc)
		return true
	})
}

// v3KeyOf is KeyOf as v3 had it, unscoped (migrateV3toV4 scopes it).
func v3KeyOf(inc Incident) string {
	if inc.Key != "" {
		return inc.Key
	}
	return DefaultIncidentKey(inc.Company, inc.Type, inc.Title)
}

func migrateV3toV4(tx *bolt.Tx) error {
	keys, err := getBucket(tx, bktKeys)
	if err != nil {
		return err
	}
	// Collect first: bbolt cursors must not see their bucket change underfoot.
	moved := map[string]string{} // old key → scoped key
	type rec struct {
		old string
		k   IncidentKey
	}
	var recs []rec
	if err := keys.ForEach(func(kb, v []byte) error {
		var k IncidentKey
		if v == nil || json.Unmarshal(v, &k) != nil {
			return nil // unreadable: IncidentKeys still reports it, under its old name
		}
		if nk := ScopedKey(k.Workspace, string(kb)); nk != string(kb) {
			k.Key = nk
			recs = append(recs, rec{string(kb), k})
		}
		return nil
	}); err != nil {
		return err
	}
	// A scoped name may already be taken: by a key that stays (it was
	// written scoped, "acme|x" beside "x"), or by another key moving to it.
	// Those keys keep their old names, readable as before, rather than
	// merge two tickets' records or leave the file unopenable. Names freed
	// by keys that move are free for others: the order of moves does not
	// matter.
	moving := map[string]bool{}
	for _, r := range recs {
		moving[r.old] = true
	}
	var moves []rec
	for changed := true; changed; {
		// A key that stays holds its name; until no move is dropped, a
		// dropped move frees nothing and may block another.
		changed, moves = false, moves[:0]
		taken := map[string]bool{}
		for _, r := range recs {
			if !moving[r.old] {
				continue
			}
			if taken[r.k.Key] || keys.Get([]byte(r.k.Key)) != nil && !moving[r.k.Key] {
				moving[r.old], changed = false, true
				continue
			}
			taken[r.k.Key] = true
			moves = append(moves, r)
		}
	}
	for _, r := range moves {
		if err := keys.Delete([]byte(r.old)); err != nil {
			return err
		}
	}
	for _, r := range moves {
		v, err := json.Marshal(r.k)
		if err != nil {
			return err
		}
		if err := keys.Put([]byte(r.k.Key), v); err != nil {
			return err
		}
		moved[r.old] = r.k.Key
	}
	idx, err := getBucket(tx, bktTicketKeys)
	if err != nil {
		return err
	}
	var fix [][2][]byte
	_ = idx.ForEach(func(k, v []byte) error {
		if nk, ok := moved[string(v)]; ok {
			fix = append(fix, [2][]byte{bytes.Clone(k), []byte(nk)})
		}
		return nil
	})
	for _, f := range fix {
		if err := idx.Put(f[0], f[1]); err != nil {
			return err
		}
	}
	// Outbox items: an incident's key is worked out again from the
	// incident (a tenant that shared another's key gets its own); a flush
	// names its key.
	incidents, err := getBucket(tx, bktIncidents)
	if err != nil {
		return err
	}
	return rewriteItems(tx, func(it *OutboxItem) bool {
		switch it.Kind {
		case OutboxIncident:
			var inc Incident
			if raw := incidents.Get([]byte(it.Ref)); raw != nil && json.Unmarshal(raw, &inc) == nil {
				if nk := KeyOf(inc); nk != it.Key {
					it.Key = nk
					return true
				}
			}
		case OutboxFlush:
			if nk, ok := moved[it.Ref]; ok {
				it.Ref = nk
				return true
			}
		}
		return false
	})
}

// rewriteItems applies fn to every decodable item in outbox/pending and
// outbox/failed and writes back those it changed.
func rewriteItems(tx *bolt.Tx, fn func(*OutboxItem) bool) error {
	for _, p := range []bucketPath{bktPending, bktFailed} {
		b, err := getBucket(tx, p)
		if err != nil {
			return err
		}
		var ks, vs [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			var it OutboxItem
			if v == nil || json.Unmarshal(v, &it) != nil || !fn(&it) {
				return nil // a record that does not decode stays as it is
			}
			nv, err := json.Marshal(it)
			ks, vs = append(ks, bytes.Clone(k)), append(vs, nv)
			return err
		}); err != nil {
			return err
		}
		for i := range ks {
			if err := b.Put(ks[i], vs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
