// Package setup is the Setup page: the onboarding wizard on first run (and
// on demand), otherwise an overview of the saved settings.
package setup

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Model is the Setup page.
type Model struct {
	c       *common.Common
	prefill *storage.Connection
	banner  string

	loaded bool
	err    string
	wz     *wizard // nil: overview
	rerun  bool    // the wizard was opened from the overview: esc on step 1 returns there

	conn     storage.Connection
	hasConn  bool
	ob       storage.Onboarding // shared: "done" once setup is finished
	draft    storage.Onboarding // this technician's unfinished wizard
	agType   storage.AgreementType
	mappings []storage.ProductMapping
	rev      uint64 // the setup settings' revision at load (storage.SetupRevision)
	w, h     int
}

// Options for the page.
type Options struct {
	// Prefill fills an empty wizard with these credentials (the demo's
	// simulator); Banner says where they came from.
	Prefill *storage.Connection
	Banner  string
}

// New builds the page.
func New(c *common.Common, o Options) *Model {
	return &Model{c: c, prefill: o.Prefill, banner: o.Banner}
}

type loadedMsg struct {
	ob       storage.Onboarding
	draft    storage.Onboarding
	conn     storage.Connection
	hasConn  bool
	agType   storage.AgreementType
	mappings []storage.ProductMapping
	rev      uint64 // the setup settings' revision these values were read at
	err      error
}

type doneMsg struct{}

// NeedsOnboarding reports whether setup has never been finished; the root
// opens on this page then.
func NeedsOnboarding(st *storage.Store) bool {
	o, err := st.Onboarding()
	if err != nil || o.Step != "done" {
		return true
	}
	_, err = st.Connection()
	return err != nil
}

func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	st, actor := m.c.Store, m.c.Actor
	return common.Route(common.PageSetup, func() tea.Msg {
		var l loadedMsg
		l.ob, l.err = st.Onboarding()
		if l.err != nil {
			return l
		}
		if l.draft, l.err = st.Draft(actor); l.err != nil {
			return l
		}
		conn, err := st.Connection()
		switch {
		case err == nil:
			l.conn, l.hasConn = conn, true
		case !errors.Is(err, storage.ErrNotFound):
			l.err = err
			return l
		}
		if a, err := st.AgreementType(); err == nil {
			l.agType = a
		}
		l.mappings, _ = st.ProductMappings()
		if r, err := st.SetupRevision(); err == nil {
			l.rev = r.Seq
		}
		return l
	})
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		m.loaded = true
		if msg.err != nil {
			m.err = msg.err.Error()
			return nil
		}
		m.ob, m.draft, m.conn, m.hasConn, m.agType, m.mappings, m.rev = msg.ob, msg.draft, msg.conn, msg.hasConn, msg.agType, msg.mappings, msg.rev
		if m.wz == nil && m.unfinished() && !m.c.ReadOnly { // a viewer never lands in the wizard
			return m.startWizard(false)
		}
		return nil
	case doneMsg:
		m.wz = nil
		return m.load()
	}
	if m.wz != nil {
		if k, ok := msg.(tea.KeyPressMsg); ok && m.rerun && m.wz.step == stepCredentials && key.Matches(k, keys.Leave) {
			return m.leaveWizard()
		}
		return m.wz.update(msg)
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && m.loaded {
		if key.Matches(k, keys.Rerun) {
			if cmd := m.c.Refuse("run the setup wizard"); cmd != nil {
				return cmd
			}
			return m.startWizard(true)
		}
	}
	return nil
}

// unfinished: setup has never been completed.
func (m *Model) unfinished() bool { return m.ob.Step != "done" || !m.hasConn }

// leaveWizard closes a re-run wizard; nothing of it was saved.
func (m *Model) leaveWizard() tea.Cmd {
	if m.wz.cancel != nil {
		m.wz.cancel()
	}
	m.wz, m.rerun = nil, false
	return m.load()
}

// startWizard opens the wizard: resuming this technician's progress, or
// (rerun) from the saved settings.
func (m *Model) startWizard(rerun bool) tea.Cmd {
	wz := newWizard(m.c)
	wz.rev = m.rev // a save is checked against the settings this wizard started from
	wz.rerun = rerun
	o := m.draft
	if o.Step == "" && m.ob.Step != "done" {
		o = m.ob // progress kept by an older version in the shared record
	}
	if rerun || o.Step == "done" {
		o = storage.Onboarding{Step: stepNames[stepCredentials], Draft: m.conn}
	}
	// An empty wizard starts from what is stored (a config file may have
	// set the connection), else from the demo's prefill.
	if o.Draft.Site == "" && o.Draft.CompanyID == "" {
		switch {
		case m.hasConn:
			o.Draft = m.conn
		case m.prefill != nil:
			o.Draft = *m.prefill
		}
	}
	wz.load(o, m.mappings, m.agType)
	wz.setSize(m.w, m.h)
	m.wz, m.rerun = wz, rerun
	var cmds []tea.Cmd
	if wz.step == stepCredentials {
		cmds = append(cmds, wz.focusField(0))
	}
	// Resuming past credentials restarts what that step needs.
	switch wz.step {
	case stepVerify:
		cmds = append(cmds, wz.startVerify())
	case stepAgreement:
		cmds = append(cmds, wz.loadAgreementTypes())
	}
	return tea.Batch(cmds...)
}

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	if m.wz != nil {
		m.wz.setSize(w, h)
	}
}

func (m *Model) Capturing() bool { return m.wz != nil && m.wz.capturing() }
func (m *Model) Dirty() bool     { return m.wz != nil && m.wz.dirty() }

// InWizard reports whether the wizard is open (for tests and the root).
func (m *Model) InWizard() bool { return m.wz != nil }

func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	if m.banner != "" && m.wz != nil && m.wz.step == stepCredentials {
		b.WriteString(st.Warn.Render(wrap(m.banner, m.w)) + "\n")
	}
	switch {
	case m.err != "":
		b.WriteString(st.Error.Render("✗ cannot read the settings: " + m.err))
	case !m.loaded:
		b.WriteString(st.Muted.Render("loading…"))
	case m.wz != nil:
		b.WriteString(m.wz.view())
	case m.unfinished() && m.c.ReadOnly:
		b.WriteString(st.Title.Render("Setup not finished — ask an admin") + "\n\n" +
			st.Muted.Render(wrap("This session is read-only (its key has role=viewer), so it cannot run the setup wizard. "+
				"The other pages work: Companies, Alerts, Feed and Health show what is stored so far.", m.w)))
	default:
		b.WriteString(m.overview())
	}
	return b.String()
}

func (m *Model) overview() string {
	st := m.c.Styles
	row := func(k, v string) string { return "  " + st.Label.Render(widget.Fit(k, 16)) + " " + v + "\n" }
	var b strings.Builder
	b.WriteString(st.Title.Render("Setup complete") + "\n\n")
	b.WriteString(st.Subtitle.Render("ConnectWise") + "\n")
	b.WriteString(row("Site", m.conn.Site))
	b.WriteString(row("Company ID", m.conn.CompanyID))
	b.WriteString(row("Public key", m.conn.PublicKey))
	b.WriteString(row("Private key", storage.Mask))
	b.WriteString(row("Client ID", m.conn.ClientID))
	ver := st.Muted.Render("never")
	if !m.ob.VerifiedAt.IsZero() {
		ver = st.OK.Render("✓ "+m.ob.VerifiedAt.UTC().Format("2006-01-02 15:04 UTC")) + st.Muted.Render(" ("+m.c.Since(m.ob.VerifiedAt)+")")
	}
	b.WriteString(row("Verified", ver))
	ag := m.agType.Name
	if m.agType.ID == 0 {
		ag = st.Muted.Render("(none)")
	}
	b.WriteString("\n" + row("Agreement type", ag))
	for _, pm := range m.mappings {
		v := ""
		if pm.Existing != nil {
			v = "existing " + pm.Existing.Identifier
		} else if pm.CreateNew != nil {
			v = "create " + pm.CreateNew.Identifier + " — " + pm.CreateNew.Description
		}
		b.WriteString(row("Product "+pm.Key, widget.Trunc(v, m.w-20)))
	}
	b.WriteString("\n" + st.Muted.Render(wrap("Next: 2 Companies to bind workspaces, 3 Alerts to route alert types, 4 Feed to watch tickets arrive. w runs the setup wizard again.", m.w)))
	return b.String()
}
