package storage

import (
	"encoding/binary"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bucketPath names a bucket by its path from the root. The layout itself is
// drawn in schema.go.
type bucketPath []string

func (p bucketPath) String() string { return strings.Join(p, "/") }

// keyString prints a key for error messages: sequence-keyed buckets as
// numbers, the others quoted.
func (p bucketPath) keyString(k []byte) string {
	if p.seqKeyed() {
		return seqString(k)
	}
	return strconv.Quote(string(k))
}

func (p bucketPath) seqKeyed() bool { return seqKeyed[p.String()] }

// seqKeyed holds the buckets declared with seqBucket: keyed by a big-endian
// sequence number (itob), which error messages print as a number.
var seqKeyed = map[string]bool{}

func seqBucket(path ...string) bucketPath {
	seqKeyed[strings.Join(path, "/")] = true
	return path
}

// Every bucket of the current schema.
var (
	bktMeta       = bucketPath{"meta"}
	bktSettings   = bucketPath{"settings"}
	bktProducts   = bucketPath{"products"}
	bktWorkspaces = bucketPath{"workspaces"}
	bktCW         = bucketPath{"cw"}
	bktCompanies  = seqBucket("cw", "companies")
	bktCompanyIDs = bucketPath{"cw", "company_ids"}
	bktLookups    = bucketPath{"cw", "lookups"}
	bktRoutes     = bucketPath{"routes"}
	bktIncidents  = bucketPath{"incidents"}
	bktKeys       = bucketPath{"keys"}
	bktTicketKeys = seqBucket("ticket_keys")
	bktOutbox     = bucketPath{"outbox"}
	bktPending    = seqBucket("outbox", "pending")
	bktFailed     = seqBucket("outbox", "failed")
	bktFeed       = seqBucket("feed")
	bktNotes      = bucketPath{"notes"}
	bktUsage      = bucketPath{"usage"}
	bktAudit      = seqBucket("audit")
	bktRevisions  = bucketPath{"revisions"}

	bktBilling        = bucketPath{"billing"}
	bktBillingCatalog = bucketPath{"billing", "catalog"}
	bktBillingCreates = bucketPath{"billing", "creates"}
)

// allBuckets is created at Open, parents before children.
var allBuckets = []bucketPath{
	bktMeta, bktSettings, bktProducts, bktWorkspaces,
	bktCW, bktCompanies, bktCompanyIDs, bktLookups,
	bktRoutes, bktIncidents, bktKeys, bktTicketKeys,
	bktOutbox, bktPending, bktFailed,
	bktFeed, bktNotes, bktUsage, bktAudit, bktRevisions,
	bktClosedTickets, bktDrafts,
	bktBilling, bktBillingCatalog, bktBillingCreates,
}

// bktDrafts holds each technician's unfinished wizard (drafts.go), created
// at Open like closed_tickets.
var bktDrafts = bucketPath{"drafts"}

// bktClosedTickets holds when each closed ticket closed, for retention
// (retention.go). A new bucket needs no new schema version: Open creates
// missing buckets.
var bktClosedTickets = seqBucket("closed_tickets")

// Keys inside cw/ for the company sync (companies.go).
var (
	keyCompaniesFullAt = []byte("companies_full_at")
	keyCompaniesMark   = []byte("companies_updated_through")
	keyCompaniesFrom   = []byte("companies_source")
)

// Keys inside meta/ and settings/.
var (
	keySchemaVersion = []byte("schema_version")
	keyOutboxPending = []byte("outbox_pending")
	keyOutboxFailed  = []byte("outbox_failed")
	keyCompaniesAt   = []byte("companies_fetched_at")

	keyConnection    = []byte(SettingConnection)
	keyIntake        = []byte(SettingIntake)
	keyOnboarding    = []byte(SettingOnboarding)
	keyAgreementType = []byte(SettingAgreementType)
)

// getBucket walks p. A missing bucket is an error rather than a nil that
// would panic later; Open creates them all, so this only fires on a bug or a
// hand-edited file.
func getBucket(tx *bolt.Tx, p bucketPath) (*bolt.Bucket, error) {
	b := tx.Bucket([]byte(p[0]))
	for i := 1; b != nil && i < len(p); i++ {
		b = b.Bucket([]byte(p[i]))
	}
	if b == nil {
		return nil, &CorruptError{Bucket: p.String(), Key: "", Err: errMissingBucket}
	}
	return b, nil
}

func createBucket(tx *bolt.Tx, p bucketPath) (*bolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(p[0]))
	for i := 1; err == nil && i < len(p); i++ {
		b, err = b.CreateBucketIfNotExists([]byte(p[i]))
	}
	return b, err
}

// itob encodes a sequence big-endian so byte order is numeric order (FIFO).
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
