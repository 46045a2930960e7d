package setup

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Step 5: everything chosen, saved in one transaction.

type savedMsg struct {
	err     error
	catalog []engine.CatalogOutcome // each product's catalog item, made real in ConnectWise
}

func (wz *wizard) onSaved(msg savedMsg) tea.Cmd {
	wz.saving = false
	var ce *storage.ConflictError
	if errors.As(msg.err, &ce) {
		// Another technician (or the config file) saved setup meanwhile:
		// say who and what; saving again applies this wizard's values.
		wz.rev = ce.Now.Seq
		wz.saveErr = ce.Error() + ". Go back (esc) to review, or save again (enter) to apply yours over it"
		return nil
	}
	if msg.err != nil {
		wz.saveErr = errText(msg.err)
		return nil
	}
	wz.persisted = wz.snapshot()
	if len(msg.catalog) > 0 {
		wz.outcomes = msg.catalog // shown until enter: what happened to each item
		return nil
	}
	return finished
}

func finished() tea.Msg { return doneMsg{} }

func (wz *wizard) keySummary(k tea.KeyPressMsg) tea.Cmd {
	if wz.outcomes != nil {
		if key.Matches(k, keys.Save) || key.Matches(k, keys.Back) {
			return finished // saved already: any way out closes the wizard
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Back):
		return wz.goTo(stepProducts)
	case key.Matches(k, keys.Save):
		if !wz.saving {
			return wz.save()
		}
	}
	return nil
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
	c, rev := wz.c, wz.rev
	return common.Route(common.PageSetup, func() tea.Msg {
		err := c.Store.Update(func(t *storage.Tx) error {
			if err := t.CheckSetupRevision(rev); err != nil {
				return err // someone saved setup since this wizard started
			}
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
			if err := t.SetOnboarding(o); err != nil {
				return err
			}
			// Finished setup is shared; every draft is moot now.
			return t.ClearDrafts()
		})
		msg := savedMsg{err: err}
		if err == nil && c.Backend != nil {
			c.Backend.Reconnect()
			// Each product becomes a real catalog item now: adopted when
			// its identifier exists, else created (a lost answer is
			// searched for, never posted twice).
			msg.catalog = c.Backend.EnsureCatalogItems(c.Ctx)
		}
		return msg
	})
}

func (wz *wizard) summaryView() string {
	st := wz.c.Styles
	d := wz.draft()
	row := func(k, v string) string { return "  " + st.Label.Render(widget.Fit(k, 16)) + " " + v + "\n" }
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("ConnectWise") + "\n")
	b.WriteString(row("Site", d.Site))
	b.WriteString(row("Company ID", d.CompanyID))
	b.WriteString(row("Public key", d.PublicKey))
	b.WriteString(row("Private key", storage.Mask))
	b.WriteString(row("Client ID", d.ClientID))
	ver := st.Error.Render("not verified")
	if wz.verified() {
		ver = st.OK.Render("✓ " + wz.verifiedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString(row("Verified", ver))
	b.WriteString("\n" + st.Subtitle.Render("Default agreement type") + "\n")
	ag := wz.agType.Name
	if wz.agType.ID == 0 {
		ag = st.Muted.Render("(none)")
	}
	b.WriteString("  " + ag + "\n")
	b.WriteString("\n" + st.Subtitle.Render("Products") + "\n")
	for _, p := range wz.products {
		b.WriteString(row(p.Key, widget.Trunc(p.summary(), wz.w-20)))
	}
	b.WriteString("\n")
	if wz.outcomes != nil {
		b.WriteString(st.Subtitle.Render("Saved. Catalog items in ConnectWise") + "\n")
		for _, o := range wz.outcomes {
			line := o.Outcome + " " + o.Identifier
			if o.ItemID != 0 {
				line += fmt.Sprintf(" (#%d)", o.ItemID)
			}
			style := st.OK
			if o.Error != "" {
				line += ": " + o.Error
				if o.Fix != "" {
					line += " — fix: " + o.Fix
				}
				style = st.Error
			}
			for i, l := range strings.Split(ansi.Wrap(line, max(20, wz.w-20), " "), "\n") {
				k := ""
				if i == 0 {
					k = o.Product
				}
				b.WriteString(row(k, style.Render(l)))
			}
		}
		b.WriteString("\n" + st.Bold.Render("enter: done") + st.Muted.Render("   (a failed item is tried again at every billing sync)"))
		return b.String()
	}
	switch {
	case wz.saving:
		b.WriteString(st.Muted.Render("saving…"))
	case wz.saveErr != "":
		b.WriteString(st.Error.Render("✗ not saved: "+wz.saveErr) + st.Muted.Render("  enter: try again"))
	default:
		b.WriteString(st.Bold.Render("enter: save") + st.Muted.Render("   esc: back"))
	}
	return b.String()
}
