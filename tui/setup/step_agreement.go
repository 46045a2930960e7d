package setup

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Step 3: the default agreement type, picked from ConnectWise's list.

type agTypesMsg struct {
	of    string
	types []cwclient.AgreementType
	err   error
}

func (wz *wizard) onAgTypes(msg agTypesMsg) tea.Cmd {
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
}

func (wz *wizard) agreementView() string {
	st := wz.c.Styles
	var b strings.Builder
	b.WriteString(st.Note.Render(wrap("Used when you create a workspace: that company's agreements of this type are offered first, and usage (seats, devices) is billed as additions on it.", wz.w)) + "\n\n")
	switch {
	case wz.agErr != "":
		b.WriteString(st.Error.Render("✗ could not load agreement types: "+wz.agErr) + "\n" + st.Muted.Render("r: try again   esc: back"))
	case !wz.agLoaded:
		b.WriteString(wz.spin.View() + " loading agreement types from ConnectWise…")
	default:
		b.WriteString(wz.agPicker.View(st))
	}
	return b.String()
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
		switch {
		case key.Matches(k, keys.Back):
			return wz.goTo(stepVerify)
		case key.Matches(k, keys.RetryTypes):
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
