package setup

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/widget"
)

const labelWidth = 12

func (wz *wizard) view() string {
	st := wz.c.Styles
	var b strings.Builder
	b.WriteString(wz.stepIndicator() + "\n\n")
	switch wz.step {
	case stepCredentials:
		b.WriteString(st.Muted.Render("The ConnectWise API member cwbridge acts as. Nothing is saved until the last step.") + "\n\n")
		for i := range wz.fields {
			b.WriteString(wz.fields[i].View(st, labelWidth) + "\n")
		}
	case stepVerify:
		b.WriteString(wz.verifyView())
	case stepAgreement:
		b.WriteString(st.Note.Render(wrap("Used when you create a workspace: that company's agreements of this type are offered first, and usage (seats, devices) is billed as additions on it.", wz.w)) + "\n\n")
		switch {
		case wz.agErr != "":
			b.WriteString(st.Error.Render("✗ could not load agreement types: "+wz.agErr) + "\n" + st.Muted.Render("r: try again   esc: back"))
		case !wz.agLoaded:
			b.WriteString(wz.spin.View() + " loading agreement types from ConnectWise…")
		default:
			b.WriteString(wz.agPicker.View(st))
		}
	case stepProducts:
		b.WriteString(wz.productsView())
	case stepSummary:
		b.WriteString(wz.summaryView())
	}
	if wz.status != "" {
		b.WriteString("\n\n" + st.Warn.Render(wz.status))
	}
	return b.String()
}

func (wz *wizard) stepIndicator() string {
	st := wz.c.Styles
	parts := make([]string, numSteps)
	for i := range numSteps {
		label := fmt.Sprintf("%d %s", i+1, stepTitles[i])
		switch {
		case i == wz.step:
			parts[i] = st.TabActive.Render(label)
		case i < wz.step:
			parts[i] = st.OK.Render("✓ " + stepTitles[i])
		default:
			parts[i] = st.Muted.Render(label)
		}
	}
	return strings.Join(parts, st.Muted.Render(" › "))
}

func (wz *wizard) verifyView() string {
	st := wz.c.Styles
	var b strings.Builder
	d := wz.draft()
	b.WriteString(st.Muted.Render(fmt.Sprintf("Checking %s as %s+%s, endpoint by endpoint. Nothing is created in ConnectWise.", d.Site, d.CompanyID, d.PublicKey)) + "\n\n")
	width := 0
	for _, c := range wz.checks {
		width = max(width, len(c.Name))
	}
	firstPending := true
	for _, c := range wz.checks {
		var mark string
		switch c.Status {
		case cwclient.CheckPass:
			mark = st.OK.Render("✓")
		case cwclient.CheckFail:
			mark = st.Error.Render("✗")
		case cwclient.CheckSkipped:
			mark = st.Muted.Render("–")
		default:
			mark = wz.spin.View()
			if !firstPending || !wz.verifying {
				mark = st.Muted.Render(wz.spin.View())
			}
			firstPending = false
		}
		line := mark + " " + widget.Fit(c.Name, width) + "  " + st.Muted.Render(c.Detail)
		b.WriteString(widget.Trunc(line, wz.w) + "\n")
		if c.Status == cwclient.CheckFail && c.Fix != "" {
			b.WriteString(st.Warn.Render(indent(wrap("fix: "+c.Fix, wz.w-4), 4)) + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case wz.verifying:
		b.WriteString(st.Muted.Render("verifying…"))
	case wz.verified():
		b.WriteString(st.OK.Render("All checks passed.") + st.Muted.Render("  enter: next"))
	default:
		pass := 0
		for _, c := range wz.checks {
			if c.Status == cwclient.CheckPass {
				pass++
			}
		}
		b.WriteString(st.Error.Render(fmt.Sprintf("%d of %d checks passed.", pass, len(wz.checks))) + st.Muted.Render("  esc: fix the credentials   r: verify again"))
	}
	return b.String()
}

func (wz *wizard) productsView() string {
	st := wz.c.Styles
	if wz.catPicker != nil {
		v := wz.catPicker.View(st)
		if wz.catErr != "" {
			v += "\n" + st.Error.Render("✗ "+wz.catErr)
		}
		return v
	}
	var b strings.Builder
	b.WriteString(st.Note.Render(wrap("Each product cwbridge bills is a ConnectWise catalog item: create a new one (the default) or map it to one you already have. Items are created later, when usage is first sent.", wz.w)) + "\n\n")
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

func wrap(s string, w int) string {
	if w <= 10 {
		return s
	}
	return lipgloss.NewStyle().Width(w).Render(s)
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}
