package storage

// Workspace is one of our tenants bound to a ConnectWise company. Incidents
// carry its Key in "company".
type Workspace struct {
	Key             string `json:"key"`
	CWCompany       string `json:"cw_company"`    // CW company identifier
	CWCompanyID     int    `json:"cw_company_id"` // resolved id; 0 until resolved
	AgreementID     int    `json:"agreement_id"`  // 0: none yet
	PreferredServer string `json:"preferred_server"`
	MaxUsers        int    `json:"max_users"`
}

// Workspace returns one workspace; ErrNotFound if absent.
func (t *Tx) Workspace(key string) (Workspace, error) {
	var w Workspace
	err := getJSON(t.tx, bktWorkspaces, []byte(key), &w)
	return w, err
}

// Workspaces lists all by key; corrupt ones are skipped and reported.
func (t *Tx) Workspaces() ([]Workspace, error) { return listAll[Workspace](t, bktWorkspaces) }

// PutWorkspace stores w and logs it for actor.
func (t *Tx) PutWorkspace(actor string, w Workspace) error {
	if w.Key == "" {
		return invalid("workspace without key")
	}
	changed, err := t.putAudited(bktWorkspaces, []byte(w.Key), actor, w, displayAs[Workspace])
	if changed {
		t.changed(Change{Kind: ChangeWorkspaces, Key: w.Key})
	}
	return err
}

// DeleteWorkspace removes a workspace; ErrNotFound if absent.
func (t *Tx) DeleteWorkspace(actor, key string) error {
	if err := t.deleteAudited(bktWorkspaces, []byte(key), actor, displayAs[Workspace]); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeWorkspaces, Key: key})
	return nil
}

func (s *Store) Workspace(key string) (Workspace, error) {
	return viewGet(s, func(t *Tx) (Workspace, error) { return t.Workspace(key) })
}
func (s *Store) Workspaces() ([]Workspace, error) { return viewGet(s, (*Tx).Workspaces) }
func (s *Store) PutWorkspace(actor string, w Workspace) error {
	return s.Update(func(t *Tx) error { return t.PutWorkspace(actor, w) })
}
func (s *Store) DeleteWorkspace(actor, key string) error {
	return s.Update(func(t *Tx) error { return t.DeleteWorkspace(actor, key) })
}
