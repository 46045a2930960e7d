package storage

import (
	"slices"
	"time"
)

// KeyState is the ticket state of an incident key.
type KeyState string

const (
	// KeyPendingCreate is written before the ticket create call. Finding it
	// at startup means the process died mid-create: look the ticket up by
	// ExternalXRef before creating another.
	KeyPendingCreate KeyState = "pending-create"
	KeyOpen          KeyState = "open"
	KeyClosed        KeyState = "closed"
)

// IncidentKey is the ticket behind one incident key (one ticket per open key).
type IncidentKey struct {
	Key          string    `json:"key"`
	Workspace    string    `json:"workspace"`
	CWCompany    string    `json:"cw_company,omitempty"` // CW company identifier
	CWCompanyID  int       `json:"cw_company_id,omitempty"`
	AlertType    string    `json:"alert_type"`
	TicketID     int       `json:"ticket_id,omitempty"`
	ExternalXRef string    `json:"external_xref,omitempty"`
	State        KeyState  `json:"state"`
	PendingSince time.Time `json:"pending_since,omitzero"` // when the create began
	// UnknownSince is when a create of this pending key got no usable
	// answer (a timeout, a lost or broken answer): ConnectWise may commit
	// it late, so the key is searched for, not created again, for a while.
	UnknownSince time.Time `json:"unknown_since,omitzero"`
	CreatedAt    time.Time `json:"created_at,omitzero"` // when the ticket was made
	LastNoteAt   time.Time `json:"last_note_at,omitzero"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	Occurrences  int       `json:"occurrences"`       // incidents seen while this ticket lived
	Unnoted      int       `json:"unnoted,omitempty"` // of those, not yet on a note (burst folding)

	// Generation counts tickets made for this key: after a close, a new
	// trigger opens generation+1 with its own ExternalXRef.
	Generation int `json:"generation,omitempty"`
	// The fold buffer: repeats waiting for one note.
	FoldFirst      time.Time `json:"fold_first,omitzero"`
	FoldLast       time.Time `json:"fold_last,omitzero"`
	FoldUsers      []string  `json:"fold_users,omitempty"`
	FlushScheduled bool      `json:"flush_scheduled,omitempty"`
	// ResolveNoted marks the resolution note as posted, so a retried close
	// does not post it twice.
	ResolveNoted bool `json:"resolve_noted,omitempty"`
	// What the actions need to know about the latest incident.
	LastIncident string `json:"last_incident,omitempty"`
	LastUser     string `json:"last_user,omitempty"`
	LastDevice   string `json:"last_device,omitempty"`
	// Links is what was linked to the ticket (contact, configuration) and
	// why not, for the Feed detail; nil when the route links nothing.
	Links *TicketLinks `json:"links,omitempty"`
}

// TicketLinks is the outcome of linking a ticket's contact and device.
// Contact and Configuration are one-line sentences a person reads:
// "contact linked: Ann Smith", "no contact matched", "2 configurations
// named PC-7: none attached". Empty means not attempted (switched off or
// nothing named) or, with Pending, not finished yet.
type TicketLinks struct {
	ContactID       int    `json:"contact_id,omitempty"`
	Contact         string `json:"contact,omitempty"`
	ConfigurationID int    `json:"configuration_id,omitempty"`
	Configuration   string `json:"configuration,omitempty"`
	Pending         bool   `json:"pending,omitempty"` // a link item is still to run
}

func (k IncidentKey) validate() error {
	switch {
	case k.Key == "":
		return invalid("incident key without key")
	case k.State != KeyPendingCreate && k.State != KeyOpen && k.State != KeyClosed:
		return invalid("incident key %q: state %q", k.Key, k.State)
	}
	return nil
}

// IncidentKey returns one key's ticket state; ErrNotFound if none.
func (t *Tx) IncidentKey(key string) (IncidentKey, error) {
	var k IncidentKey
	err := getJSON(t.tx, bktKeys, []byte(key), &k)
	return k, err
}

// PutIncidentKey writes k as given.
func (t *Tx) PutIncidentKey(k IncidentKey) error {
	if err := k.validate(); err != nil {
		return err
	}
	if !t.tx.Writable() {
		return putJSON(t.tx, bktKeys, []byte(k.Key), k) // fails: read-only
	}
	if !slices.Contains(t.keysWritten, k.Key) {
		t.s.keys.begin(k.Key)
		t.keysWritten = append(t.keysWritten, k.Key)
	}
	if err := t.indexTicket(k); err != nil {
		return err
	}
	return putJSON(t.tx, bktKeys, []byte(k.Key), k)
}

// indexTicket records ticket_keys/<ticket> = key once the key has a
// ticket. An entry is never moved: a ticket belongs to one key for good,
// also after the key closes and opens a later ticket.
func (t *Tx) indexTicket(k IncidentKey) error {
	if k.TicketID <= 0 {
		return nil
	}
	b, err := getBucket(t.tx, bktTicketKeys)
	if err != nil {
		return err
	}
	id := itob(uint64(k.TicketID))
	if string(b.Get(id)) == k.Key {
		return nil
	}
	return b.Put(id, []byte(k.Key))
}

// IncidentKeyByTicket returns the key whose ticket ticketID is (see
// indexTicket); ErrNotFound if no key has had that ticket.
func (t *Tx) IncidentKeyByTicket(ticketID int) (IncidentKey, error) {
	b, err := getBucket(t.tx, bktTicketKeys)
	if err != nil {
		return IncidentKey{}, err
	}
	id := itob(uint64(max(ticketID, 0)))
	key := b.Get(id)
	if key == nil {
		return IncidentKey{}, notFound(bktTicketKeys, id)
	}
	return t.IncidentKey(string(key))
}

func (s *Store) IncidentKeyByTicket(ticketID int) (IncidentKey, error) {
	return viewGet(s, func(t *Tx) (IncidentKey, error) { return t.IncidentKeyByTicket(ticketID) })
}

// UpdateIncidentKey reads key (the zero value with exists false if absent),
// lets fn change it and writes it back.
func (t *Tx) UpdateIncidentKey(key string, fn func(k *IncidentKey, exists bool) error) error {
	k, err := t.IncidentKey(key)
	exists := err == nil
	if err != nil && !isNotFound(err) {
		return err
	}
	if !exists {
		k = IncidentKey{Key: key}
	}
	if err := fn(&k, exists); err != nil {
		return err
	}
	k.Key = key
	return t.PutIncidentKey(k)
}

// BeginTicketCreate records the pending-create marker for k (state and
// PendingSince set here) before the engine calls ConnectWise. It refuses a
// key whose ticket is open, which would be a second ticket.
func (t *Tx) BeginTicketCreate(k IncidentKey) error {
	if old, err := t.IncidentKey(k.Key); err == nil && old.State == KeyOpen {
		return invalid("incident key %q already has open ticket %d", k.Key, old.TicketID)
	} else if err != nil && !isNotFound(err) {
		return err
	}
	k.State = KeyPendingCreate
	k.PendingSince = t.now
	k.TicketID, k.CreatedAt, k.ClosedAt, k.LastNoteAt, k.UnknownSince = 0, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return t.PutIncidentKey(k)
}

// TicketCreated clears the marker: the key is open on ticketID.
func (t *Tx) TicketCreated(key string, ticketID int) error {
	return t.UpdateIncidentKey(key, func(k *IncidentKey, exists bool) error {
		if !exists || k.State != KeyPendingCreate {
			return invalid("incident key %q is %q, not pending-create", key, k.State)
		}
		k.State, k.TicketID, k.CreatedAt, k.PendingSince, k.UnknownSince = KeyOpen, ticketID, t.now, time.Time{}, time.Time{}
		return nil
	})
}

// IncidentKeys lists every key record; corrupt ones are skipped and
// reported. It scans the bucket: for startup, not per incident.
func (t *Tx) IncidentKeys() ([]IncidentKey, error) { return listAll[IncidentKey](t, bktKeys) }

func (s *Store) IncidentKeys() ([]IncidentKey, error) { return viewGet(s, (*Tx).IncidentKeys) }

// IncidentKey is Tx.IncidentKey served from an in-memory cache when it can
// be (see keyCache); this is the engine's per-incident read.
func (s *Store) IncidentKey(key string) (IncidentKey, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return IncidentKey{}, ErrClosed
	}
	if k, ok := s.keys.get(key); ok {
		return k, nil
	}
	gen := s.keys.snapshot()
	k, err := viewGet(s, func(t *Tx) (IncidentKey, error) { return t.IncidentKey(key) })
	if err == nil {
		s.keys.fill(key, k, gen)
	}
	return k, err
}
func (s *Store) PutIncidentKey(k IncidentKey) error {
	return s.Update(func(t *Tx) error { return t.PutIncidentKey(k) })
}
func (s *Store) UpdateIncidentKey(key string, fn func(k *IncidentKey, exists bool) error) error {
	return s.Update(func(t *Tx) error { return t.UpdateIncidentKey(key, fn) })
}
func (s *Store) BeginTicketCreate(k IncidentKey) error {
	return s.Update(func(t *Tx) error { return t.BeginTicketCreate(k) })
}
func (s *Store) TicketCreated(key string, ticketID int) error {
	return s.Update(func(t *Tx) error { return t.TicketCreated(key, ticketID) })
}
