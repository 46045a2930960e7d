package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// CatalogOutcome is what became of one product's catalog item, for the
// wizard's summary and the Billing page.
type CatalogOutcome struct {
	Product    string `json:"product"`
	Identifier string `json:"identifier"`
	ItemID     int    `json:"item_id,omitempty"`
	Outcome    string `json:"outcome"` // storage.CatalogMapped|Adopted|Created|Pending|Failed
	Error      string `json:"error,omitempty"`
	Fix        string `json:"fix,omitempty"`
}

// CatalogChoices are ConnectWise's own lists the wizard offers for a new
// catalog item, with the engine's default pick of each (0: the list is
// empty). The defaults are chosen by name from what the site has, never a
// fixed id.
type CatalogChoices struct {
	Subcategories      []cwclient.ProductSubCategory `json:"subcategories"`
	Types              []cwclient.ProductType        `json:"types"`
	DefaultSubcategory int                           `json:"default_subcategory"`
	DefaultType        int                           `json:"default_type"`
}

// CatalogChoices fetches the active subcategories and product types.
func (e *Engine) CatalogChoices(ctx context.Context) (CatalogChoices, error) {
	c, err := e.cw()
	if err != nil {
		return CatalogChoices{}, err
	}
	out, err := CatalogChoicesFrom(ctx, c)
	e.billNote(err, "")
	return out, err
}

// CatalogChoicesFrom reads the choices through c: the engine's client, or
// the wizard's for credentials not saved yet.
func CatalogChoicesFrom(ctx context.Context, c *cwclient.Client) (CatalogChoices, error) {
	var out CatalogChoices
	subs, err := c.ProductSubCategories(ctx)
	if err != nil {
		return out, err
	}
	types, err := c.ProductTypes(ctx)
	if err != nil {
		return out, err
	}
	for _, s := range subs {
		if !s.InactiveFlag {
			out.Subcategories = append(out.Subcategories, s)
		}
	}
	for _, t := range types {
		if !t.InactiveFlag {
			out.Types = append(out.Types, t)
		}
	}
	// A subcategory for security services, else the site's default; a
	// service type, else the default.
	out.DefaultSubcategory = pickByName(out.Subcategories, func(s cwclient.ProductSubCategory) (int, string, bool) { return s.ID, s.Name, s.DefaultFlag },
		"security", "managed")
	out.DefaultType = pickByName(out.Types, func(t cwclient.ProductType) (int, string, bool) { return t.ID, t.Name, t.DefaultFlag },
		"service")
	return out, nil
}

// pickByName returns the id of the first item whose name contains the
// earliest of words (case-insensitive), else the one ConnectWise flags as
// default, else the first.
func pickByName[T any](items []T, idName func(T) (int, string, bool), words ...string) int {
	for _, w := range words {
		for _, it := range items {
			if id, name, _ := idName(it); strings.Contains(strings.ToLower(name), w) {
				return id
			}
		}
	}
	for _, it := range items {
		if id, _, def := idName(it); def {
			return id
		}
	}
	if len(items) > 0 {
		id, _, _ := idName(items[0])
		return id
	}
	return 0
}

// EnsureCatalogItems makes every product mapping real in ConnectWise and
// returns each one's outcome, in product order. "Map to existing" stores
// the chosen item's id; "create new" adopts an item with the identifier if
// there is one, else creates it. A create whose answer was lost is followed
// by searches, never a second POST, for the create search window. The
// wizard calls it when its summary is saved; the engine at start and when
// the products change.
func (e *Engine) EnsureCatalogItems(ctx context.Context) []CatalogOutcome {
	e.bill.mu.Lock()
	defer e.bill.mu.Unlock()
	return e.ensureCatalogItems(ctx)
}

func (e *Engine) ensureCatalogItems(ctx context.Context) []CatalogOutcome {
	maps, err := e.store.ProductMappings()
	if err != nil && len(maps) == 0 {
		return []CatalogOutcome{{Outcome: storage.CatalogFailed, Error: "cannot read the product mappings: " + err.Error()}}
	}
	var choices *CatalogChoices // fetched once, when a create needs a default
	out := make([]CatalogOutcome, 0, len(maps))
	for _, m := range maps {
		st := e.ensureCatalogItem(ctx, m, &choices)
		if old, err := e.store.CatalogState(m.Key); err != nil || old.Outcome != st.Outcome || old.ItemID != st.ItemID || old.Error != st.Error {
			if err := e.store.PutCatalogState(st); err != nil {
				st.Outcome, st.Error = storage.CatalogFailed, "cannot store the outcome: "+err.Error()
			} else {
				e.catalogFeed(st)
			}
		}
		out = append(out, CatalogOutcome{Product: st.Product, Identifier: st.Identifier, ItemID: st.ItemID,
			Outcome: st.Outcome, Error: st.Error, Fix: st.Fix})
	}
	return out
}

func (e *Engine) catalogFeed(st storage.CatalogState) {
	msg := fmt.Sprintf("catalog item %s for product %s: %s", st.Identifier, st.Product, st.Outcome)
	if st.Error != "" {
		msg += ": " + st.Error
	}
	if _, err := e.store.AppendFeed(storage.FeedEvent{Kind: storage.FeedBilling, Key: st.Product, Message: msg}); err != nil {
		e.log.Warn("billing: cannot write the feed", "error", err)
	}
}

// Fixes shown with catalog failures.
const (
	fixCatalogPermission = "give the API member's security role Procurement › Product Catalog: Add (and Inquire) = All, then save the products again"
	fixCatalogInactive   = "make the item active in ConnectWise, or map the product to another item"
	fixCatalogEdit       = "edit the product in the wizard (identifier at most 25 characters, a subcategory and a type ConnectWise lists)"
	fixCatalogMissing    = "map the product to an item that exists, or choose \"create new\""
	fixCatalogUnreached  = "it is tried again at the next sync; check the ConnectWise connection"
)

func (e *Engine) ensureCatalogItem(ctx context.Context, m storage.ProductMapping, choices **CatalogChoices) storage.CatalogState {
	st := storage.CatalogState{Product: m.Key}
	if m.Existing != nil {
		st.Identifier = m.Existing.Identifier
		if m.Existing.ID > 0 {
			st.ItemID, st.Outcome = m.Existing.ID, storage.CatalogMapped
			return st
		}
	} else if m.CreateNew != nil {
		st.Identifier = m.CreateNew.Identifier
	}
	old, err := e.store.CatalogState(m.Key)
	if err == nil && old.Identifier == st.Identifier {
		if old.Ready() {
			return old
		}
		st.PendingSince, st.UnknownSince = old.PendingSince, old.UnknownSince
	}
	c, err := e.cw()
	if err != nil {
		return catalogFailed(st, "ConnectWise is not set up: "+err.Error(), fixCatalogUnreached)
	}
	found, err := c.CatalogItemByIdentifier(ctx, st.Identifier)
	e.billNote(err, "")
	if err != nil {
		return catalogCallFailed(st, "looking the item up", err)
	}
	if len(found) > 0 {
		it := found[0]
		if it.InactiveFlag {
			return catalogFailed(st, fmt.Sprintf("catalog item %s (id %d) is inactive", it.Identifier, it.ID), fixCatalogInactive)
		}
		st.ItemID, st.Outcome, st.PendingSince, st.UnknownSince = it.ID, storage.CatalogAdopted, time.Time{}, time.Time{}
		if m.Existing != nil {
			st.Outcome = storage.CatalogMapped
		} else if !old.PendingSince.IsZero() && old.Identifier == st.Identifier {
			st.Outcome = storage.CatalogCreated // our own create, answered late or lost
		}
		return st
	}
	if m.Existing != nil {
		return catalogFailed(st, fmt.Sprintf("no catalog item %s in ConnectWise", st.Identifier), fixCatalogMissing)
	}
	if since := st.UnknownSince; !since.IsZero() {
		if left := since.Add(e.o.Config.Engine.CreateSearchWindow.Duration).Sub(e.o.Now()); left > 0 {
			st.Outcome = storage.CatalogPending
			st.Error = fmt.Sprintf("a create got no answer; searching for %s, %s before it may be created again", st.Identifier, left.Round(time.Second))
			return st
		}
	}
	item, fail := e.newCatalogItem(ctx, c, m.CreateNew, choices)
	if fail != "" {
		return catalogFailed(st, fail, fixCatalogEdit)
	}
	st.PendingSince, st.UnknownSince, st.Outcome = e.o.Now(), time.Time{}, storage.CatalogPending
	if err := e.store.PutCatalogState(st); err != nil {
		return catalogFailed(st, "cannot store the pending create: "+err.Error(), fixCatalogUnreached)
	}
	got, err := c.CreateCatalogItem(ctx, item)
	e.billNote(err, "")
	switch {
	case err == nil:
		st.ItemID, st.Outcome, st.PendingSince = got.ID, storage.CatalogCreated, time.Time{}
		return st
	case outcomeUnknown(err):
		st.UnknownSince = e.o.Now()
		st.Error = "the create got no answer; the item is searched for by identifier before any new create"
		return st
	case objectExists(err):
		// Made meanwhile (by hand, or by a create of ours that did land).
		found, ferr := c.CatalogItemByIdentifier(ctx, st.Identifier)
		e.billNote(ferr, "")
		if ferr == nil && len(found) > 0 {
			st.ItemID, st.Outcome, st.PendingSince = found[0].ID, storage.CatalogAdopted, time.Time{}
			return st
		}
	}
	st.PendingSince = time.Time{}
	return catalogCallFailed(st, "creating the item", err)
}

// newCatalogItem builds the POST body, filling the wizard's unset picks
// with the defaults from ConnectWise's lists.
func (e *Engine) newCatalogItem(ctx context.Context, c *cwclient.Client, n *storage.NewCatalogItem, choices **CatalogChoices) (cwclient.CatalogItem, string) {
	desc := strings.TrimSpace(n.Description)
	if desc == "" {
		desc = n.Identifier
	}
	cust := strings.TrimSpace(n.CustomerDescription)
	if cust == "" {
		cust = desc
	}
	it := cwclient.CatalogItem{Identifier: n.Identifier, Description: desc, CustomerDescription: cust}
	sub, typ := n.Subcategory.ID, n.Type.ID
	if (sub == 0 && n.Subcategory.Name == "") || (typ == 0 && n.Type.Name == "") {
		if *choices == nil {
			ch, err := e.CatalogChoices(ctx)
			if err != nil {
				return it, "cannot read ConnectWise's product subcategories and types: " + err.Error()
			}
			*choices = &ch
		}
		if sub == 0 && n.Subcategory.Name == "" {
			sub = (*choices).DefaultSubcategory
		}
		if typ == 0 && n.Type.Name == "" {
			typ = (*choices).DefaultType
		}
	}
	it.Subcategory, it.Type = refByIDOrName(sub, n.Subcategory.Name), refByIDOrName(typ, n.Type.Name)
	if sub == 0 && n.Subcategory.Name == "" {
		return it, "ConnectWise lists no active product subcategory to create the item in"
	}
	if typ == 0 && n.Type.Name == "" {
		return it, "ConnectWise lists no active product type for the item"
	}
	return it, ""
}

func objectExists(err error) bool {
	var ce *cwclient.Error
	if !errors.As(err, &ce) || ce.Kind != cwclient.KindValidation {
		return false
	}
	for _, f := range ce.Fields {
		if f.Code == "ObjectExists" {
			return true
		}
	}
	return false
}

func catalogFailed(st storage.CatalogState, why, fix string) storage.CatalogState {
	st.Outcome, st.Error, st.Fix, st.ItemID = storage.CatalogFailed, why, fix, 0
	return st
}

func catalogCallFailed(st storage.CatalogState, doing string, err error) storage.CatalogState {
	fix := fixCatalogUnreached
	switch cwclient.KindOf(err) {
	case cwclient.KindForbidden:
		fix = fixCatalogPermission
	case cwclient.KindValidation:
		fix = fixCatalogEdit
	}
	return catalogFailed(st, doing+": "+err.Error(), fix)
}

// refByIDOrName sends the id when there is one, else the name.
func refByIDOrName(id int, name string) *cwclient.Ref {
	if id > 0 {
		return &cwclient.Ref{ID: id}
	}
	return &cwclient.Ref{Name: name}
}
