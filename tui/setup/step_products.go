package setup

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Step 4: each billable product, created new or mapped to a catalog item.

type catalogMsg struct {
	of    string
	items []cwclient.CatalogItem
	err   error
}

func (wz *wizard) onCatalog(msg catalogMsg) tea.Cmd {
	if msg.of != wz.fingerprint() {
		return nil
	}
	wz.catLoading = false
	if msg.err != nil {
		wz.catErr = errText(msg.err)
		wz.catPicker = nil
		return nil
	}
	wz.catErr = ""
	wz.catalog = catalogItems(msg.items)
	if wz.catPicker != nil {
		wz.catPicker.SetItems(wz.catalog)
		wz.catPicker.Select(wz.products[wz.pcursor].ExistingID, "")
	}
	return nil
}

func (wz *wizard) keyProducts(k tea.KeyPressMsg) tea.Cmd {
	if wz.kindPicker != nil {
		return wz.keyKind(k)
	}
	if wz.catPicker != nil {
		cmd := wz.catPicker.Update(k)
		if wz.catPicker.Cancelled() {
			wz.catPicker = nil
			return nil
		}
		if it, ok := wz.catPicker.Picked(); ok {
			p := &wz.products[wz.pcursor]
			p.ExistingID, p.ExistingRef = it.ID, it.Value
			wz.catPicker = nil
		}
		return cmd
	}
	if wz.editing {
		return wz.keyProductEdit(k)
	}
	last := len(wz.products) // the "Continue" row
	switch {
	case key.Matches(k, keys.RowUp):
		wz.pcursor = max(0, wz.pcursor-1)
	case key.Matches(k, keys.RowDown):
		wz.pcursor = min(last, wz.pcursor+1)
	case key.Matches(k, keys.Back):
		return wz.goTo(stepAgreement)
	case key.Matches(k, keys.Mode):
		if wz.pcursor < last {
			wz.products[wz.pcursor].Existing = !wz.products[wz.pcursor].Existing
		}
	case key.Matches(k, keys.Edit):
		if wz.pcursor == last {
			return wz.continueProducts()
		}
		p := &wz.products[wz.pcursor]
		if p.Existing {
			return wz.openCatalog()
		}
		wz.editing, wz.editField = true, 0
		wz.pfields[0].SetValue(p.Identifier)
		wz.pfields[1].SetValue(p.Description)
		wz.pfields[1].Blur()
		return wz.pfields[0].Focus()
	case key.Matches(k, keys.Continue):
		return wz.continueProducts()
	}
	return nil
}

func (wz *wizard) continueProducts() tea.Cmd {
	for i := range wz.products {
		if pr := wz.products[i].problem(); pr != "" {
			wz.pcursor = i
			wz.status = wz.products[i].Key + ": " + pr
			return nil
		}
	}
	return wz.goTo(stepSummary)
}

func (wz *wizard) keyProductEdit(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.EditCancel):
		wz.editing = false
		return nil
	case key.Matches(k, keys.EditSwitch):
		wz.pfields[wz.editField].Blur()
		wz.editField = 1 - wz.editField
		return wz.pfields[wz.editField].Focus()
	case key.Matches(k, keys.EditDone):
		if wz.editField == 0 {
			wz.pfields[0].Touch()
			wz.pfields[0].Blur()
			wz.editField = 1
			return wz.pfields[1].Focus()
		}
		wz.pfields[0].Touch()
		wz.pfields[1].Touch()
		if wz.pfields[0].Err() != nil || wz.pfields[1].Err() != nil {
			return nil
		}
		p := &wz.products[wz.pcursor]
		p.Identifier, p.Description = wz.pfields[0].Value(), wz.pfields[1].Value()
		wz.editing = false
		wz.pfields[1].Blur()
		return wz.openKind("subcategory") // then the product type
	}
	return wz.pfields[wz.editField].Update(k)
}

// choicesMsg brings ConnectWise's subcategories and product types.
type choicesMsg struct {
	of      string
	choices engine.CatalogChoices
	err     error
}

func (wz *wizard) onChoices(msg choicesMsg) tea.Cmd {
	if msg.of != wz.fingerprint() {
		return nil
	}
	if msg.err != nil {
		wz.choicesErr, wz.kindPicker = errText(msg.err), nil
		return nil
	}
	wz.choices, wz.choicesErr = &msg.choices, ""
	if wz.kindPicker != nil {
		return wz.openKind(wz.kindFor)
	}
	return nil
}

// openKind shows the picker for a new item's subcategory or product type,
// on the product's pick or else ConnectWise's sensible default, loading
// the lists on first use.
func (wz *wizard) openKind(what string) tea.Cmd {
	p := &wz.products[wz.pcursor]
	var items []widget.Item
	cur, def := p.Subcategory.ID, 0
	if wz.choices != nil {
		if what == "subcategory" {
			def = wz.choices.DefaultSubcategory
			for _, s := range wz.choices.Subcategories {
				it := widget.Item{Label: s.Name, ID: s.ID, Value: s.Name}
				if s.Category != nil {
					it.Detail = s.Category.Name
				}
				items = append(items, it)
			}
		} else {
			cur, def = p.Type.ID, wz.choices.DefaultType
			for _, t := range wz.choices.Types {
				items = append(items, widget.Item{Label: t.Name, ID: t.ID, Value: t.Name})
			}
		}
	}
	if cur == 0 {
		cur = def
	}
	pk := widget.NewPicker("ConnectWise "+what+" for "+p.Key, items)
	pk.Empty = "loading ConnectWise's " + what + " list…"
	pk.SetSize(wz.w-2, wz.h-6)
	pk.Select(cur, "")
	wz.kindPicker, wz.kindFor = &pk, what
	if wz.choices != nil {
		if items == nil {
			pk.Empty = "ConnectWise lists no active " + what + ": the item cannot be created (add one in ConnectWise)"
		}
		return nil
	}
	of := wz.fingerprint()
	ctx, newClient, conn := wz.c.Ctx, wz.c.NewClient, wz.draft() // the command must not read wz: Update owns it
	return common.Route(common.PageSetup, func() tea.Msg {
		cl, err := newClient(conn)
		if err != nil {
			return choicesMsg{of: of, err: err}
		}
		ch, err := engine.CatalogChoicesFrom(ctx, cl)
		return choicesMsg{of: of, choices: ch, err: err}
	})
}

// keyKind drives the subcategory and type pickers; esc keeps the earlier
// choice.
func (wz *wizard) keyKind(k tea.KeyPressMsg) tea.Cmd {
	cmd := wz.kindPicker.Update(k)
	if wz.kindPicker.Cancelled() {
		wz.kindPicker = nil
		return nil
	}
	if it, ok := wz.kindPicker.Picked(); ok {
		p := &wz.products[wz.pcursor]
		ref := storage.Ref{ID: it.ID, Name: it.Value}
		wz.kindPicker = nil
		if wz.kindFor == "subcategory" {
			p.Subcategory = ref
			return wz.openKind("type")
		}
		p.Type = ref
		return nil
	}
	return cmd
}

// openCatalog shows the catalog picker, loading the catalog on first use.
func (wz *wizard) openCatalog() tea.Cmd {
	p := widget.NewPicker("Catalog items for "+wz.products[wz.pcursor].Key, wz.catalog)
	p.Empty = "loading the catalog…"
	p.SetSize(wz.w-2, wz.h-6)
	p.Select(wz.products[wz.pcursor].ExistingID, "")
	wz.catPicker = &p
	if wz.catalog != nil || wz.catLoading {
		if wz.catalog != nil {
			p.Empty = "the ConnectWise catalog has no active items"
		}
		return nil
	}
	wz.catLoading = true
	of := wz.fingerprint()
	ctx, newClient, conn := wz.c.Ctx, wz.c.NewClient, wz.draft() // the command must not read wz: Update owns it
	return common.Route(common.PageSetup, func() tea.Msg {
		cl, err := newClient(conn)
		if err != nil {
			return catalogMsg{of: of, err: err}
		}
		var items []cwclient.CatalogItem
		for it, err := range cl.CatalogItems(ctx, cwclient.Query{Conditions: cwclient.Eq("inactiveFlag", false),
			Fields: []string{"id", "identifier", "description", "inactiveFlag"}}) {
			if err != nil {
				return catalogMsg{of: of, err: err}
			}
			items = append(items, it)
			if len(items) >= 20000 { // a picker past this is no help; the filter narrows
				break
			}
		}
		return catalogMsg{of: of, items: items}
	})
}

func catalogItems(items []cwclient.CatalogItem) []widget.Item {
	out := make([]widget.Item, 0, len(items))
	for _, it := range items {
		out = append(out, widget.Item{Label: it.Identifier, Detail: it.Description, ID: it.ID, Value: it.Identifier})
	}
	slices.SortFunc(out, func(a, b widget.Item) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	if out == nil {
		out = []widget.Item{}
	}
	return out
}

// save writes the connection, the agreement type, the product mappings and

func (wz *wizard) productsView() string {
	st := wz.c.Styles
	if wz.kindPicker != nil {
		v := wz.kindPicker.View(st)
		if wz.choicesErr != "" {
			v += "\n" + st.Error.Render("✗ "+wz.choicesErr)
		}
		return v
	}
	if wz.catPicker != nil {
		v := wz.catPicker.View(st)
		if wz.catErr != "" {
			v += "\n" + st.Error.Render("✗ "+wz.catErr)
		}
		return v
	}
	var b strings.Builder
	b.WriteString(st.Note.Render(wrap("Each product cwbridge bills is a ConnectWise catalog item: create a new one (the default) or map it to one you already have. Saving the summary makes each one real: an item with that identifier is adopted, else it is created.", wz.w)) + "\n\n")
	for i, p := range wz.products {
		cur := "  "
		if i == wz.pcursor {
			cur = st.Cursor.Render("▸ ")
		}
		mode := "( ) create new  (•) map to existing"
		if !p.Existing {
			mode = "(•) create new  ( ) map to existing"
		}
		b.WriteString(cur + st.Label.Render(widget.Fit(p.Key, 10)) + " " + mode + "\n")
		detail := p.summary()
		if pr := p.problem(); pr != "" {
			detail += "  " + st.Error.Render("✗ "+pr)
		}
		b.WriteString("    " + st.Muted.Render(widget.Trunc(detail, wz.w-4)) + "\n")
		if wz.editing && i == wz.pcursor {
			b.WriteString(wz.pfields[0].View(st, labelWidth) + "\n" + wz.pfields[1].View(st, labelWidth) + "\n")
		}
	}
	cur := "  "
	if wz.pcursor == len(wz.products) {
		cur = st.Cursor.Render("▸ ")
	}
	b.WriteString("\n" + cur + st.Bold.Render("Continue →"))
	if wz.catErr != "" {
		b.WriteString("\n" + st.Error.Render("✗ could not load the catalog: "+wz.catErr))
	}
	return b.String()
}
