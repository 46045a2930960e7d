// Package billing is the Billing page: per workspace and product the
// wanted quantity, the quantity in ConnectWise, the state and the last
// sync; s works out the live plan, shows it as a diff and applies it only
// after a yes; every error opens in full with its fix.
package billing

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Model is the Billing page. It shows the stored picture (what the last
// sync left) until p or s asks ConnectWise for the live plan; esc goes
// back to the stored picture.
type Model struct {
	c *common.Common

	status    engine.BillingStatus
	companies map[string]string // workspace key → ConnectWise company identifier
	loaded    bool
	err       string

	plan      *engine.BillingPlan // the live plan on screen, if any
	planStale bool                // usage changed after the plan was worked out
	planning  bool
	syncing   bool

	rows   []row // what the table lists: the plan's rows, or the stored ones
	table  widget.Table
	detail bool
	dv     widget.Detail
	w, h   int
}

// New builds the page.
func New(c *common.Common) *Model {
	return &Model{c: c, dv: widget.NewDetail(), table: widget.NewTable(storedCols...)}
}

// The table's columns. The plan leaves out the last sync (its detail has
// it), so the diff has the room on a narrow screen.
var (
	storedCols = []widget.Col{{Title: "Workspace", Keep: true}, {Title: "Company", Keep: true}, {Title: "Product", Keep: true},
		{Title: "Wanted"}, {Title: "In CW"}, {Title: "State"}, {Title: "Last sync"}, {Title: "Note", Flex: true}}
	planCols = []widget.Col{{Title: "Workspace", Keep: true}, {Title: "Company", Keep: true}, {Title: "Product", Keep: true},
		{Title: "Wanted"}, {Title: "In CW"}, {Title: "State"}, {Title: "Change", Flex: true}}
)

type (
	statusMsg struct {
		status    engine.BillingStatus
		companies map[string]string
		err       error
	}
	planMsg struct {
		plan  engine.BillingPlan
		err   error
		apply bool // asked for with s: ask to apply it
	}
	// applyMsg is the yes to the question: the sync starts from Update, so
	// the page knows it runs.
	applyMsg  struct{}
	syncedMsg struct {
		plan engine.BillingPlan
		err  error
	}
	// tickMsg redraws, so "5m ago" stays true on a quiet system.
	tickMsg struct{}
)

// redraw is how often "ago" is brought up to date.
const redraw = 30 * time.Second

func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.load(), common.Watch(m.c, common.PageBilling, storage.ChangeUsage, storage.ChangeBilling), m.tick())
}

func (m *Model) tick() tea.Cmd {
	return common.Route(common.PageBilling, m.c.Tick(redraw, func(time.Time) tea.Msg { return tickMsg{} }))
}

// load reads the stored picture and which company each workspace bills.
func (m *Model) load() tea.Cmd {
	be, st := m.c.Backend, m.c.Store
	return common.Route(common.PageBilling, func() tea.Msg {
		s, err := be.BillingStatus()
		cos := map[string]string{}
		if wss, werr := st.Workspaces(); werr == nil {
			for _, w := range wss {
				cos[w.Key] = w.CWCompany
			}
		}
		return statusMsg{status: s, companies: cos, err: err}
	})
}

// askPlan works the plan out in ConnectWise (reads only).
func (m *Model) askPlan(apply bool) tea.Cmd {
	m.planning = true
	c := m.c
	return common.Route(common.PageBilling, func() tea.Msg {
		p, err := c.Backend.BillingPlan(c.Ctx)
		return planMsg{plan: p, err: err, apply: apply}
	})
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case statusMsg:
		m.loaded = true
		m.err = ""
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.status, m.companies = msg.status, msg.companies
		m.setRows()
		return nil
	case common.ChangesMsg:
		for _, ch := range msg.Changes {
			if ch.Kind == storage.ChangeUsage && m.plan != nil && !m.syncing {
				m.planStale = true
			}
		}
		return tea.Batch(m.load(), msg.Next)
	case planMsg:
		m.planning = false
		if msg.err != nil {
			return common.Status("cannot work out the billing plan: "+msg.err.Error(), true)
		}
		p := msg.plan
		m.plan, m.planStale, m.detail = &p, false, false
		m.setRows()
		if !msg.apply {
			return common.Status("the plan is on screen: nothing was changed ("+summary(p)+")", false)
		}
		return m.ask(p)
	case applyMsg:
		if cmd := m.c.Refuse("sync billing"); cmd != nil {
			return cmd
		}
		if m.syncing {
			return nil
		}
		m.syncing = true
		c := m.c
		return common.Route(common.PageBilling, func() tea.Msg {
			p, err := c.Backend.SyncBilling(c.Ctx)
			return syncedMsg{plan: p, err: err}
		})
	case syncedMsg:
		m.syncing = false
		// Back to the stored picture, which the sync just wrote.
		m.plan, m.planStale, m.detail = nil, false, false
		m.setRows()
		if msg.err != nil {
			return tea.Batch(common.Status("billing sync: "+msg.err.Error()+" ("+done(msg.plan)+")", true), m.load())
		}
		return tea.Batch(common.Status("billing synced: "+done(msg.plan), failed(msg.plan) > 0), m.load())
	case tickMsg:
		return m.tick()
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

// ask puts the plan's changes to the user; a plan with nothing to apply
// says so instead.
func (m *Model) ask(p engine.BillingPlan) tea.Cmd {
	if p.Creates+p.Updates == 0 {
		if p.InStep() {
			return common.Status("ConnectWise is in step: nothing to change", false)
		}
		return common.Status("nothing to apply: "+summary(p)+" (enter shows each in full)", p.Errors > 0)
	}
	var what string
	switch {
	case p.Updates == 0:
		what = fmt.Sprintf("%d %s to create", p.Creates, plural(p.Creates, "addition"))
	case p.Creates == 0:
		what = fmt.Sprintf("%d %s to change", p.Updates, plural(p.Updates, "addition"))
	default:
		what = fmt.Sprintf("%d %s to create, %d to change", p.Creates, plural(p.Creates, "addition"), p.Updates)
	}
	q := "Apply the plan to ConnectWise: " + what + "?"
	return common.Confirm(q, common.Route(common.PageBilling, func() tea.Msg { return applyMsg{} }))
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.detail {
		switch {
		case key.Matches(k, keys.Close):
			m.detail = false
			return nil
		case m.dv.Scroll(k):
			return nil
		}
	}
	prev := m.table.Cursor()
	switch {
	case m.table.Update(k):
		if m.table.Cursor() != prev {
			m.dv.Top()
		}
	case key.Matches(k, keys.Open):
		if len(m.rows) > 0 {
			m.detail = true
			m.dv.Top()
		}
	case key.Matches(k, keys.Plan):
		if m.planning || m.syncing {
			return common.Status(m.busy(), false)
		}
		return m.askPlan(false)
	case key.Matches(k, keys.Sync):
		if cmd := m.c.Refuse("sync billing"); cmd != nil {
			return cmd
		}
		if m.planning || m.syncing {
			return common.Status(m.busy(), false)
		}
		return m.askPlan(true)
	case key.Matches(k, keys.Stored):
		if m.plan != nil {
			m.plan, m.planStale = nil, false
			m.setRows()
		}
	}
	return nil
}

func (m *Model) busy() string {
	if m.syncing {
		return "a billing sync is running: wait for it"
	}
	return "the plan is being worked out: wait for it"
}

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.table.SetSize(w, max(2, h-4))
}

func (m *Model) Capturing() bool { return false }
func (m *Model) Dirty() bool     { return false }
