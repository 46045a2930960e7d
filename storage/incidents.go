package storage

import (
	"strings"
	"time"
)

// IncidentState is where an incident is in its life (GET /v1/incidents/{id}).
type IncidentState string

const (
	StateQueued   IncidentState = "queued"
	StateTicketed IncidentState = "ticketed"
	StateNoted    IncidentState = "noted"
	StateClosed   IncidentState = "closed"
	StateFailed   IncidentState = "failed"
	StateDropped  IncidentState = "dropped"
)

// Incident is one security incident as taken in, plus its progress.
type Incident struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Company     string    `json:"company"`
	Title       string    `json:"title"`
	Severity    string    `json:"severity,omitempty"`
	Key         string    `json:"key,omitempty"`
	Status      string    `json:"status,omitempty"` // firing | resolved
	Description string    `json:"description,omitempty"`
	User        string    `json:"user,omitempty"`
	Device      string    `json:"device,omitempty"`
	Domain      string    `json:"domain,omitempty"`
	SourceIP    string    `json:"source_ip,omitempty"`
	Reasons     []string  `json:"reasons,omitempty"`
	OccurredAt  time.Time `json:"occurred_at,omitzero"`

	ReceivedAt time.Time     `json:"received_at,omitzero"`
	State      IncidentState `json:"state"`
	TicketID   int           `json:"ticket_id,omitempty"`
	Error      string        `json:"error,omitempty"`
	// DoneAt is when it was closed or dropped, stamped by the store;
	// retention counts from it.
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Severities are an incident's severities, lowest first: the intake
// accepts these, the screens filter by them.
var Severities = []string{"low", "medium", "high", "critical"}

// MaxIncidentIDLen is the contract's limit on an incident id.
const MaxIncidentIDLen = 200

// DefaultIncidentKey is the dedup key of an incident that brings none. The
// intake stamps it on incidents it takes in and the engine derives it for
// incidents stored without a key, so both must use this one rule.
func DefaultIncidentKey(company, alertType, title string) string {
	return company + "|" + alertType + "|" + title
}

// KeyOf is an incident's key: the one it brought (or the intake stamped on
// it), else the default, scoped by the workspace it came for, so two
// tenants that send the same key never share a ticket. The outbox item
// carries it from enqueue on, and the engine keys tickets by it.
func KeyOf(inc Incident) string {
	k := inc.Key
	if k == "" {
		k = DefaultIncidentKey(inc.Company, inc.Type, inc.Title)
	}
	return ScopedKey(inc.Company, k)
}

// ScopedKey puts key under workspace: "workspace|key". A key that already
// starts so (every default key does) is kept. A "|" or "\" in the
// workspace is escaped, so no two workspaces' scopes can overlap.
func ScopedKey(workspace, key string) string {
	prefix := strings.NewReplacer(`\`, `\\`, "|", `\|`).Replace(workspace) + "|"
	if strings.HasPrefix(key, prefix) {
		return key
	}
	return prefix + key
}

// Incident returns one incident; ErrNotFound if absent.
func (t *Tx) Incident(id string) (Incident, error) {
	var inc Incident
	err := getJSON(t.tx, bktIncidents, []byte(id), &inc)
	return inc, err
}

// UpdateIncident applies fn to a stored incident and writes it back. The id
// cannot be changed.
func (t *Tx) UpdateIncident(id string, fn func(*Incident) error) error {
	inc, err := t.Incident(id)
	if err != nil {
		return err
	}
	if err := fn(&inc); err != nil {
		return err
	}
	inc.ID = id
	return putJSON(t.tx, bktIncidents, []byte(id), inc)
}

// SetIncidentState records progress: state, ticket id (0 keeps the old one)
// and error text (cleared when empty).
func (t *Tx) SetIncidentState(id string, state IncidentState, ticketID int, errText string) error {
	return t.UpdateIncident(id, func(inc *Incident) error {
		inc.State = state
		if ticketID != 0 {
			inc.TicketID = ticketID
		}
		inc.Error = errText
		if state == StateClosed || state == StateDropped {
			inc.DoneAt = t.now
		}
		return nil
	})
}

func (s *Store) Incident(id string) (Incident, error) {
	return viewGet(s, func(t *Tx) (Incident, error) { return t.Incident(id) })
}
func (s *Store) UpdateIncident(id string, fn func(*Incident) error) error {
	return s.Update(func(t *Tx) error { return t.UpdateIncident(id, fn) })
}
func (s *Store) SetIncidentState(id string, state IncidentState, ticketID int, errText string) error {
	return s.Update(func(t *Tx) error { return t.SetIncidentState(id, state, ticketID, errText) })
}
