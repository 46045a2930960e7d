package setup

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Step 1: the ConnectWise API member's credentials, typed or pasted.

func (wz *wizard) credentialsView() string {
	st := wz.c.Styles
	var b strings.Builder
	b.WriteString(st.Muted.Render("The API member cwbridge acts as in ConnectWise. Nothing is saved until the end.") + "\n\n")
	for i := range wz.fields {
		b.WriteString(wz.fields[i].View(st, labelWidth) + "\n")
	}
	return b.String()
}

func (wz *wizard) keyCredentials(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.FieldUp):
		return wz.focusField((wz.focus + numFields - 1) % numFields)
	case key.Matches(k, keys.FieldDown):
		return wz.focusField((wz.focus + 1) % numFields)
	case key.Matches(k, keys.Reveal):
		wz.fields[fPrivate].ToggleReveal()
		return nil
	case key.Matches(k, keys.Next):
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
