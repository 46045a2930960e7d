package activity

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// describe is one change in full: who, when, and each changed field as
// before → after. The audit log stores display JSON with secrets already
// masked, so nothing here can reveal one.
func describe(c *common.Common, e *storage.AuditEntry) string {
	st := c.Styles
	row := func(k, v string) string { return st.Label.Render(widget.Fit(k, 9)) + " " + v }
	lines := []string{
		row("Who", e.Actor),
		row("When", e.Time.In(c.Now().Location()).Format("2006-01-02 15:04:05")+st.Muted.Render(" ("+c.Since(e.Time)+")")),
		row("What", e.Subject),
		row("Action", e.Action),
		"",
	}
	before, after := fields(e.Before), fields(e.After)
	if len(e.Changed) == 0 {
		lines = append(lines, st.Muted.Render("no field changed"))
	}
	masked := strconv.Quote(storage.Mask)
	for _, f := range e.Changed {
		lines = append(lines, st.Subtitle.Render(f))
		b, a := value(c, before, f), value(c, after, f)
		if b == masked && a == masked {
			lines = append(lines, "  "+st.Muted.Render("a secret, replaced (neither value is shown)"))
			continue
		}
		lines = append(lines, "  "+b+st.Muted.Render(" → ")+a)
	}
	return strings.Join(lines, "\n")
}

// fields splits a display JSON object into its fields; a value that is
// not an object (or unreadable) is kept whole under "".
func fields(s string) map[string]string {
	if s == "" {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return map[string]string{"": s}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[k] = string(v)
	}
	return out
}

func value(c *common.Common, m map[string]string, f string) string {
	if m == nil {
		return c.Styles.Muted.Render("(none)")
	}
	if v, ok := m[f]; ok {
		return v
	}
	if v, ok := m[""]; ok {
		return v // unreadable record: show what the log kept
	}
	return c.Styles.Muted.Render("(unset)")
}
