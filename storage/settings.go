package storage

import (
	"encoding/json"
	"time"
)

// Connection is the ConnectWise API member. Printing it (fmt, slog, JSON)
// masks PrivateKey.
type Connection struct {
	Site            string `json:"site"`
	CompanyID       string `json:"company_id"`
	PublicKey       string `json:"public_key"`
	PrivateKey      Secret `json:"private_key"`
	ClientID        string `json:"client_id"`
	APIVersion      string `json:"api_version"`
	FallbackCompany string `json:"fallback_company"`
}

// connectionRecord is the stored form: the one place the key is in clear.
type connectionRecord struct {
	Site            string `json:"site"`
	CompanyID       string `json:"company_id"`
	PublicKey       string `json:"public_key"`
	PrivateKey      string `json:"private_key"`
	ClientID        string `json:"client_id"`
	APIVersion      string `json:"api_version"`
	FallbackCompany string `json:"fallback_company"`
}

func (c Connection) record() connectionRecord {
	return connectionRecord{c.Site, c.CompanyID, c.PublicKey, c.PrivateKey.Reveal(), c.ClientID, c.APIVersion, c.FallbackCompany}
}

// Equal reports whether two connections hold the same values (the private
// key compared in constant time), so a caller can skip a write that
// changes nothing.
func (c Connection) Equal(o Connection) bool { return c.record() == o.record() }

func (r connectionRecord) conn() Connection {
	return Connection{r.Site, r.CompanyID, r.PublicKey, NewSecret(r.PrivateKey), r.ClientID, r.APIVersion, r.FallbackCompany}
}

func displayConnection(raw []byte) (any, error) {
	var r connectionRecord
	err := json.Unmarshal(raw, &r)
	return r.conn(), err
}

type intakeRecord struct {
	Token string `json:"token"`
}

func displayIntake(raw []byte) (any, error) {
	var r intakeRecord
	err := json.Unmarshal(raw, &r)
	return struct {
		Token Secret `json:"token"`
	}{NewSecret(r.Token)}, err
}

// Onboarding is the wizard's progress, so an interrupted setup resumes.
type Onboarding struct {
	Step       string            `json:"step"`
	Draft      Connection        `json:"draft"`            // partially entered credentials
	Values     map[string]string `json:"values,omitempty"` // other half-entered fields; never secrets
	VerifiedAt time.Time         `json:"verified_at,omitzero"`
}

type onboardingRecord struct {
	Step       string            `json:"step"`
	Draft      connectionRecord  `json:"draft"`
	Values     map[string]string `json:"values,omitempty"`
	VerifiedAt time.Time         `json:"verified_at,omitzero"`
}

// AgreementType is the default agreement type picked in the wizard.
type AgreementType struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Connection returns the stored connection; ErrNotFound before setup.
func (t *Tx) Connection() (Connection, error) {
	var r connectionRecord
	err := getJSON(t.tx, bktSettings, keyConnection, &r)
	return r.conn(), err
}

// SetConnection stores c and logs it (key masked) for actor.
func (t *Tx) SetConnection(actor string, c Connection) error {
	changed, err := t.putAudited(bktSettings, keyConnection, actor, c.record(), displayConnection)
	if changed {
		t.changed(Change{Kind: ChangeSettings, Key: string(keyConnection)})
	}
	return err
}

// IntakeToken returns the intake bearer token; ErrNotFound if unset.
func (t *Tx) IntakeToken() (Secret, error) {
	var r intakeRecord
	err := getJSON(t.tx, bktSettings, keyIntake, &r)
	return NewSecret(r.Token), err
}

// SetIntakeToken stores the token and logs the change (masked).
func (t *Tx) SetIntakeToken(actor string, tok Secret) error {
	changed, err := t.putAudited(bktSettings, keyIntake, actor, intakeRecord{tok.Reveal()}, displayIntake)
	if changed {
		t.changed(Change{Kind: ChangeSettings, Key: string(keyIntake)})
	}
	return err
}

// Onboarding returns the wizard state; the zero value if never started.
func (t *Tx) Onboarding() (Onboarding, error) {
	var r onboardingRecord
	if err := getJSON(t.tx, bktSettings, keyOnboarding, &r); err != nil && !isNotFound(err) {
		return Onboarding{}, err
	}
	return Onboarding{Step: r.Step, Draft: r.Draft.conn(), Values: r.Values, VerifiedAt: r.VerifiedAt}, nil
}

// SetOnboarding saves wizard progress. Not audited: it changes per
// keystroke; the settings it produces are audited when saved.
func (t *Tx) SetOnboarding(o Onboarding) error {
	r := onboardingRecord{Step: o.Step, Draft: o.Draft.record(), Values: o.Values, VerifiedAt: o.VerifiedAt}
	if err := putJSON(t.tx, bktSettings, keyOnboarding, r); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeSettings, Key: string(keyOnboarding)})
	return nil
}

// AgreementType returns the default agreement type; ErrNotFound if unset.
func (t *Tx) AgreementType() (AgreementType, error) {
	var a AgreementType
	err := getJSON(t.tx, bktSettings, keyAgreementType, &a)
	return a, err
}

// SetAgreementType stores the default agreement type.
func (t *Tx) SetAgreementType(actor string, a AgreementType) error {
	changed, err := t.putAudited(bktSettings, keyAgreementType, actor, a, displayAs[AgreementType])
	if changed {
		t.changed(Change{Kind: ChangeSettings, Key: string(keyAgreementType)})
	}
	return err
}

// Store-level wrappers, one transaction each.

func (s *Store) Connection() (Connection, error) { return viewGet(s, (*Tx).Connection) }
func (s *Store) SetConnection(actor string, c Connection) error {
	return s.Update(func(t *Tx) error { return t.SetConnection(actor, c) })
}
func (s *Store) IntakeToken() (Secret, error) { return viewGet(s, (*Tx).IntakeToken) }
func (s *Store) SetIntakeToken(actor string, tok Secret) error {
	return s.Update(func(t *Tx) error { return t.SetIntakeToken(actor, tok) })
}
func (s *Store) Onboarding() (Onboarding, error) { return viewGet(s, (*Tx).Onboarding) }
func (s *Store) SetOnboarding(o Onboarding) error {
	return s.Update(func(t *Tx) error { return t.SetOnboarding(o) })
}
func (s *Store) AgreementType() (AgreementType, error) { return viewGet(s, (*Tx).AgreementType) }
func (s *Store) SetAgreementType(actor string, a AgreementType) error {
	return s.Update(func(t *Tx) error { return t.SetAgreementType(actor, a) })
}
