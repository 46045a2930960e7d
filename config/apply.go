package config

import (
	"errors"
	"reflect"
	"strconv"

	"github.com/cwbridge/cwbridge/storage"
)

// Apply writes what a config file (or the environment) sets into the
// store, in one transaction: config wins for the keys it sets, everything
// else stays as the wizard and the screens left it. Records are written
// only when they change, so restarting with the same file adds no audit
// entries.
func Apply(s *storage.Store, cfg *Config) error {
	actor := "config"
	if cfg.File != "" {
		actor = "config " + cfg.File
	}
	return s.Update(func(t *storage.Tx) error {
		if err := applyConnection(t, actor, cfg); err != nil {
			return err
		}
		if cfg.IsSet("intake", "token") {
			tok := storage.NewSecret(cfg.Intake.Token.Reveal())
			old, err := t.IntakeToken()
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if !old.Equal(tok) {
				if err := t.SetIntakeToken(actor, tok); err != nil {
					return err
				}
			}
		}
		for i, r := range cfg.Routes {
			set := func(key string) bool { return cfg.IsSet("routes", strconv.Itoa(i), key) }
			if err := applyRoute(t, actor, r, set); err != nil {
				return err
			}
		}
		for _, p := range cfg.Products {
			if err := applyProduct(t, actor, p); err != nil {
				return err
			}
		}
		for _, w := range cfg.Workspaces {
			if err := applyWorkspace(t, actor, w); err != nil {
				return err
			}
		}
		return nil
	})
}

func applyConnection(t *storage.Tx, actor string, cfg *Config) error {
	old, err := t.Connection()
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	c, cw := old, cfg.ConnectWise
	set := func(key string, dst *string, v string) {
		if cfg.IsSet("connectwise", key) {
			*dst = v
		}
	}
	set("site", &c.Site, cw.Site)
	set("company_id", &c.CompanyID, cw.CompanyID)
	set("public_key", &c.PublicKey, cw.PublicKey)
	set("client_id", &c.ClientID, cw.ClientID)
	set("api_version", &c.APIVersion, cw.APIVersion)
	set("fallback_company", &c.FallbackCompany, cw.FallbackCompany)
	if cfg.IsSet("connectwise", "private_key") {
		c.PrivateKey = storage.NewSecret(cw.PrivateKey.Reveal())
	}
	if c.APIVersion == "" {
		c.APIVersion = cw.APIVersion // the default, so a stored connection is complete
	}
	if c.Equal(old) {
		return nil
	}
	return t.SetConnection(actor, c)
}

// refFrom reads a route value: digits are a ConnectWise id, anything else a
// name. A name already resolved keeps its id, so a restart does not force
// every lookup again.
func refFrom(v string, old storage.Ref) storage.Ref {
	if v == "" {
		return storage.Ref{}
	}
	if id, err := strconv.Atoi(v); err == nil && id > 0 {
		return storage.Ref{ID: id}
	}
	if old.Name == v {
		return old
	}
	return storage.Ref{Name: v}
}

// applyRoute stores a [[routes]] entry; set tells which of its keys the
// file names (a link switch the file leaves out keeps the screen's choice).
func applyRoute(t *storage.Tx, actor string, cr Route, set func(key string) bool) error {
	old, err := t.Route(cr.AlertType)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	r := storage.Route{
		AlertType:            cr.AlertType,
		Enabled:              cr.Enabled,
		Board:                refFrom(cr.Board, old.Board),
		Status:               refFrom(cr.Status, old.Status),
		Priority:             refFrom(cr.Priority, old.Priority),
		Type:                 refFrom(cr.Type, old.Type),
		Subtype:              old.Subtype, // not a config key: the screen's choice stays
		ClosedStatus:         refFrom(cr.ClosedStatus, old.ClosedStatus),
		ContactLinkOff:       linkOff(set("link_contact"), cr.LinkContact, old.ContactLinkOff),
		ConfigurationLinkOff: linkOff(set("link_configuration"), cr.LinkConfiguration, old.ConfigurationLinkOff),
	}
	if r.Board != old.Board {
		r.Subtype = storage.Ref{} // a subtype belongs to its board
	}
	if reflect.DeepEqual(r, old) {
		return nil
	}
	return t.PutRoute(actor, r)
}

// linkOff is the stored "off" of a link switch: the file's when it names
// the key, else the stored one.
func linkOff(set, on, oldOff bool) bool {
	if !set {
		return oldOff
	}
	return !on
}

func applyProduct(t *storage.Tx, actor string, p Product) error {
	old, err := t.ProductMapping(p.Key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if old.Existing != nil && old.Existing.Identifier == p.CWIdentifier {
		if old.SeatBased == p.SeatBased {
			return nil // already mapped to that very catalog item
		}
		old.SeatBased = p.SeatBased
		return t.PutProductMapping(actor, old)
	}
	m := storage.ProductMapping{Key: p.Key, SeatBased: p.SeatBased,
		CreateNew: &storage.NewCatalogItem{Identifier: p.CWIdentifier, Description: p.Description}}
	if old.CreateNew != nil && old.CreateNew.Identifier == p.CWIdentifier {
		// The wizard's picks (subcategory, type, customer description) stay.
		nc := *old.CreateNew
		nc.Description = p.Description
		m.CreateNew = &nc
	}
	if reflect.DeepEqual(m, old) {
		return nil
	}
	return t.PutProductMapping(actor, m)
}

func applyWorkspace(t *storage.Tx, actor string, cw Workspace) error {
	old, err := t.Workspace(cw.Key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	w := storage.Workspace{Key: cw.Key, CWCompany: cw.CWCompany, AgreementID: cw.AgreementID,
		PreferredServer: cw.PreferredServer, MaxUsers: cw.MaxUsers}
	if old.CWCompany == cw.CWCompany {
		w.CWCompanyID = old.CWCompanyID
	}
	if w == old {
		return nil
	}
	return t.PutWorkspace(actor, w)
}
