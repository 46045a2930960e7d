package storage

// ProductMapping maps one of our products (the [[products]] key that
// /v1/usage names) to a ConnectWise catalog item: exactly one of CreateNew
// and Existing is set.
type ProductMapping struct {
	Key       string          `json:"key"`
	CreateNew *NewCatalogItem `json:"create_new,omitempty"`
	Existing  *CatalogItemRef `json:"existing,omitempty"`
	// SeatBased products bill each workspace's max_users; the others bill
	// what POST /v1/usage sent.
	SeatBased bool `json:"seat_based,omitempty"`
}

// NewCatalogItem is a catalog item to create.
type NewCatalogItem struct {
	Identifier  string `json:"identifier"`
	Description string `json:"description"`
	// CustomerDescription defaults to Description.
	CustomerDescription string `json:"customer_description,omitempty"`
	// Subcategory and Type are picked in the wizard from ConnectWise's own
	// lists; zero: the engine's default pick from those lists.
	Subcategory Ref `json:"subcategory,omitzero"`
	Type        Ref `json:"type,omitzero"`
}

// CatalogItemRef is an existing catalog item.
type CatalogItemRef struct {
	ID         int    `json:"id"`
	Identifier string `json:"identifier"`
}

func (m ProductMapping) validate() error {
	if m.Key == "" {
		return invalid("product mapping without key")
	}
	if (m.CreateNew == nil) == (m.Existing == nil) {
		return invalid("product %q: set exactly one of create_new and existing", m.Key)
	}
	return nil
}

// ProductMapping returns one mapping; ErrNotFound if absent.
func (t *Tx) ProductMapping(key string) (ProductMapping, error) {
	var m ProductMapping
	err := getJSON(t.tx, bktProducts, []byte(key), &m)
	return m, err
}

// ProductMappings lists all mappings by key; corrupt ones are skipped and
// reported in the error.
func (t *Tx) ProductMappings() ([]ProductMapping, error) {
	return listAll[ProductMapping](t, bktProducts)
}

// PutProductMapping stores m and logs it for actor.
func (t *Tx) PutProductMapping(actor string, m ProductMapping) error {
	if err := m.validate(); err != nil {
		return err
	}
	changed, err := t.putAudited(bktProducts, []byte(m.Key), actor, m, displayAs[ProductMapping])
	if changed {
		t.changed(Change{Kind: ChangeProducts, Key: m.Key})
	}
	return err
}

// DeleteProductMapping removes a mapping; ErrNotFound if absent.
func (t *Tx) DeleteProductMapping(actor, key string) error {
	if err := t.deleteAudited(bktProducts, []byte(key), actor, displayAs[ProductMapping]); err != nil {
		return err
	}
	t.changed(Change{Kind: ChangeProducts, Key: key})
	return nil
}

func (s *Store) ProductMapping(key string) (ProductMapping, error) {
	return viewGet(s, func(t *Tx) (ProductMapping, error) { return t.ProductMapping(key) })
}
func (s *Store) ProductMappings() ([]ProductMapping, error) {
	return viewGet(s, (*Tx).ProductMappings)
}
func (s *Store) PutProductMapping(actor string, m ProductMapping) error {
	return s.Update(func(t *Tx) error { return t.PutProductMapping(actor, m) })
}
func (s *Store) DeleteProductMapping(actor, key string) error {
	return s.Update(func(t *Tx) error { return t.DeleteProductMapping(actor, key) })
}

// listAll decodes a whole bucket of T in key order, skipping-and-reporting
// corrupt values.
func listAll[T any](t *Tx, p bucketPath) ([]T, error) {
	var out []T
	err := listJSON(t.tx, p, func(k, v []byte) error {
		var x T
		if err := decode(p, k, v, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}
