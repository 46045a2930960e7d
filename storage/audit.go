package storage

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"
)

// AuditEntry records who changed what. Before and After are the display
// JSON of the record (secrets print as Mask); Changed names the fields that
// differ, secret ones included, so a key rotation is visible without its value.
type AuditEntry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`  // "set" or "delete"
	Subject string    `json:"subject"` // bucket/key, e.g. "workspaces/acme"
	Changed []string  `json:"changed,omitempty"`
	Before  string    `json:"before,omitempty"`
	After   string    `json:"after,omitempty"`
}

// displayFunc turns a stored value into its masked display form.
type displayFunc func(raw []byte) (any, error)

// displayAs is the displayFunc of record types that hold no secrets.
func displayAs[T any](raw []byte) (any, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

// putAudited writes rec at p/key and logs the change. Writing an identical
// value is a no-op, so re-seeding from the config file on every start does
// not fill the audit log. A corrupt old value is overwritten (that is the
// repair) and logged as unreadable.
func (t *Tx) putAudited(p bucketPath, key []byte, actor string, rec any, display displayFunc) (bool, error) {
	if err := checkKey(p, key); err != nil {
		return false, err
	}
	b, err := getBucket(t.tx, p)
	if err != nil {
		return false, err
	}
	oldRaw := bytes.Clone(b.Get(key))
	newRaw, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	if oldRaw != nil && bytes.Equal(oldRaw, newRaw) {
		return false, nil
	}
	if err := b.Put(key, newRaw); err != nil {
		return false, err
	}
	return true, t.audit(actor, "set", p, key, oldRaw, newRaw, display)
}

// deleteAudited removes p/key; a missing key wraps ErrNotFound.
func (t *Tx) deleteAudited(p bucketPath, key []byte, actor string, display displayFunc) error {
	b, err := getBucket(t.tx, p)
	if err != nil {
		return err
	}
	oldRaw := bytes.Clone(b.Get(key))
	if oldRaw == nil {
		return notFound(p, key)
	}
	if err := b.Delete(key); err != nil {
		return err
	}
	return t.audit(actor, "delete", p, key, oldRaw, nil, display)
}

func (t *Tx) audit(actor, action string, p bucketPath, key, oldRaw, newRaw []byte, display displayFunc) error {
	e := AuditEntry{
		Time: t.now, Actor: actor, Action: action,
		Subject: p.String() + "/" + string(key),
		Changed: changedFields(oldRaw, newRaw),
		Before:  displayString(oldRaw, display),
		After:   displayString(newRaw, display),
	}
	b, err := getBucket(t.tx, bktAudit)
	if err != nil {
		return err
	}
	if e.Seq, err = b.NextSequence(); err != nil {
		return err
	}
	b.FillPercent = 0.9 // append-only
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := b.Put(itob(e.Seq), v); err != nil {
		return err
	}
	return t.setRevision(e.Subject, e.Seq)
}

func displayString(raw []byte, display displayFunc) string {
	if raw == nil {
		return ""
	}
	v, err := display(raw)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	return string(out)
}

// changedFields compares two stored JSON objects field by field. It returns
// names only, so comparing records that hold secrets leaks nothing.
func changedFields(oldRaw, newRaw []byte) []string {
	var o, n map[string]json.RawMessage
	_ = json.Unmarshal(oldRaw, &o)
	_ = json.Unmarshal(newRaw, &n)
	var out []string
	for k, nv := range n {
		if ov, ok := o[k]; !ok || !bytes.Equal(ov, nv) {
			out = append(out, k)
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// AuditLog returns up to limit entries, newest first (all if limit <= 0).
func (t *Tx) AuditLog(limit int) ([]AuditEntry, error) {
	b, err := getBucket(t.tx, bktAudit)
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	var bad []error
	c := b.Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		var e AuditEntry
		if err := decode(bktAudit, k, v, &e); err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, e)
	}
	return out, joinErrs(bad)
}

// AuditLog returns up to limit entries, newest first (all if limit <= 0).
func (s *Store) AuditLog(limit int) ([]AuditEntry, error) {
	return viewGet(s, func(t *Tx) ([]AuditEntry, error) { return t.AuditLog(limit) })
}
