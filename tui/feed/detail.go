package feed

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/internal/textsafe"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// detail is the pane for one event: the incident behind it, its ticket
// and the ticket's notes (read from ConnectWise), and the key's history.
type detail struct {
	ev       storage.FeedEvent
	inc      *storage.Incident
	incErr   string
	history  []storage.FeedEvent
	notes    []cwclient.Note
	notesErr string
	loading  bool
	where    where
	links    *storage.TicketLinks // what was linked to the ticket, and why not
	url      string               // the ticket's ConnectWise web address
}

// where is where the event's ticket went in ConnectWise: the workspace's
// company, or the fallback company for an unknown tenant, and the board
// of the alert type's route.
type where struct {
	cwCompany   string
	noWorkspace bool // the company is no workspace: the fallback company
	fallback    string
	board       string
}

type detailMsg struct {
	seq      uint64
	inc      *storage.Incident
	incErr   error
	notes    []cwclient.Note
	notesErr error
	where    where
	links    *storage.TicketLinks
	url      string
}

// sameSubject: e is about what ev is about. A billing event's key is its
// product, so its history is that product's for the same workspace (or
// the catalog's, with no workspace); an incident's is its key's.
func sameSubject(e, ev *storage.FeedEvent) bool {
	if ev.Key == "" || e.Key != ev.Key || (e.Kind == storage.FeedBilling) != (ev.Kind == storage.FeedBilling) {
		return false
	}
	return ev.Kind != storage.FeedBilling || e.Company == ev.Company
}

func historyTitle(ev storage.FeedEvent) string {
	switch {
	case ev.Kind == storage.FeedBilling && ev.Company == "":
		return "This product's catalog item"
	case ev.Kind == storage.FeedBilling:
		return "This workspace and product"
	}
	return "This incident key"
}

func timeZone(c *common.Common) *time.Location { return c.Now().Location() }

func (m *Model) openDetail() tea.Cmd {
	ev, ok := m.selected()
	if !ok {
		return nil
	}
	m.detail = true
	m.det = detail{ev: *ev, loading: true}
	m.dv.Top()
	for i := range m.events {
		if e := &m.events[i]; sameSubject(e, ev) {
			m.det.history = append(m.det.history, *e)
		}
	}
	c, e := m.c, *ev
	return common.Route(common.PageFeed, func() tea.Msg {
		out := detailMsg{seq: e.Seq}
		if e.IncidentID != "" {
			inc, err := c.Store.Incident(e.IncidentID)
			if err == nil {
				out.inc = &inc
			} else if !errors.Is(err, storage.ErrNotFound) {
				out.incErr = err
			}
		}
		out.where = whereOf(c.Store, e, out.inc)
		if e.Key != "" {
			if k, err := c.Store.IncidentKey(e.Key); err == nil && k.TicketID == e.TicketID {
				out.links = k.Links
			}
		}
		if e.TicketID != 0 {
			cl, err := c.Client()
			if err == nil {
				out.url = cl.TicketURL(e.TicketID)
				out.notes, err = cl.TicketNotes(c.Ctx, e.TicketID, cwclient.Query{OrderBy: "id desc", PageSize: 25})
			}
			out.notesErr = err
		}
		return out
	})
}

// whereOf reads where ev's ticket went (best effort: what cannot be read
// is left out).
func whereOf(st *storage.Store, ev storage.FeedEvent, inc *storage.Incident) where {
	var w where
	if ev.Company != "" {
		ws, err := st.Workspace(ev.Company)
		switch {
		case err == nil:
			w.cwCompany = ws.CWCompany
		case errors.Is(err, storage.ErrNotFound):
			w.noWorkspace = true
			if conn, err := st.Connection(); err == nil {
				w.fallback = conn.FallbackCompany
			}
		}
	}
	if inc != nil {
		if r, err := st.Route(inc.Type); err == nil {
			w.board = r.Board.Name
		}
	}
	return w
}

// orWaiting is an outcome still to come, said as such.
func orWaiting(outcome string) string {
	if outcome == "" {
		return "linking after the ticket was made…"
	}
	return outcome
}

func (d *detail) apply(msg detailMsg) {
	d.loading = false
	d.where, d.links, d.url = msg.where, msg.links, msg.url
	d.inc = msg.inc
	if msg.incErr != nil {
		d.incErr = msg.incErr.Error()
	}
	d.notes = msg.notes
	if msg.notesErr != nil {
		d.notesErr = msg.notesErr.Error()
	}
}

// view is the whole text, in full: the pane (widget.Detail) wraps and
// scrolls it, so reasons and notes are never cut.
func (d *detail) view(c *common.Common) string {
	st := c.Styles
	var b strings.Builder
	row := func(k, v string) {
		if v != "" {
			b.WriteString(st.Label.Render(widget.Fit(k, 10)) + " " + textsafe.OneLine(v) + "\n")
		}
	}
	ev := d.ev
	b.WriteString(st.Subtitle.Render(fmt.Sprintf("%s  %s", strings.ToUpper(string(ev.Kind)), ev.Time.In(timeZone(c)).Format("2006-01-02 15:04:05"))) + "\n")
	if ev.TicketID != 0 {
		row("Ticket", fmt.Sprintf("#%d", ev.TicketID))
		if d.url != "" {
			// An OSC 8 hyperlink around the address itself: a terminal
			// without them shows the address as plain text.
			b.WriteString(st.Label.Render(widget.Fit("Open", 10)) + " " +
				ansi.SetHyperlink(d.url) + d.url + ansi.ResetHyperlink() + "\n")
		}
	}
	row("Company", ev.Company)
	switch w := d.where; {
	case w.noWorkspace && w.fallback != "":
		row("CW company", w.fallback+" (the fallback company: no workspace is "+ev.Company+")")
	case w.noWorkspace && !d.loading:
		row("CW company", "none: no workspace is "+ev.Company+" and no fallback company is set")
	default:
		row("CW company", w.cwCompany)
	}
	row("Board", d.where.board)
	if l := d.links; l != nil {
		contact, config := l.Contact, l.Configuration
		if l.Pending {
			contact, config = orWaiting(contact), orWaiting(config)
		}
		row("Contact", contact)
		row("Config", config)
	}
	row("Severity", ev.Severity)
	row("Message", ev.Message)
	if inc := d.inc; inc != nil {
		row("Incident", inc.ID)
		row("Type", inc.Type)
		row("Title", inc.Title)
		row("State", string(inc.State))
		row("User", inc.User)
		row("Device", inc.Device)
		row("Domain", inc.Domain)
		row("Source IP", inc.SourceIP)
		if len(inc.Reasons) > 0 {
			row("Reasons", strings.Join(inc.Reasons, "; "))
		}
		if inc.Error != "" {
			b.WriteString(st.Error.Render("error: "+inc.Error) + "\n")
		}
	} else if ev.IncidentID != "" && !d.loading {
		row("Incident", ev.IncidentID+" (no longer stored)")
	}
	if d.incErr != "" {
		b.WriteString(st.Error.Render("incident: "+d.incErr) + "\n")
	}
	if ev.TicketID != 0 {
		b.WriteString("\n" + st.Subtitle.Render("Ticket notes") + "\n")
		switch {
		case d.loading:
			b.WriteString(st.Muted.Render("loading from ConnectWise…") + "\n")
		case d.notesErr != "":
			b.WriteString(st.Error.Render("✗ "+d.notesErr) + "\n")
		case len(d.notes) == 0:
			b.WriteString(st.Muted.Render("no notes") + "\n")
		}
		for _, n := range d.notes {
			when := ""
			if n.DateCreated != nil {
				when = n.DateCreated.In(timeZone(c)).Format("01-02 15:04") + " "
			}
			flag := "note"
			switch {
			case n.ResolutionFlag:
				flag = "resolution"
			case n.InternalAnalysisFlag:
				flag = "internal"
			}
			b.WriteString(st.Muted.Render(when+flag+": ") + strings.Join(strings.Fields(textsafe.Clean(n.Text)), " ") + "\n")
		}
	}
	if len(d.history) > 1 {
		b.WriteString("\n" + st.Subtitle.Render(historyTitle(ev)) + "\n")
		for i := len(d.history) - 1; i >= 0; i-- {
			e := d.history[i]
			b.WriteString(st.Muted.Render(e.Time.In(timeZone(c)).Format("15:04:05")+" ") + string(e.Kind) + " " + textsafe.OneLine(e.Message) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
