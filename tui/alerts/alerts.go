// Package alerts is the Alerts page: where each alert type's tickets go
// (board, status, priority, type, subtype, closed status), and a test
// ticket through the real engine to prove a route.
package alerts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Model is the Alerts page.
type Model struct {
	c      *common.Common
	types  []string
	routes map[string]storage.Route
	// lastTest and lastTestURL are the last test ticket's result and its
	// ConnectWise address, shown under the list.
	lastTest, lastTestURL string
	revs                  map[string]uint64 // each route's revision, for saves (storage.CheckRevision)
	tables                map[string]storage.LookupTable
	asked                 map[int]bool // boards whose tables were requested
	list                  widget.Table // one row per alert type
	loaded                bool
	err                   string
	// In-flight work shows on the page while it runs; results go to the
	// root's status line.
	refreshing int    // forced lookups still to come back (r)
	refreshErr string // the first error among them
	lookupErr  string // loading the lookups in the background failed

	edit    *editor
	wsPick  *widget.Picker // choosing the workspace for a test ticket
	testing string         // alert type with a test ticket in flight
	w, h    int
}

// New builds the page.
func New(c *common.Common) *Model {
	return &Model{c: c, routes: map[string]storage.Route{}, tables: map[string]storage.LookupTable{}, asked: map[int]bool{},
		list: widget.NewTable(widget.Col{Title: "Alert type", Keep: true}, widget.Col{Title: "On"}, widget.Col{Title: "Board"},
			widget.Col{Title: "Status"}, widget.Col{Title: "Priority"}, widget.Col{Title: "Type"}, widget.Col{Title: "Subtype"}, widget.Col{Title: "Closed"})}
}

// cells is one alert type's row.
func (m *Model) cells(i int) []string {
	t := m.types[i]
	r, ok := m.routes[t]
	if !ok {
		return []string{t, "–", "not set up", "", "", "", "", ""}
	}
	on := "no"
	if r.Enabled {
		on = "yes"
	}
	return []string{t, on, r.Board.Name, r.Status.Name, r.Priority.Name, r.Type.Name, r.Subtype.Name, r.ClosedStatus.Name}
}

type routesMsg struct {
	routes []storage.Route
	revs   map[string]uint64 // alert type → revision the routes were read at
	err    error
}

func (m *Model) Init() tea.Cmd {
	m.asked[0] = true
	return tea.Batch(m.loadRoutes(), cachedLookups(m.c, 0, false),
		common.Watch(m.c, common.PageAlerts, storage.ChangeRoutes, storage.ChangeSettings))
}

func (m *Model) loadRoutes() tea.Cmd {
	st := m.c.Store
	return common.Route(common.PageAlerts, func() tea.Msg {
		rs, revs, err := st.RoutesAt()
		return routesMsg{routes: rs, revs: revs, err: err}
	})
}

// ensureBoard loads a board's statuses, types and subtypes once.
func (m *Model) ensureBoard(board int) tea.Cmd {
	if board == 0 || m.asked[board] {
		return nil
	}
	m.asked[board] = true
	return cachedLookups(m.c, board, false)
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case routesMsg:
		m.loaded = true
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.routes, m.revs = map[string]storage.Route{}, msg.revs
		var cmds []tea.Cmd
		for _, r := range msg.routes {
			m.routes[r.AlertType] = r
			cmds = append(cmds, m.ensureBoard(r.Board.ID))
		}
		m.types = alertTypes(m.c.Config, msg.routes)
		m.list.SetRows(len(m.types), m.cells)
		return tea.Batch(cmds...)
	case lookupsMsg:
		for _, t := range msg.tables {
			m.tables[tableKey(t.Kind, t.BoardID)] = t
		}
		var cmd tea.Cmd
		m.lookupErr = ""
		switch {
		case msg.err != nil && msg.forced:
			m.asked[msg.board] = false // let a later edit ask again
			m.refreshErr = msg.err.Error()
			cmd = common.Status("cannot read boards, statuses and priorities: "+msg.err.Error(), true)
		case msg.err != nil: // background loading: the page says it, quietly
			m.asked[msg.board] = false
			m.lookupErr = "cannot read boards, statuses and priorities: " + msg.err.Error()
		}
		if m.edit != nil && m.edit.route.Board.ID == msg.board && msg.board != 0 {
			m.edit.fillDefaults()
		}
		if msg.forced && m.refreshing > 0 {
			if m.refreshing--; m.refreshing == 0 && m.refreshErr == "" {
				cmd = common.Status("boards, statuses and priorities refreshed from ConnectWise", false)
			}
		}
		return cmd
	case common.ChangesMsg:
		cmds := []tea.Cmd{m.loadRoutes(), msg.Next}
		for _, ch := range msg.Changes {
			if ch.Kind == storage.ChangeSettings && ch.Key == storage.SettingConnection {
				// New credentials: the cached tables may be another site's.
				m.asked = map[int]bool{0: true}
				cmds = append(cmds, cachedLookups(m.c, 0, true))
				break
			}
		}
		return tea.Batch(cmds...)
	case savedMsg:
		if m.edit != msg.edit {
			return nil // that editor was closed; the watch reloads the routes
		}
		m.edit.saving = false
		var ce *storage.ConflictError
		if errors.As(msg.err, &ce) {
			// Someone saved this route since the form opened. Show what is
			// stored now beside the edits; saving again applies them over it.
			m.edit.conflict(msg.now, ce)
			return m.loadRoutes()
		}
		if msg.err != nil {
			m.edit.err = "not saved: " + msg.err.Error()
			return nil
		}
		m.edit = nil
		return tea.Batch(common.Status("saved the route for "+msg.route.AlertType, false), m.loadRoutes())
	case testTicketMsg:
		m.testing = ""
		if msg.err != nil {
			return common.Status(fmt.Sprintf("test ticket for %s failed: %v", msg.alertType, msg.err), true)
		}
		m.lastTest, m.lastTestURL = fmt.Sprintf("✓ test ticket #%d created for %s (%s)", msg.id, msg.alertType, wsLabel(msg.workspace)), msg.url
		m.SetSize(m.w, m.h) // the address takes lines from the list
		return common.Status(m.lastTest, false)
	case wsListMsg:
		items := []widget.Item{{Label: "(fallback company)", Detail: "incidents with no workspace", Value: ""}}
		for _, w := range msg.list {
			items = append(items, widget.Item{Label: w.Key, Detail: w.CWCompany, Value: w.Key})
		}
		p := widget.NewPicker("Send a test ticket for "+msg.alertType+" to", items)
		p.SetSize(m.w-2, m.h-3)
		m.wsPick = &p
		return nil
	case toggledMsg:
		if msg.err != nil {
			// A conflict says who changed the route; the reload shows how.
			return tea.Batch(common.Status("not switched: "+msg.err.Error(), true), m.loadRoutes())
		}
		return tea.Batch(common.Status(msg.what, false), m.loadRoutes())
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		// Only pickers take text here: paste filters them.
		switch {
		case m.wsPick != nil:
			return m.wsPick.Update(msg)
		case m.edit != nil && m.edit.picker != nil:
			return m.edit.picker.Update(msg)
		}
	}
	return nil
}

// alertTypes lists the built-in types, then configured and stored ones.
func alertTypes(cfg *config.Config, routes []storage.Route) []string {
	out := slices.Clone(config.BuiltinAlertTypes)
	add := func(t string) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if cfg != nil {
		for _, r := range cfg.Routes {
			add(r.AlertType)
		}
	}
	for _, r := range routes {
		add(r.AlertType)
	}
	return out
}

type (
	testTicketMsg struct {
		alertType, workspace string
		id                   int
		url                  string // the ticket's ConnectWise address
		err                  error
	}
	wsListMsg struct {
		alertType string
		list      []storage.Workspace
	}
	toggledMsg struct {
		what string // what was saved, for the status line
		err  error
	}
)

func wsLabel(ws string) string {
	if ws == "" {
		return "fallback company"
	}
	return ws
}

func (m *Model) current() string {
	if i := m.list.Cursor(); i < len(m.types) {
		return m.types[i]
	}
	return ""
}

func (m *Model) routeOf(t string) storage.Route {
	if r, ok := m.routes[t]; ok {
		return r
	}
	return storage.Route{AlertType: t}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.wsPick != nil {
		cmd := m.wsPick.Update(k)
		if m.wsPick.Cancelled() {
			m.wsPick = nil
		} else if it, ok := m.wsPick.Picked(); ok {
			m.wsPick = nil
			return m.sendTest(m.current(), it.Value)
		}
		return cmd
	}
	if m.edit != nil {
		if key.Matches(k, keys.Cancel) && m.edit.picker == nil {
			m.edit = nil
			return nil
		}
		return m.edit.update(k)
	}
	switch {
	case m.list.Update(k):
	case key.Matches(k, keys.Edit):
		if t := m.current(); t != "" {
			r := m.routeOf(t)
			if _, ok := m.routes[t]; !ok {
				r.Enabled = true // a new route is meant to work
			}
			m.edit = &editor{p: m, route: r, start: m.routeOf(t), rev: m.revs[t]}
			return m.ensureBoard(r.Board.ID)
		}
	case key.Matches(k, keys.Toggle):
		if cmd := m.c.Refuse("switch routes on or off"); cmd != nil {
			return cmd
		}
		t := m.current()
		r, ok := m.routes[t]
		if !ok {
			return common.Status("press enter to set up a route for "+t+" first", true)
		}
		r.Enabled = !r.Enabled
		what := "tickets for " + t + " are off"
		if r.Enabled {
			what = "tickets for " + t + " are on"
		}
		c, rev := m.c, m.revs[t]
		return common.Route(common.PageAlerts, func() tea.Msg { return toggledMsg{what: what, err: c.Store.PutRouteAt(c.Actor, r, rev)} })
	case key.Matches(k, keys.Test):
		if cmd := m.c.Refuse("send test tickets"); cmd != nil {
			return cmd
		}
		t := m.current()
		if r, ok := m.routes[t]; !ok || !r.Enabled {
			return common.Status("the "+t+" route is not enabled: set it up first (enter)", true)
		}
		if m.testing != "" {
			return common.Status("a test ticket for "+m.testing+" is on its way: wait for it", false)
		}
		st := m.c.Store
		return common.Route(common.PageAlerts, func() tea.Msg {
			l, _ := st.Workspaces()
			return wsListMsg{alertType: t, list: l}
		})
	case key.Matches(k, keys.Refresh):
		m.asked = map[int]bool{0: true}
		cmds := []tea.Cmd{cachedLookups(m.c, 0, true)}
		for _, r := range m.routes {
			if r.Board.ID != 0 && !m.asked[r.Board.ID] {
				m.asked[r.Board.ID] = true
				cmds = append(cmds, cachedLookups(m.c, r.Board.ID, true))
			}
		}
		m.refreshing, m.refreshErr = len(cmds), ""
		return tea.Batch(cmds...)
	}
	return nil
}

// sendTest creates one real ticket through the engine.
func (m *Model) sendTest(alertType, ws string) tea.Cmd {
	m.testing = alertType
	c := m.c
	return common.Route(common.PageAlerts, func() tea.Msg {
		ctx, cancel := context.WithTimeout(c.Ctx, 90*time.Second)
		defer cancel()
		id, err := c.Backend.SendTestTicket(ctx, alertType, ws)
		msg := testTicketMsg{alertType: alertType, workspace: ws, id: id, err: err}
		if cl, cerr := c.Client(); err == nil && cerr == nil {
			msg.url = cl.TicketURL(id)
		}
		return msg
	})
}

// testLink is the last test ticket's address, broken over lines to fit
// (never cut: it is meant to be opened).
func (m *Model) testLink() string {
	return ansi.SetHyperlink(m.lastTestURL) + ansi.Hardwrap(m.lastTestURL, max(20, m.w), false) + ansi.ResetHyperlink()
}

// The list's area: the page less the intro (2 lines) and the status (2,
// more while a test ticket's address shows).
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	extra := 0
	if m.lastTestURL != "" {
		extra = strings.Count(m.testLink(), "\n") + 2 // the result line and the address
	}
	m.list.SetSize(w, max(2, h-4-extra))
	if m.wsPick != nil {
		m.wsPick.SetSize(w-2, h-3)
	}
	if m.edit != nil && m.edit.picker != nil {
		m.edit.picker.SetSize(w-2, h-3)
	}
}

func (m *Model) Capturing() bool { return m.wsPick != nil || (m.edit != nil && m.edit.picker != nil) }
func (m *Model) Dirty() bool     { return m.edit != nil && m.edit.dirty() }

func (m *Model) View() string {
	st := m.c.Styles
	if m.wsPick != nil {
		return m.wsPick.View(st)
	}
	if m.edit != nil {
		return m.edit.view() + "\n\n" + m.statusView()
	}
	var b strings.Builder
	b.WriteString(widget.Trunc(st.Muted.Render("Where each alert type's tickets go; a new board reloads its statuses and types."), m.w) + "\n\n")
	if !m.loaded {
		b.WriteString(st.Muted.Render("  loading routes…") + "\n")
	}
	b.WriteString(m.list.View(st, func(i int) lipgloss.Style {
		if r, ok := m.routes[m.types[i]]; !ok || !r.Enabled {
			return st.Muted
		}
		return lipgloss.NewStyle()
	}) + "\n")
	b.WriteString("\n" + m.statusView())
	return b.String()
}

func (m *Model) statusView() string {
	st := m.c.Styles
	var line string
	switch {
	case m.err != "":
		line = st.Error.Render("✗ " + m.err)
	case m.testing != "":
		line = st.Muted.Render(widget.Trunc("sending a test ticket for "+m.testing+"…", m.w))
	case m.refreshing > 0:
		line = st.Muted.Render(widget.Trunc("refreshing boards, statuses and priorities from ConnectWise…", m.w))
	case m.lookupErr != "":
		line = st.Error.Render(widget.Trunc(m.lookupErr, m.w))
	}
	if m.lastTest != "" && m.lastTestURL != "" && m.testing == "" {
		// The last test ticket stays with its address, whole, whatever
		// else the line says: an OSC 8 hyperlink whose text is the address
		// (plain text where the terminal has no links).
		if line != "" {
			line += "\n"
		}
		line += st.OK.Render(widget.Trunc(m.lastTest, m.w)) + "\n" + m.testLink()
	}
	return line
}
