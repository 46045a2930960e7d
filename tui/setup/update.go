package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Async results, each tagged so a stale answer is recognised.
type (
	verifyProgressMsg struct {
		run   int
		check cwclient.Check
		next  tea.Cmd
	}
	verifyDoneMsg struct{ run int }
	agTypesMsg    struct {
		of    string
		types []cwclient.AgreementType
		err   error
	}
	catalogMsg struct {
		of    string
		items []cwclient.CatalogItem
		err   error
	}
	savedMsg struct{ err error }
)

func (wz *wizard) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case persistedMsg:
		if msg.err != nil {
			wz.status = "could not save progress: " + msg.err.Error()
		} else {
			wz.persisted = msg.snap
		}
		return nil
	case spinner.TickMsg:
		if !wz.verifying {
			return nil
		}
		var cmd tea.Cmd
		wz.spin, cmd = wz.spin.Update(msg)
		return common.Route(common.PageSetup, cmd)
	case verifyProgressMsg:
		if msg.run != wz.run {
			return nil
		}
		for i := range wz.checks {
			if wz.checks[i].ID == msg.check.ID {
				wz.checks[i] = msg.check
			}
		}
		return msg.next
	case verifyDoneMsg:
		if msg.run != wz.run {
			return nil
		}
		wz.verifying, wz.cancel = false, nil
		if cwclient.AllPassed(wz.checks) {
			wz.verifiedAt, wz.verifiedOf = wz.c.Now().UTC(), wz.fingerprint()
			return wz.persist()
		}
		return nil
	case agTypesMsg:
		if msg.of != wz.fingerprint() {
			return nil
		}
		wz.agLoading = false
		if msg.err != nil {
			wz.agErr = errText(msg.err)
			return nil
		}
		wz.agErr, wz.agLoaded = "", true
		wz.agPicker = agreementPicker(msg.types, wz.agType.ID)
		wz.agPicker.SetSize(wz.w-2, wz.h-8)
		return nil
	case catalogMsg:
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
	case savedMsg:
		wz.saving = false
		if msg.err != nil {
			wz.saveErr = errText(msg.err)
			return nil
		}
		wz.persisted = wz.snapshot()
		return func() tea.Msg { return doneMsg{} }
	case tea.KeyPressMsg:
		return wz.key(msg)
	}
	return nil
}

func (wz *wizard) key(k tea.KeyPressMsg) tea.Cmd {
	switch wz.step {
	case stepCredentials:
		return wz.keyCredentials(k)
	case stepVerify:
		switch k.String() {
		case "esc":
			return wz.goTo(stepCredentials)
		case "r":
			return wz.startVerify()
		case "enter":
			if wz.verified() {
				return wz.goTo(stepAgreement)
			}
			if !wz.verifying {
				wz.status = "fix what failed (esc goes back to the credentials) or press r to verify again"
			}
		}
	case stepAgreement:
		return wz.keyAgreement(k)
	case stepProducts:
		return wz.keyProducts(k)
	case stepSummary:
		switch k.String() {
		case "esc":
			return wz.goTo(stepProducts)
		case "enter", "s":
			if !wz.saving {
				return wz.save()
			}
		}
	}
	return nil
}

func (wz *wizard) keyCredentials(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "up", "shift+tab":
		return wz.focusField((wz.focus + numFields - 1) % numFields)
	case "down", "tab":
		return wz.focusField((wz.focus + 1) % numFields)
	case "ctrl+r":
		wz.fields[fPrivate].ToggleReveal()
		return nil
	case "enter":
		if wz.focus < numFields-1 {
			wz.fields[wz.focus].Touch()
			return wz.focusField(wz.focus + 1)
		}
		return wz.submitCredentials()
	}
	return wz.fields[wz.focus].Update(k)
}

// submitCredentials checks every field; with any error it stays, shows
// the errors and saves nothing.
func (wz *wizard) submitCredentials() tea.Cmd {
	first := -1
	for i := range wz.fields {
		wz.fields[i].Touch()
		if wz.fields[i].Err() != nil && first < 0 {
			first = i
		}
	}
	if first >= 0 {
		wz.status = "fix the fields marked ✗"
		return wz.focusField(first)
	}
	if _, err := wz.client(); err != nil {
		wz.status = errText(err)
		return nil
	}
	if wz.fields[fPrivate].Revealed() {
		wz.fields[fPrivate].ToggleReveal() // never leave a key on screen
	}
	return wz.goTo(stepVerify)
}

// startVerify runs cwclient.Verify in the background; each finished check
// arrives as a message, so the list fills in as it goes.
func (wz *wizard) startVerify() tea.Cmd {
	if wz.cancel != nil {
		wz.cancel()
	}
	wz.run++
	wz.checks = cwclient.VerifyChecks()
	wz.verifiedOf = ""
	cl, err := wz.client()
	if err != nil {
		wz.checks[0].Status, wz.checks[0].Detail = cwclient.CheckFail, errText(err)
		return nil
	}
	ctx, cancel := context.WithCancel(wz.c.Ctx)
	wz.cancel, wz.verifying = cancel, true
	ch := make(chan cwclient.Check, len(wz.checks)+1)
	go func() {
		defer close(ch)
		cl.Verify(ctx, func(c cwclient.Check) { ch <- c })
	}()
	run := wz.run
	var wait tea.Cmd
	wait = common.Route(common.PageSetup, func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return verifyDoneMsg{run: run}
		}
		return verifyProgressMsg{run: run, check: c, next: wait}
	})
	return tea.Batch(wait, common.Route(common.PageSetup, wz.spin.Tick))
}

func (wz *wizard) loadAgreementTypes() tea.Cmd {
	wz.agLoading, wz.agErr = true, ""
	of := wz.fingerprint()
	ctx, newClient, conn := wz.c.Ctx, wz.c.NewClient, wz.draft() // the command must not read wz: Update owns it
	return common.Route(common.PageSetup, func() tea.Msg {
		cl, err := newClient(conn)
		if err != nil {
			return agTypesMsg{of: of, err: err}
		}
		ts, err := cl.AgreementTypes(ctx)
		return agTypesMsg{of: of, types: ts, err: err}
	})
}

func agreementPicker(types []cwclient.AgreementType, selected int) widget.Picker {
	var items []widget.Item
	def := 0
	for _, t := range types {
		if t.InactiveFlag {
			continue
		}
		d := ""
		if t.DefaultFlag {
			d, def = "ConnectWise default", t.ID
		}
		items = append(items, widget.Item{Label: t.Name, Detail: d, ID: t.ID})
	}
	p := widget.NewPicker("Agreement types", items)
	p.Empty = "ConnectWise has no active agreement types: add one under Setup Tables > Agreement Type"
	if selected == 0 {
		selected = def
	}
	p.Select(selected, "")
	return p
}

func (wz *wizard) keyAgreement(k tea.KeyPressMsg) tea.Cmd {
	if !wz.agLoaded {
		switch k.String() {
		case "esc":
			return wz.goTo(stepVerify)
		case "r":
			if !wz.agLoading {
				return wz.loadAgreementTypes()
			}
		}
		return nil
	}
	cmd := wz.agPicker.Update(k)
	if wz.agPicker.Cancelled() {
		return wz.goTo(stepVerify)
	}
	if it, ok := wz.agPicker.Picked(); ok {
		wz.agType = storage.AgreementType{ID: it.ID, Name: it.Label}
		return wz.goTo(stepProducts)
	}
	return cmd
}

func (wz *wizard) keyProducts(k tea.KeyPressMsg) tea.Cmd {
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
	switch k.String() {
	case "up", "k":
		wz.pcursor = max(0, wz.pcursor-1)
	case "down", "j":
		wz.pcursor = min(last, wz.pcursor+1)
	case "esc":
		return wz.goTo(stepAgreement)
	case "m", "space":
		if wz.pcursor < last {
			wz.products[wz.pcursor].Existing = !wz.products[wz.pcursor].Existing
		}
	case "enter", "e":
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
	case "n":
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
	switch k.String() {
	case "esc":
		wz.editing = false
		return nil
	case "tab", "down", "up", "shift+tab":
		wz.pfields[wz.editField].Blur()
		wz.editField = 1 - wz.editField
		return wz.pfields[wz.editField].Focus()
	case "enter":
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
		return nil
	}
	return wz.pfields[wz.editField].Update(k)
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
// the finished onboarding in one transaction, then tells the engine.
func (wz *wizard) save() tea.Cmd {
	if !wz.verified() {
		wz.saveErr = "the credentials changed since they were verified: go back and verify"
		return nil
	}
	wz.saving, wz.saveErr = true, ""
	conn := wz.draft()
	ag := wz.agType
	var maps []storage.ProductMapping
	for _, p := range wz.products {
		maps = append(maps, p.mapping())
	}
	o := wz.onboarding()
	o.Step, o.VerifiedAt = "done", wz.verifiedAt
	c := wz.c
	return common.Route(common.PageSetup, func() tea.Msg {
		err := c.Store.Update(func(t *storage.Tx) error {
			if err := t.SetConnection(c.Actor, conn); err != nil {
				return err
			}
			if ag.ID != 0 {
				if err := t.SetAgreementType(c.Actor, ag); err != nil {
					return err
				}
			}
			for _, m := range maps {
				if err := t.PutProductMapping(c.Actor, m); err != nil {
					return err
				}
			}
			return t.SetOnboarding(o)
		})
		if err == nil && c.Backend != nil {
			c.Backend.Reconnect()
		}
		return savedMsg{err: err}
	})
}

// errText is an error for the screen: cwclient errors never hold keys.
func errText(err error) string {
	var e *cwclient.Error
	if errors.As(err, &e) && e.Message != "" && e.Kind == cwclient.KindConfig {
		return e.Message
	}
	return fmt.Sprint(err)
}
