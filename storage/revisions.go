package storage

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// A setting's revision is the sequence number of the audit entry that last
// wrote it (revisions/<subject>). A screen notes it when it opens a form
// and saves with CheckRevision in the same transaction, so a save made on
// values another technician has changed since is refused, never silently
// written over theirs. A setting never written through the audit log has
// revision 0.

// Subjects of the audited settings, as the audit log and revisions name them.
func RouteSubject(alertType string) string { return bktRoutes.String() + "/" + alertType }
func WorkspaceSubject(key string) string   { return bktWorkspaces.String() + "/" + key }
func ProductSubject(key string) string     { return bktProducts.String() + "/" + key }
func SettingSubject(setting string) string { return bktSettings.String() + "/" + setting }

// Revision says who last changed a setting, when, and which fields.
type Revision struct {
	Seq     uint64
	By      string
	At      time.Time
	Changed []string
}

// ConflictError refuses a save made on an older revision.
type ConflictError struct {
	Subject string
	Want    uint64 // the revision the form was opened on
	Now     Revision
	Ago     time.Duration // how long ago, by the store's clock
}

func (e *ConflictError) Error() string {
	what := strings.Join(e.Now.Changed, ", ")
	if what == "" {
		what = "deleted or rewritten"
	}
	return fmt.Sprintf("%s was changed by %s %s ago: %s", e.Subject, e.Now.By, e.Ago.Round(time.Second), what)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Revision returns a subject's current revision (Seq 0: never audited).
func (t *Tx) Revision(subject string) (Revision, error) {
	b, err := getBucket(t.tx, bktRevisions)
	if err != nil {
		return Revision{}, err
	}
	v := b.Get([]byte(subject))
	if len(v) != 8 {
		return Revision{}, nil
	}
	seq := btoi(v)
	var e AuditEntry
	if err := getJSON(t.tx, bktAudit, v, &e); err != nil {
		// The audit entry is unreadable: the revision still guards saves.
		return Revision{Seq: seq}, nil
	}
	return Revision{Seq: seq, By: e.Actor, At: e.Time, Changed: e.Changed}, nil
}

// CheckRevision returns a *ConflictError when subject is no longer at rev.
func (t *Tx) CheckRevision(subject string, rev uint64) error {
	cur, err := t.Revision(subject)
	if err != nil {
		return err
	}
	if cur.Seq == rev {
		return nil
	}
	return &ConflictError{Subject: subject, Want: rev, Now: cur, Ago: max(t.now.Sub(cur.At), 0)}
}

// conflict refuses a change to subject, naming its latest change.
func (t *Tx) conflict(subject string) error {
	cur, err := t.Revision(subject)
	if err != nil {
		return err
	}
	return &ConflictError{Subject: subject, Now: cur, Ago: max(t.now.Sub(cur.At), 0)}
}

func (s *Store) Revision(subject string) (Revision, error) {
	return viewGet(s, func(t *Tx) (Revision, error) { return t.Revision(subject) })
}

// setRevision records that audit entry seq is subject's latest change.
func (t *Tx) setRevision(subject string, seq uint64) error {
	b, err := getBucket(t.tx, bktRevisions)
	if err != nil {
		return err
	}
	return b.Put([]byte(subject), itob(seq))
}

// RoutesAt lists the routes with each one's revision (by alert type), read
// together, so a form opened on them saves against what it showed.
func (s *Store) RoutesAt() ([]Route, map[string]uint64, error) {
	return listAt(s, (*Tx).Routes, func(r Route) (string, string) { return r.AlertType, RouteSubject(r.AlertType) })
}

// PutRouteAt saves r if its route is still at revision rev; else a
// *ConflictError says who changed it since.
func (s *Store) PutRouteAt(actor string, r Route, rev uint64) error {
	return s.Update(func(t *Tx) error {
		if err := t.CheckRevision(RouteSubject(r.AlertType), rev); err != nil {
			return err
		}
		return t.PutRoute(actor, r)
	})
}

// WorkspacesAt is RoutesAt for workspaces (by workspace key).
func (s *Store) WorkspacesAt() ([]Workspace, map[string]uint64, error) {
	return listAt(s, (*Tx).Workspaces, func(w Workspace) (string, string) { return w.Key, WorkspaceSubject(w.Key) })
}

// listAt reads records and their revisions (by the key and subject of
// each) in one transaction.
func listAt[T any](s *Store, list func(*Tx) ([]T, error), of func(T) (key, subject string)) (recs []T, revs map[string]uint64, err error) {
	err = s.View(func(t *Tx) error {
		recs, err = list(t)
		revs = map[string]uint64{}
		for _, r := range recs {
			key, subject := of(r)
			rev, rerr := t.Revision(subject)
			if rerr != nil {
				return rerr
			}
			revs[key] = rev.Seq
		}
		return err
	})
	return recs, revs, err
}

// SaveWorkspace saves w from a form opened on workspace old ("" for a new
// one) at revision rev: refused with a *ConflictError when old changed
// since, or when w takes a key that someone else's workspace has now. A
// changed key moves the workspace.
func (s *Store) SaveWorkspace(actor string, w Workspace, old string, rev uint64) error {
	return s.Update(func(t *Tx) error {
		if old != "" {
			if err := t.CheckRevision(WorkspaceSubject(old), rev); err != nil {
				return err
			}
		}
		if w.Key == old {
			return t.PutWorkspace(actor, w)
		}
		if _, err := t.Workspace(w.Key); err == nil {
			return t.conflict(WorkspaceSubject(w.Key))
		} else if !isNotFound(err) {
			return err
		}
		if old != "" {
			if err := t.DeleteWorkspace(actor, old); err != nil && !isNotFound(err) {
				return err
			}
		}
		return t.PutWorkspace(actor, w)
	})
}

// SetupRevision is the newest revision among what the setup wizard saves:
// the connection, the agreement type and every product mapping (a deleted
// one too: its revision stays).
func (t *Tx) SetupRevision() (Revision, error) {
	_, rev, err := t.setupRevision()
	return rev, err
}

// setupRevision is SetupRevision with the subject it belongs to.
func (t *Tx) setupRevision() (string, Revision, error) {
	b, err := getBucket(t.tx, bktRevisions)
	if err != nil {
		return "", Revision{}, err
	}
	newest := ""
	var seq uint64
	consider := func(subject string, v []byte) {
		if len(v) == 8 && btoi(v) > seq {
			newest, seq = subject, btoi(v)
		}
	}
	for _, s := range []string{SettingSubject(SettingConnection), SettingSubject(SettingAgreementType)} {
		consider(s, b.Get([]byte(s)))
	}
	prefix := []byte(ProductSubject(""))
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		consider(string(k), v)
	}
	if newest == "" {
		return "", Revision{}, nil
	}
	rev, err := t.Revision(newest)
	return newest, rev, err
}

// CheckSetupRevision refuses, with a *ConflictError naming the newest
// change, a wizard save made on setup settings changed since rev.
func (t *Tx) CheckSetupRevision(rev uint64) error {
	subject, cur, err := t.setupRevision()
	if err != nil || cur.Seq == rev {
		return err
	}
	return &ConflictError{Subject: subject, Want: rev, Now: cur, Ago: max(t.now.Sub(cur.At), 0)}
}

func (s *Store) SetupRevision() (Revision, error) { return viewGet(s, (*Tx).SetupRevision) }
