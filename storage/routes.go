package storage

// Ref names a ConnectWise object by name, by id, or both (a name from the
// config, an id once resolved against the lookup tables).
type Ref struct {
	Name string `json:"name,omitempty"`
	ID   int    `json:"id,omitempty"`
}

// IsZero reports whether neither name nor id is set.
func (r Ref) IsZero() bool { return r.Name == "" && r.ID == 0 }

// Route says where tickets for one alert type go.
type Route struct {
	AlertType    string `json:"alert_type"`
	Enabled      bool   `json:"enabled"`
	Board        Ref    `json:"board"`
	Status       Ref    `json:"status"`
	Priority     Ref    `json:"priority"`
	Type         Ref    `json:"type,omitzero"`
	Subtype      Ref    `json:"subtype,omitzero"`
	ClosedStatus Ref    `json:"closed_status,omitzero"`
	// Per-route linking of the ticket's contact and configuration, on
	// unless switched off: the zero value is on, also for routes stored
	// before the switches existed. (Plain bools: a Route is a map key.)
	ContactLinkOff       bool `json:"contact_link_off,omitempty"`
	ConfigurationLinkOff bool `json:"configuration_link_off,omitempty"`
}

// LinksContact reports whether tickets of this route get their contact set
// (config and Alerts page: link_contact).
func (r Route) LinksContact() bool { return !r.ContactLinkOff }

// LinksConfiguration reports whether tickets of this route get the
// device's configuration attached (link_configuration).
func (r Route) LinksConfiguration() bool { return !r.ConfigurationLinkOff }

// Route returns the route of one alert type; ErrNotFound if absent.
func (t *Tx) Route(alertType string) (Route, error) {
	var r Route
	err := getJSON(t.tx, bktRoutes, []byte(alertType), &r)
	return r, err
}

// Routes lists all routes by alert type; corrupt ones are skipped and reported.
func (t *Tx) Routes() ([]Route, error) { return listAll[Route](t, bktRoutes) }

// PutRoute stores r and logs it for actor.
func (t *Tx) PutRoute(actor string, r Route) error {
	if r.AlertType == "" {
		return invalid("route without alert_type")
	}
	changed, err := t.putAudited(bktRoutes, []byte(r.AlertType), actor, r, displayAs[Route])
	if changed {
		t.changed(Change{Kind: ChangeRoutes, Key: r.AlertType})
	}
	return err
}

// DeleteRoute removes a route; ErrNotFound if absent.
func (t *Tx) DeleteRoute(actor, alertType string) error {
	if err := t.deleteAudited(bktRoutes, []byte(alertType), actor, displayAs[Route]); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeRoutes, Key: alertType})
	return nil
}

func (s *Store) Route(alertType string) (Route, error) {
	return viewGet(s, func(t *Tx) (Route, error) { return t.Route(alertType) })
}
func (s *Store) Routes() ([]Route, error) { return viewGet(s, (*Tx).Routes) }
func (s *Store) PutRoute(actor string, r Route) error {
	return s.Update(func(t *Tx) error { return t.PutRoute(actor, r) })
}
func (s *Store) DeleteRoute(actor, alertType string) error {
	return s.Update(func(t *Tx) error { return t.DeleteRoute(actor, alertType) })
}
