package setup

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Step 2: verify the draft credentials against ConnectWise, check by check.

// Verify results, tagged with their run so a stale answer is dropped.
type (
	verifyProgressMsg struct {
		run   int
		check cwclient.Check
		next  tea.Cmd
	}
	verifyDoneMsg struct{ run int }
)

func (wz *wizard) onSpinner(msg spinner.TickMsg) tea.Cmd {
	if !wz.verifying {
		return nil
	}
	var cmd tea.Cmd
	wz.spin, cmd = wz.spin.Update(msg)
	return common.Route(common.PageSetup, cmd)
}

func (wz *wizard) onVerifyProgress(msg verifyProgressMsg) tea.Cmd {
	if msg.run != wz.run {
		return nil
	}
	for i := range wz.checks {
		if wz.checks[i].ID == msg.check.ID {
			wz.checks[i] = msg.check
		}
	}
	return msg.next
}

func (wz *wizard) onVerifyDone(msg verifyDoneMsg) tea.Cmd {
	if msg.run != wz.run {
		return nil
	}
	wz.verifying, wz.cancel = false, nil
	if cwclient.AllPassed(wz.checks) {
		wz.verifiedAt, wz.verifiedOf = wz.c.Now().UTC(), wz.fingerprint()
		return wz.persist()
	}
	return nil
}

func (wz *wizard) keyVerify(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Back):
		return wz.goTo(stepCredentials)
	case key.Matches(k, keys.Retry):
		return wz.startVerify()
	case key.Matches(k, keys.VerifyNext):
		if wz.verified() {
			return wz.goTo(stepAgreement)
		}
		if !wz.verifying {
			wz.status = "fix what failed (esc goes back to the credentials) or press r to verify again"
		}
	}
	return nil
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
