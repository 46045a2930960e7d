package setup

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// product is one of our billable products and the wizard's choice for it.
type product struct {
	Key         string
	Existing    bool   // map to an existing catalog item
	Identifier  string // create new: catalog identifier
	Description string // create new: description
	ExistingID  int    // map: catalog item id
	ExistingRef string // map: catalog item identifier
	// Create new: the subcategory and product type picked from
	// ConnectWise's lists (zero: the engine's default pick by name).
	Subcategory, Type storage.Ref
}

// defaultProducts is used when the config lists none: seats and devices are
// what a security platform bills per tenant.
var defaultProducts = []config.Product{
	{Key: "users", CWIdentifier: "SEC-USER", Description: "Security seat (per user)"},
	{Key: "devices", CWIdentifier: "SEC-DEVICE", Description: "Security endpoint (per device)"},
}

func validIdentifier(s string) error {
	switch n := utf8.RuneCountInString(s); {
	case s == "":
		return fmt.Errorf("identifier is empty")
	case n > cwclient.MaxCatalogIdentifier:
		return fmt.Errorf("identifier is %d characters; ConnectWise allows %d", n, cwclient.MaxCatalogIdentifier)
	}
	return nil
}

func validDescription(s string) error {
	if s == "" {
		return fmt.Errorf("description is empty")
	}
	if n := utf8.RuneCountInString(s); n > cwclient.MaxCatalogDescription {
		return fmt.Errorf("description is %d characters; ConnectWise allows %d", n, cwclient.MaxCatalogDescription)
	}
	return nil
}

// initialProducts merges the configured products with stored mappings and
// the wizard's draft values (in that order of precedence, last wins).
func initialProducts(cfg *config.Config, stored []storage.ProductMapping, values map[string]string) []product {
	base := defaultProducts
	if cfg != nil && len(cfg.Products) > 0 {
		base = cfg.Products
	}
	var out []product
	idx := map[string]int{}
	for _, p := range base {
		idx[p.Key] = len(out)
		out = append(out, product{Key: p.Key, Identifier: p.CWIdentifier, Description: p.Description})
	}
	for _, m := range stored {
		i, ok := idx[m.Key]
		if !ok {
			i = len(out)
			idx[m.Key] = i
			out = append(out, product{Key: m.Key})
		}
		if m.Existing != nil {
			out[i].Existing, out[i].ExistingID, out[i].ExistingRef = true, m.Existing.ID, m.Existing.Identifier
		} else if m.CreateNew != nil {
			out[i].Existing = false
			out[i].Identifier, out[i].Description = m.CreateNew.Identifier, m.CreateNew.Description
			out[i].Subcategory, out[i].Type = m.CreateNew.Subcategory, m.CreateNew.Type
		}
	}
	for i := range out {
		out[i].restore(values)
	}
	return out
}

func (p *product) prefix() string { return "product." + p.Key + "." }

// save writes the choice into the wizard's non-secret draft values.
func (p *product) save(values map[string]string) {
	pre := p.prefix()
	mode := "new"
	if p.Existing {
		mode = "existing"
	}
	values[pre+"mode"] = mode
	values[pre+"identifier"] = p.Identifier
	values[pre+"description"] = p.Description
	values[pre+"existing_id"] = strconv.Itoa(p.ExistingID)
	values[pre+"existing_identifier"] = p.ExistingRef
	values[pre+"subcategory_id"], values[pre+"subcategory"] = strconv.Itoa(p.Subcategory.ID), p.Subcategory.Name
	values[pre+"type_id"], values[pre+"type"] = strconv.Itoa(p.Type.ID), p.Type.Name
}

func (p *product) restore(values map[string]string) {
	pre := p.prefix()
	mode, ok := values[pre+"mode"]
	if !ok {
		return
	}
	p.Existing = mode == "existing"
	p.Identifier = values[pre+"identifier"]
	p.Description = values[pre+"description"]
	p.ExistingID, _ = strconv.Atoi(values[pre+"existing_id"])
	p.ExistingRef = values[pre+"existing_identifier"]
	p.Subcategory.ID, _ = strconv.Atoi(values[pre+"subcategory_id"])
	p.Subcategory.Name = values[pre+"subcategory"]
	p.Type.ID, _ = strconv.Atoi(values[pre+"type_id"])
	p.Type.Name = values[pre+"type"]
}

// problem says what keeps this choice from being saved, or "".
func (p *product) problem() string {
	if p.Existing {
		if p.ExistingID == 0 {
			return "pick a catalog item"
		}
		return ""
	}
	if err := validIdentifier(p.Identifier); err != nil {
		return err.Error()
	}
	if err := validDescription(p.Description); err != nil {
		return err.Error()
	}
	return ""
}

func (p *product) mapping() storage.ProductMapping {
	if p.Existing {
		return storage.ProductMapping{Key: p.Key, Existing: &storage.CatalogItemRef{ID: p.ExistingID, Identifier: p.ExistingRef}}
	}
	return storage.ProductMapping{Key: p.Key, CreateNew: &storage.NewCatalogItem{Identifier: p.Identifier, Description: p.Description,
		Subcategory: p.Subcategory, Type: p.Type}}
}

func (p *product) summary() string {
	if p.Existing {
		if p.ExistingID == 0 {
			return "map to existing: (none chosen)"
		}
		return fmt.Sprintf("map to existing %s (#%d)", p.ExistingRef, p.ExistingID)
	}
	s := "create new " + strings.TrimSpace(p.Identifier) + " — " + p.Description
	if p.Subcategory.Name != "" || p.Type.Name != "" {
		s += " (" + orDefault(p.Subcategory.Name) + " / " + orDefault(p.Type.Name) + ")"
	}
	return s
}

func orDefault(name string) string {
	if name == "" {
		return "default"
	}
	return name
}
