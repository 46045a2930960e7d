package companies

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Form rows.
const (
	rowKey = iota
	rowAgreement
	rowServer
	rowMaxUsers
	rowSave
	numRows
)

// form creates or edits one workspace.
type form struct {
	c       *common.Common
	editing string // workspace key being edited; "" = create
	company storage.Company
	taken   map[string]bool // keys in use by other workspaces

	key, server, maxUsers widget.Field
	row                   int

	token       int // matches the agreements answer to this form
	agLoading   bool
	agErr       string
	agreements  []cwclient.Agreement
	agreementID int
	agName      string
	picker      *widget.Picker // open picker
	pickerItems widget.Picker  // the loaded choices

	saving bool
	err    string
	start  string // snapshot at open, for dirty
	rev    uint64 // the edited workspace's revision when the form opened (or was last refused)
	w, h   int
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func newForm(c *common.Common, co storage.Company, ws *storage.Workspace, taken map[string]bool, token int) *form {
	f := &form{c: c, company: co, taken: taken, token: token}
	f.key = widget.NewField("Workspace key", "what incidents carry in \"company\"", f.validKey)
	f.server = widget.NewField("Preferred server", "e.g. us-west (optional)", validServer)
	f.maxUsers = widget.NewField("Max users", "0 = no limit", validMaxUsers)
	if ws != nil {
		f.editing = ws.Key
		f.key.SetValue(ws.Key)
		f.server.SetValue(ws.PreferredServer)
		f.maxUsers.SetValue(strconv.Itoa(ws.MaxUsers))
		f.agreementID = ws.AgreementID
		if ws.AgreementID != 0 {
			f.agName = fmt.Sprintf("agreement #%d", ws.AgreementID)
		}
	} else {
		f.key.SetValue(suggestKey(co.Identifier, taken))
	}
	f.start = f.snapshot()
	return f
}

// suggestKey derives a free workspace key from a CW identifier.
func suggestKey(ident string, taken map[string]bool) string {
	var b strings.Builder
	for _, r := range strings.ToLower(ident) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	k := b.String()
	if k == "" {
		k = "workspace"
	}
	if len(k) > 60 {
		k = k[:60]
	}
	base := k
	for i := 2; taken[k]; i++ {
		k = fmt.Sprintf("%s-%d", base, i)
	}
	return k
}

func (f *form) validKey(s string) error {
	switch {
	case s == "":
		return errors.New("key is empty")
	case !keyRE.MatchString(s):
		return errors.New("key is lower-case letters, digits, '.', '_' or '-' (at most 64)")
	case s != f.editing && f.taken[s]:
		return fmt.Errorf("workspace %q already exists", s)
	}
	return nil
}

func validServer(s string) error {
	if len(s) > 64 {
		return errors.New("at most 64 characters")
	}
	return nil
}

func validMaxUsers(s string) error {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a whole number", s)
	case n < 0:
		return errors.New("must be 0 or more")
	case n > 1_000_000:
		return errors.New("at most 1000000")
	}
	return nil
}

func (f *form) snapshot() string {
	return f.key.Raw() + "\x00" + f.server.Raw() + "\x00" + f.maxUsers.Raw() + "\x00" + strconv.Itoa(f.agreementID)
}

func (f *form) dirty() bool { return f.snapshot() != f.start }

func (f *form) setSize(w, h int) {
	f.w, f.h = w, h
	for _, fl := range []*widget.Field{&f.key, &f.server, &f.maxUsers} {
		fl.SetWidth(min(40, w-24))
	}
	if f.picker != nil {
		f.picker.SetSize(w-2, h-4)
	}
}

type agreementsMsg struct {
	token int
	list  []cwclient.Agreement
	def   storage.AgreementType
	err   error
}

// loadAgreements asks ConnectWise for the company's agreements.
func (f *form) loadAgreements() tea.Cmd {
	f.agLoading = true
	c, id, token := f.c, f.company.ID, f.token
	return common.Route(common.PageCompanies, func() tea.Msg {
		if id == 0 {
			return agreementsMsg{token: token, err: errors.New("the company is not in the cache: refresh the list")}
		}
		cl, err := c.Client()
		if err != nil {
			return agreementsMsg{token: token, err: err}
		}
		list, err := cl.CompanyAgreements(c.Ctx, id)
		def, _ := c.Store.AgreementType()
		return agreementsMsg{token: token, list: list, def: def, err: err}
	})
}

func (f *form) gotAgreements(msg agreementsMsg) {
	f.agLoading = false
	if msg.err != nil {
		f.agErr = msg.err.Error()
		return
	}
	var live []cwclient.Agreement
	for _, a := range msg.list {
		if !a.CancelledFlag && (a.AgreementStatus == "" || a.AgreementStatus == "Active") {
			live = append(live, a)
		}
	}
	// The default agreement type's agreements come first.
	isDef := func(a cwclient.Agreement) int {
		if a.Type != nil && msg.def.ID != 0 && a.Type.ID == msg.def.ID {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(live, func(a, b cwclient.Agreement) int { return cmp.Compare(isDef(a), isDef(b)) })
	f.agreements = live
	for _, a := range live {
		if a.ID == f.agreementID {
			f.agName = a.Name
		}
	}
	items := []widget.Item{{Label: "(no agreement)", Detail: "set one later", ID: 0, Value: "none"}}
	for _, a := range live {
		d := ""
		if a.Type != nil {
			d = a.Type.Name
			if isDef(a) == 0 {
				d += " · default type"
			}
		}
		items = append(items, widget.Item{Label: a.Name, Detail: d, ID: a.ID})
	}
	p := widget.NewPicker("Agreement for "+f.company.Name, items)
	p.SetSize(f.w-2, f.h-4)
	if f.agreementID != 0 {
		p.Select(f.agreementID, "")
	} else if len(live) > 0 && isDef(live[0]) == 0 && f.editing == "" {
		f.agreementID, f.agName = live[0].ID, live[0].Name // preselect the default type's agreement
		p.Select(live[0].ID, "")
	}
	f.picker = nil
	f.pickerItems = p
}

type savedMsg struct {
	token int // the form that saved
	key   string
	err   error
	rev   uint64 // on a conflict over the edited workspace: its revision now
}

func (f *form) update(msg tea.Msg) tea.Cmd {
	if pm, ok := msg.(tea.PasteMsg); ok {
		if f.picker != nil {
			return f.picker.Update(pm)
		}
		return f.typeInto(pm)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if f.picker != nil {
		cmd := f.picker.Update(k)
		if f.picker.Cancelled() {
			f.picker = nil
		} else if it, ok := f.picker.Picked(); ok {
			f.agreementID, f.agName = it.ID, it.Label
			if it.ID == 0 {
				f.agName = ""
			}
			f.picker = nil
			return f.focus(rowServer)
		}
		return cmd
	}
	switch {
	case key.Matches(k, keys.FormNext):
		return f.focus((f.row + 1) % numRows)
	case key.Matches(k, keys.FormPrev):
		return f.focus((f.row + numRows - 1) % numRows)
	case key.Matches(k, keys.FormSave):
		return f.save()
	case key.Matches(k, keys.FormEnter):
		switch f.row {
		case rowAgreement:
			if f.pickerItems.Items() != nil {
				p := f.pickerItems
				f.picker = &p
			}
			return nil
		case rowSave:
			return f.save()
		}
		return f.focus(f.row + 1)
	}
	return f.typeInto(k)
}

// typeInto passes typed or pasted text to the focused field.
func (f *form) typeInto(msg tea.Msg) tea.Cmd {
	switch f.row {
	case rowKey:
		return f.key.Update(msg)
	case rowServer:
		return f.server.Update(msg)
	case rowMaxUsers:
		return f.maxUsers.Update(msg)
	}
	return nil
}

func (f *form) focus(row int) tea.Cmd {
	f.row = row
	f.key.Blur()
	f.server.Blur()
	f.maxUsers.Blur()
	switch row {
	case rowKey:
		return f.key.Focus()
	case rowServer:
		return f.server.Focus()
	case rowMaxUsers:
		return f.maxUsers.Focus()
	}
	return nil
}

// save validates every field; any error keeps the form open and saves
// nothing.
func (f *form) save() tea.Cmd {
	if cmd := f.c.Refuse("save workspaces"); cmd != nil {
		return cmd
	}
	f.key.Touch()
	f.server.Touch()
	f.maxUsers.Touch()
	for i, fl := range []*widget.Field{&f.key, &f.server, &f.maxUsers} {
		if fl.Err() != nil {
			f.err = "fix the fields marked ✗"
			return f.focus([]int{rowKey, rowServer, rowMaxUsers}[i])
		}
	}
	n, _ := strconv.Atoi(f.maxUsers.Value())
	ws := storage.Workspace{Key: f.key.Value(), CWCompany: f.company.Identifier, CWCompanyID: f.company.ID,
		AgreementID: f.agreementID, PreferredServer: f.server.Value(), MaxUsers: n}
	old, token, rev := f.editing, f.token, f.rev
	c := f.c
	f.saving, f.err = true, ""
	return common.Route(common.PageCompanies, func() tea.Msg {
		msg := savedMsg{token: token, key: ws.Key, err: c.Store.SaveWorkspace(c.Actor, ws, old, rev)}
		var ce *storage.ConflictError
		if errors.As(msg.err, &ce) && ce.Subject == storage.WorkspaceSubject(old) {
			msg.rev = ce.Now.Seq // a second save applies over it
		}
		return msg
	})
}

func (f *form) view() string {
	st := f.c.Styles
	if f.picker != nil {
		return f.picker.View(st)
	}
	var b strings.Builder
	title := "New workspace for "
	if f.editing != "" {
		title = "Edit workspace " + f.editing + " — "
	}
	b.WriteString(st.Title.Render(title+f.company.Name) + st.Muted.Render(fmt.Sprintf("  (%s, #%d)", f.company.Identifier, f.company.ID)) + "\n")
	if note := f.c.FromConfigFile("workspace", f.editing); f.editing != "" && note != "" {
		b.WriteString(st.Warn.Render(ansi.Wrap(note, max(20, f.w-2), " ")) + "\n")
	}
	b.WriteString("\n")
	b.WriteString(f.key.View(st, 17) + "\n")
	mark, label := "  ", st.Label.Render(widget.Fit("Agreement", 17))
	if f.row == rowAgreement {
		mark, label = st.Cursor.Render("▸ "), st.Cursor.Render(widget.Fit("Agreement", 17))
	}
	b.WriteString(mark + label + " " + f.agreementLine() + "\n")
	b.WriteString(f.server.View(st, 17) + "\n")
	b.WriteString(f.maxUsers.View(st, 17) + "\n\n")
	save := "  " + st.Bold.Render("[ Save ]")
	if f.row == rowSave {
		save = st.Cursor.Render("▸ ") + st.Selected.Render("[ Save ]")
	}
	b.WriteString(save)
	switch {
	case f.saving:
		b.WriteString("  " + st.Muted.Render("saving…"))
	case f.err != "":
		// Wrapped, never cut: a refusal names who changed the workspace.
		for i, l := range strings.Split(ansi.Wrap(f.err, max(20, f.w-4), " "), "\n") {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("  " + st.Error.Render(l))
		}
	}
	return b.String()
}

func (f *form) agreementLine() string {
	st := f.c.Styles
	cur := f.agName
	if f.agreementID == 0 {
		cur = "(no agreement)"
	}
	switch {
	case f.agLoading:
		return cur + st.Muted.Render("  loading the company's agreements…")
	case f.agErr != "":
		return cur + "  " + st.Error.Render("✗ "+f.agErr)
	case len(f.agreements) == 0:
		return cur + "\n" + strings.Repeat(" ", 20) + st.Warn.Render(widget.Trunc(f.company.Name+" has no active agreements in ConnectWise.", f.w-20)) +
			"\n" + strings.Repeat(" ", 20) + st.Muted.Render(widget.Trunc("You can save without one and set it later (usage is billed once it has one).", f.w-20))
	}
	hint := "  enter: choose"
	if f.row != rowAgreement {
		hint = fmt.Sprintf("  %d available", len(f.agreements))
	}
	return cur + st.Muted.Render(hint)
}
