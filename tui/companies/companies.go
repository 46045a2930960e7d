package companies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// staleAfter is how old the cache may get before the page refreshes it in
// the background.
const staleAfter = 15 * time.Minute

type tab int

const (
	tabCW tab = iota
	tabWorkspaces
)

// Model is the Companies page.
type Model struct {
	c *common.Common

	tab        tab
	idx        *Index
	shown      []int32
	filter     widget.Field
	filtering  bool
	fetchedAt  time.Time
	loaded     bool
	refreshing bool
	refreshErr string // the automatic refresh failed (shown on the page)
	err        string

	workspaces []storage.Workspace
	wsOf       map[string]string // lower CW identifier → workspace keys
	wsRevs     map[string]uint64 // workspace key → revision it was read at

	form   *form
	tokens int
	w, h   int

	// cwTable and wsTable lay the two lists' columns out. The company
	// columns are measured once per load (Index.Widths), never per
	// keystroke.
	cwTable, wsTable widget.Table
}

// New builds the page.
func New(c *common.Common) *Model {
	m := &Model{c: c, idx: NewIndex(nil), filter: widget.NewField("Filter", "type to filter by name, identifier or id", nil),
		cwTable: widget.NewTable(widget.Col{Title: "ID", Keep: true}, widget.Col{Title: "Identifier", Keep: true}, widget.Col{Title: "Name", Flex: true}, widget.Col{Title: "Workspace", Keep: true}),
		wsTable: widget.NewTable(widget.Col{Title: "Key", Keep: true}, widget.Col{Title: "CW company", Keep: true, Flex: true}, widget.Col{Title: "Agreement"}, widget.Col{Title: "Server"}, widget.Col{Title: "Max users"})}
	return m
}

type (
	cacheMsg struct {
		rows      []storage.Company
		fetchedAt time.Time
		err       error
	}
	workspacesMsg struct {
		list []storage.Workspace
		revs map[string]uint64 // read with list: what a form saves against
		err  error
	}
	refreshedMsg struct {
		quiet bool // the automatic refresh: it fails on the page, never in the status line
		err   error
	}
)

func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.loadCache(), m.loadWorkspaces(),
		common.Watch(m.c, common.PageCompanies, storage.ChangeCompanies, storage.ChangeWorkspaces, storage.ChangeSettings))
}

func (m *Model) loadCache() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageCompanies, func() tea.Msg {
		rows, err := st.Companies()
		at, _ := st.CompaniesFetchedAt()
		return cacheMsg{rows: rows, fetchedAt: at, err: err}
	})
}

func (m *Model) loadWorkspaces() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageCompanies, func() tea.Msg {
		l, revs, err := st.WorkspacesAt()
		return workspacesMsg{l, revs, err}
	})
}

// refresh fetches every company from ConnectWise and replaces the cache;
// the watch then reloads the list.
func (m *Model) refresh(quiet bool) tea.Cmd {
	if m.refreshing {
		return nil
	}
	m.refreshing = true
	c := m.c
	return common.Route(common.PageCompanies, func() tea.Msg {
		msg := fetchCompanies(c, quiet)
		msg.quiet = quiet
		return msg
	})
}

// fetchCompanies is refresh's work, outside the command.
func fetchCompanies(c *common.Common, quiet bool) refreshedMsg {
	cl, err := c.Client()
	if errors.Is(err, storage.ErrNotFound) {
		if quiet { // nothing to refresh from before setup
			return refreshedMsg{}
		}
		return refreshedMsg{err: errors.New("ConnectWise is not set up yet (Setup page)")}
	}
	if err != nil {
		return refreshedMsg{err: err}
	}
	var rows []storage.Company
	q := cwclient.Query{Fields: []string{"id", "identifier", "name", "deletedFlag", "_info/lastUpdated"}}
	for co, err := range cl.Companies(c.Ctx, q) {
		if err != nil {
			return refreshedMsg{err: err}
		}
		r := storage.Company{ID: co.ID, Identifier: co.Identifier, Name: co.Name, Deleted: co.DeletedFlag}
		if co.Info != nil {
			r.LastUpdated = co.Info.LastUpdated
		}
		rows = append(rows, r)
	}
	return refreshedMsg{err: c.Store.ReplaceCompanies(rows, c.Now())}
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case cacheMsg:
		m.loaded = true
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.setRows(msg.rows)
		m.fetchedAt = msg.fetchedAt
		if !m.refreshing && (msg.fetchedAt.IsZero() || m.c.Now().Sub(msg.fetchedAt) > staleAfter) {
			return m.refresh(true)
		}
		return nil
	case workspacesMsg:
		var cmd tea.Cmd
		if msg.err != nil {
			cmd = common.Status("cannot read the workspaces: "+msg.err.Error(), true)
		}
		m.workspaces, m.wsRevs = msg.list, msg.revs
		m.wsOf = map[string]string{}
		for _, w := range msg.list {
			k := strings.ToLower(w.CWCompany)
			if m.wsOf[k] != "" {
				m.wsOf[k] += ","
			}
			m.wsOf[k] += w.Key
		}
		m.wsTable.SetRows(len(m.workspaces), m.wsCells)
		return cmd
	case refreshedMsg:
		m.refreshing, m.refreshErr = false, ""
		switch {
		case msg.err != nil && msg.quiet:
			m.refreshErr = "refresh failed: " + msg.err.Error()
		case msg.err != nil:
			return common.Status("refresh failed: "+msg.err.Error(), true)
		case !msg.quiet:
			return common.Status("companies refreshed from ConnectWise", false)
		}
		return nil
	case common.ChangesMsg:
		companies, creds, workspaces := msg.Missed, false, msg.Missed
		for _, ch := range msg.Changes {
			switch {
			case ch.Kind == storage.ChangeCompanies:
				companies = true
			case ch.Kind == storage.ChangeSettings && ch.Key == storage.SettingConnection:
				creds = true
			case ch.Kind == storage.ChangeWorkspaces:
				workspaces = true
			}
		}
		cmds := []tea.Cmd{msg.Next}
		if companies {
			cmds = append(cmds, m.loadCache())
		}
		if creds {
			cmds = append(cmds, m.refresh(true)) // new credentials: fetch the companies they see
		}
		if workspaces {
			cmds = append(cmds, m.loadWorkspaces())
		}
		return tea.Batch(cmds...)
	case agreementsMsg:
		if m.form != nil && m.form.token == msg.token {
			m.form.gotAgreements(msg)
		}
		return nil
	case savedMsg:
		if m.form == nil || m.form.token != msg.token {
			return nil // that form was closed; the watch reloads the list
		}
		m.form.saving = false
		if errors.Is(msg.err, storage.ErrConflict) {
			// Someone changed the workspace (or took its key) since the
			// form opened: say who; saving again applies these values.
			m.form.rev = msg.rev
			m.form.err = "not saved: " + msg.err.Error() + ". Save again to apply your values over theirs, esc to drop yours."
			return m.loadWorkspaces()
		}
		if msg.err != nil {
			m.form.err = "not saved: " + msg.err.Error()
			return nil
		}
		m.form = nil
		return tea.Batch(common.Status("saved workspace "+msg.key, false), m.loadWorkspaces())
	case deletedMsg:
		if msg.err != nil {
			return tea.Batch(common.Status("not removed: "+msg.err.Error(), true), m.loadWorkspaces())
		}
		return tea.Batch(common.Status("removed workspace "+msg.key, false), m.loadWorkspaces())
	case openFormMsg:
		return m.openForm(msg.co, nil)
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		return m.paste(msg)
	}
	return nil
}

// paste puts pasted text into the open form or the filter.
func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	switch {
	case m.form != nil:
		return m.form.update(msg)
	case m.filtering:
		return m.typeFilter(msg)
	}
	return nil
}

func (m *Model) typeFilter(msg tea.Msg) tea.Cmd {
	before := m.filter.Raw()
	cmd := m.filter.Update(msg)
	if m.filter.Raw() != before {
		m.cwTable.SetCursor(0)
		m.applyFilter()
	}
	return cmd
}

func (m *Model) setRows(rows []storage.Company) {
	id := m.currentID()
	sort := m.idx.Sort()
	m.idx = NewIndex(rows)
	m.idx.SetSort(sort)
	m.cwTable.SetNatural(m.idx.Widths()) // measured once per load, here
	m.applyFilter()
	m.selectID(id)
}

// currentID is the company under the cursor (0: none).
func (m *Model) currentID() int {
	if c := m.cwTable.Cursor(); c < len(m.shown) && int(m.shown[c]) < m.idx.Len() {
		return m.idx.Row(m.shown[c]).ID
	}
	return 0
}

// selectID puts the cursor on company id, if shown.
func (m *Model) selectID(id int) {
	for i, r := range m.shown {
		if m.idx.Row(r).ID == id {
			m.cwTable.SetCursor(i)
			return
		}
	}
}

func (m *Model) applyFilter() {
	m.shown = m.idx.Filter(m.filter.Raw())
	m.cwTable.SetRows(len(m.shown), m.cwCells) // measured per load (Index.Widths), not here
}

// cwCells is shown company i's row.
func (m *Model) cwCells(i int) []string {
	co := m.idx.Row(m.shown[i])
	name := co.Name
	if co.Deleted {
		name += " (deleted)"
	}
	return []string{strconv.Itoa(co.ID), co.Identifier, name, m.wsOf[strings.ToLower(co.Identifier)]}
}

type deletedMsg struct {
	key string
	err error
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.form != nil {
		if key.Matches(k, keys.FormCancel) && m.form.picker == nil {
			m.form = nil
			return nil
		}
		return m.form.update(k)
	}
	if m.filtering {
		switch {
		case key.Matches(k, keys.FilterClear):
			m.filtering = false
			m.filter.SetValue("")
			m.filter.Blur()
			m.applyFilter()
			return nil
		case key.Matches(k, keys.FilterDone):
			m.filtering = false
			m.filter.Blur()
			return nil
		}
		return m.typeFilter(k)
	}
	switch {
	case key.Matches(k, keys.Tab):
		m.tab = 1 - m.tab
		return nil
	case key.Matches(k, keys.Refresh):
		return tea.Batch(common.Status("refreshing the companies from ConnectWise…", false), m.refresh(false))
	}
	if m.tab == tabWorkspaces {
		return m.keyWorkspaces(k)
	}
	switch {
	case key.Matches(k, m.c.Keys.Filter):
		m.filtering = true
		return m.filter.Focus()
	case m.cwTable.Update(k):
	case key.Matches(k, keys.Sort):
		id := m.currentID()
		m.idx.SetSort((m.idx.Sort() + 1) % numSorts)
		m.applyFilter()
		m.selectID(id) // the cursor stays on its company, not its row number
	case key.Matches(k, keys.Create):
		if cmd := m.c.Refuse("create workspaces"); cmd != nil {
			return cmd
		}
		if c := m.cwTable.Cursor(); c < len(m.shown) {
			return m.create(*m.idx.Row(m.shown[c]))
		}
	case key.Matches(k, keys.ClearFilter) && m.filter.Raw() != "":
		m.filter.SetValue("")
		m.applyFilter()
	}
	return nil
}

func (m *Model) keyWorkspaces(k tea.KeyPressMsg) tea.Cmd {
	cur := m.wsTable.Cursor()
	switch {
	case m.wsTable.Update(k):
	case key.Matches(k, keys.Edit):
		if cur < len(m.workspaces) {
			ws := m.workspaces[cur]
			co := storage.Company{ID: ws.CWCompanyID, Identifier: ws.CWCompany, Name: ws.CWCompany}
			for i := 0; i < m.idx.Len(); i++ {
				if r := m.idx.Row(int32(i)); strings.EqualFold(r.Identifier, ws.CWCompany) {
					co = *r
					break
				}
			}
			return m.openForm(co, &ws)
		}
	case key.Matches(k, keys.Remove):
		if cmd := m.c.Refuse("remove workspaces"); cmd != nil {
			return cmd
		}
		if cur < len(m.workspaces) {
			key, c := m.workspaces[cur].Key, m.c
			return common.Confirm(fmt.Sprintf("Remove workspace %q? Its incidents will go to the fallback company.", key),
				common.Route(common.PageCompanies, func() tea.Msg {
					return deletedMsg{key: key, err: c.Store.DeleteWorkspace(c.Actor, key)}
				}))
		}
	}
	return nil
}

// openFormMsg opens the workspace form once a warning was answered yes.
type openFormMsg struct{ co storage.Company }

// create opens the form for a new workspace, first asking when the
// company is deleted in ConnectWise or already has a workspace.
func (m *Model) create(co storage.Company) tea.Cmd {
	open := common.Route(common.PageCompanies, func() tea.Msg { return openFormMsg{co} })
	switch ws := m.wsOf[strings.ToLower(co.Identifier)]; {
	case co.Deleted:
		return common.Confirm(fmt.Sprintf("%s is deleted in ConnectWise: its tickets would fail. Create a workspace anyway?", co.Name), open)
	case ws != "":
		return common.Confirm(fmt.Sprintf("%s already has workspace %s. Create a second one?", co.Name, ws), open)
	}
	return m.openForm(co, nil)
}

func (m *Model) openForm(co storage.Company, ws *storage.Workspace) tea.Cmd {
	taken := map[string]bool{}
	for _, w := range m.workspaces {
		taken[w.Key] = true
	}
	m.tokens++
	m.form = newForm(m.c, co, ws, taken, m.tokens)
	if ws != nil {
		m.form.rev = m.wsRevs[ws.Key]
	}
	m.form.setSize(m.w, m.h)
	return tea.Batch(m.form.loadAgreements(), m.form.focus(rowKey))
}

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.filter.SetWidth(max(8, min(30, w-56)))
	m.cwTable.SetSize(w, m.listHeight()+1)
	m.wsTable.SetSize(w, m.listHeight()+1)
	if m.form != nil {
		m.form.setSize(w, h)
	}
}

func (m *Model) listHeight() int { return m.h - 5 }

func (m *Model) Capturing() bool { return m.filtering || m.form != nil }
func (m *Model) Dirty() bool     { return m.form != nil && m.form.dirty() }

func (m *Model) View() string {
	if m.form != nil {
		return m.form.view()
	}
	st := m.c.Styles
	var b strings.Builder
	cw := fmt.Sprintf("ConnectWise companies (%d)", m.idx.Len())
	ws := fmt.Sprintf("Workspaces (%d)", len(m.workspaces))
	if m.tab == tabCW {
		b.WriteString(st.TabActive.Render(cw) + " " + st.Tab.Render(ws))
	} else {
		b.WriteString(st.Tab.Render(cw) + " " + st.TabActive.Render(ws))
	}
	b.WriteString("\n")
	if m.tab == tabCW {
		b.WriteString(m.cwView())
	} else {
		b.WriteString(m.wsView())
	}
	return b.String()
}

func (m *Model) statusLine() string {
	st := m.c.Styles
	switch {
	case m.err != "":
		return st.Error.Render("✗ " + m.err)
	case m.refreshErr != "":
		return st.Error.Render(m.refreshErr)
	}
	return ""
}

func (m *Model) cwView() string {
	st := m.c.Styles
	var b strings.Builder
	fl := m.filter.View(st, 6)
	if !m.filtering && m.filter.Raw() == "" {
		fl = "  " + st.Muted.Render("/ to filter")
	}
	// A filter orders by how well rows match; the sort only breaks ties,
	// and the label says so.
	sortLabel := "sort: " + sortNames[m.idx.Sort()]
	if strings.TrimSpace(m.filter.Raw()) != "" {
		sortLabel = "best match, then " + sortNames[m.idx.Sort()]
	}
	info := fmt.Sprintf("%s · %d shown · refreshed %s", sortLabel, len(m.shown), m.c.Since(m.fetchedAt))
	if m.refreshing {
		info += " · refreshing…"
	}
	b.WriteString(widget.Fit(fl, max(10, m.w-lipgloss.Width(info)-1)) + " " + st.Muted.Render(info) + "\n")
	nat := m.idx.Widths()
	for _, ws := range m.wsOf {
		nat[3] = max(nat[3], lipgloss.Width(ws))
	}
	m.cwTable.SetNatural(nat)
	h := m.listHeight()
	m.cwTable.SetSize(m.w, h+1)
	if len(m.shown) == 0 {
		b.WriteString("  " + st.Muted.Render(m.cwTable.Line([]string{"ID", "Identifier", "Name", "Workspace"})) + "\n")
	}
	switch {
	case !m.loaded:
		b.WriteString(st.Muted.Render("  loading the company cache…"))
	case m.idx.Len() == 0 && m.refreshing:
		b.WriteString(st.Muted.Render("  fetching companies from ConnectWise…"))
	case m.idx.Len() == 0:
		b.WriteString(st.Muted.Render("  no companies cached yet: finish Setup, then press r to fetch them"))
	case len(m.shown) == 0:
		b.WriteString(st.Muted.Render("  nothing matches " + fmt.Sprintf("%q", m.filter.Value())))
	default:
		list := m.cwTable.View(st, nil)
		b.WriteString(list + strings.Repeat("\n", max(0, h+1-strings.Count(list, "\n"))))
	}
	if len(m.shown) > 0 && h > 0 {
		pages := (len(m.shown) + h - 1) / h
		b.WriteString(st.Muted.Render(fmt.Sprintf("  page %d/%d", m.cwTable.Cursor()/h+1, pages)) + "  " + m.statusLine())
	} else {
		b.WriteString("\n" + m.statusLine())
	}
	return b.String()
}

func (m *Model) wsView() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString("\n")
	m.wsTable.SetSize(m.w, m.listHeight()+1)
	b.WriteString(m.wsTable.View(st, nil) + "\n")
	if len(m.workspaces) == 0 {
		b.WriteString(st.Muted.Render("  no workspaces yet: pick a company on the ConnectWise tab and press c") + "\n")
	}
	b.WriteString("\n" + m.statusLine())
	return b.String()
}

// wsCells is workspace i's row.
func (m *Model) wsCells(i int) []string {
	w := m.workspaces[i]
	ag := "none"
	if w.AgreementID != 0 {
		ag = fmt.Sprintf("#%d", w.AgreementID)
	}
	mu := "no limit"
	if w.MaxUsers > 0 {
		mu = fmt.Sprint(w.MaxUsers)
	}
	return []string{w.Key, w.CWCompany, ag, w.PreferredServer, mu}
}
