package alerts

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// Editor rows.
const (
	eEnabled = iota
	eBoard
	eStatus
	ePriority
	eType
	eSubtype
	eClosed
	eLinkContact
	eLinkConfig
	eSave
	numERows
)

var rowNames = [...]string{"Enabled", "Board", "Status", "Priority", "Type", "Subtype", "Closed status", "Link contact", "Link device", ""}

// flip switches a yes/no row; it reports whether row is one.
func (e *editor) flip(row int) bool {
	switch row {
	case eEnabled:
		e.route.Enabled = !e.route.Enabled
	case eLinkContact:
		e.route.ContactLinkOff = !e.route.ContactLinkOff
	case eLinkConfig:
		e.route.ConfigurationLinkOff = !e.route.ConfigurationLinkOff
	default:
		return false
	}
	return true
}

// editor edits one route.
type editor struct {
	p       *Model
	route   storage.Route
	start   storage.Route
	row     int
	picker  *widget.Picker
	pickFor int
	err     string
	saving  bool
	rev     uint64 // the route's revision when the form opened (or was last refused)
	stored  string // after a refused save: what is stored now, differing from the edits
}

func (e *editor) dirty() bool { return e.route != e.start }

// ref reads a row's value.
func (e *editor) ref(row int) *storage.Ref { return refOf(&e.route, row) }

func refOf(r *storage.Route, row int) *storage.Ref {
	switch row {
	case eBoard:
		return &r.Board
	case eStatus:
		return &r.Status
	case ePriority:
		return &r.Priority
	case eType:
		return &r.Type
	case eSubtype:
		return &r.Subtype
	case eClosed:
		return &r.ClosedStatus
	}
	return nil
}

// choices lists what a row may be set to; optional rows start with "(none)".
func (e *editor) choices(row int) (items []widget.Item, loaded bool) {
	board := e.route.Board.ID
	var kind storage.LookupKind
	switch row {
	case eBoard:
		kind, board = storage.LookupBoards, 0
	case ePriority:
		kind, board = storage.LookupPriorities, 0
	case eStatus, eClosed:
		kind = storage.LookupStatuses
	case eType:
		kind = storage.LookupTypes
	case eSubtype:
		kind = storage.LookupSubtypes
	}
	if board == 0 && row != eBoard && row != ePriority {
		return nil, true
	}
	t, ok := e.p.tables[tableKey(kind, board)]
	if !ok {
		return nil, false
	}
	if row != eBoard && row != eStatus {
		items = append(items, widget.Item{Label: "(none)", Value: "none"})
	}
	for _, it := range t.Items {
		if it.Inactive {
			continue
		}
		if row == eStatus && it.Closed || row == eClosed && !it.Closed {
			continue
		}
		d := ""
		if row == eStatus || row == eClosed {
			if it.Closed {
				d = "closed"
			}
		}
		items = append(items, widget.Item{Label: it.Name, Detail: d, ID: it.ID})
	}
	return items, true
}

func (e *editor) update(k tea.KeyPressMsg) tea.Cmd {
	if e.picker != nil {
		cmd := e.picker.Update(k)
		if e.picker.Cancelled() {
			e.picker = nil
		} else if it, ok := e.picker.Picked(); ok {
			e.picker = nil
			return e.set(e.pickFor, it)
		}
		return cmd
	}
	switch {
	case key.Matches(k, keys.RowUp):
		e.row = (e.row + numERows - 1) % numERows
	case key.Matches(k, keys.RowDown):
		e.row = (e.row + 1) % numERows
	case key.Matches(k, keys.Toggle):
		e.flip(e.row)
	case key.Matches(k, keys.Save):
		return e.save()
	case key.Matches(k, keys.Change):
		switch {
		case e.flip(e.row):
		case e.row == eSave:
			return e.save()
		default:
			items, loaded := e.choices(e.row)
			switch {
			case e.route.Board.ID == 0 && e.row != eBoard && e.row != ePriority:
				e.err = "choose a board first"
			case !loaded:
				e.err = "still loading the choices from ConnectWise…"
			default:
				p := widget.NewPicker(rowNames[e.row]+" for "+e.route.AlertType, items)
				p.Empty = "ConnectWise has none on this board"
				p.SetSize(e.p.w-2, e.p.h-3)
				// Open on the current value (by id, or by name when the
				// config gave only a name), so enter keeps it.
				switch r := e.ref(e.row); {
				case r.ID != 0:
					p.Select(r.ID, "")
				case r.Name != "" && p.SelectLabel(r.Name):
				default:
					p.Select(0, "none")
				}
				e.picker, e.pickFor, e.err = &p, e.row, ""
			}
		}
	}
	return nil
}

// set applies a choice. A new board invalidates the board's own tables:
// its status, type, subtype and closed status are cleared and its choices
// loaded, then sensible defaults filled in.
func (e *editor) set(row int, it widget.Item) tea.Cmd {
	r := e.ref(row)
	newRef := storage.Ref{ID: it.ID, Name: it.Label}
	if it.Value == "none" {
		newRef = storage.Ref{}
	}
	if row == eBoard && newRef.ID != e.route.Board.ID {
		e.route.Status, e.route.Type, e.route.Subtype, e.route.ClosedStatus = storage.Ref{}, storage.Ref{}, storage.Ref{}, storage.Ref{}
		*r = newRef
		e.fillDefaults()
		return e.p.ensureBoard(newRef.ID)
	}
	*r = newRef
	return nil
}

// fillDefaults picks the first open and the "Closed" status once the
// board's tables are known.
func (e *editor) fillDefaults() {
	t, ok := e.p.tables[tableKey(storage.LookupStatuses, e.route.Board.ID)]
	if !ok {
		return
	}
	for _, it := range t.Items {
		if it.Inactive {
			continue
		}
		if !it.Closed && e.route.Status.ID == 0 {
			e.route.Status = storage.Ref{ID: it.ID, Name: it.Name}
		}
		if it.Closed && (e.route.ClosedStatus.ID == 0 || strings.EqualFold(it.Name, "Closed")) {
			e.route.ClosedStatus = storage.Ref{ID: it.ID, Name: it.Name}
		}
	}
}

type savedMsg struct {
	edit  *editor // the editor that saved
	route storage.Route
	err   error
	now   storage.Route // on a conflict: the route as stored now
}

func (e *editor) save() tea.Cmd {
	if cmd := e.p.c.Refuse("save routes"); cmd != nil {
		return cmd
	}
	if e.route.Enabled && e.route.Board.IsZero() {
		e.err = "an enabled route needs a board"
		e.row = eBoard
		return nil
	}
	if e.route.Enabled && e.route.Status.IsZero() {
		e.err = "an enabled route needs a status for new tickets"
		e.row = eStatus
		return nil
	}
	e.saving, e.err = true, ""
	r, c, rev := e.route, e.p.c, e.rev
	return common.Route(common.PageAlerts, func() tea.Msg {
		msg := savedMsg{edit: e, route: r, err: c.Store.PutRouteAt(c.Actor, r, rev)}
		if errors.Is(msg.err, storage.ErrConflict) {
			msg.now, _ = c.Store.Route(r.AlertType)
		}
		return msg
	})
}

// conflict takes a refused save: the edits stay on the form, the message
// says who changed what, and the values stored now are listed where they
// differ; a second save applies the edits over them deliberately.
func (e *editor) conflict(now storage.Route, ce *storage.ConflictError) {
	e.rev, e.start = ce.Now.Seq, now
	var diffs []string
	if now.Enabled != e.route.Enabled {
		diffs = append(diffs, fmt.Sprintf("enabled %v", now.Enabled))
	}
	if now.LinksContact() != e.route.LinksContact() {
		diffs = append(diffs, fmt.Sprintf("link contact %v", now.LinksContact()))
	}
	if now.LinksConfiguration() != e.route.LinksConfiguration() {
		diffs = append(diffs, fmt.Sprintf("link device %v", now.LinksConfiguration()))
	}
	for row := eBoard; row <= eClosed; row++ {
		mine := *e.ref(row)
		stored := *refOf(&now, row)
		if mine != stored {
			diffs = append(diffs, strings.ToLower(rowNames[row])+" "+orNone(stored.Name))
		}
	}
	e.stored = strings.Join(diffs, ", ")
	e.err = "not saved: " + ce.Error() + ". Save again to apply your edits over them, esc to drop yours."
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (e *editor) view() string {
	st := e.p.c.Styles
	if e.picker != nil {
		return e.picker.View(st)
	}
	var b strings.Builder
	b.WriteString(st.Title.Render("Route for "+e.route.AlertType) + "\n")
	if note := e.p.c.FromConfigFile("route", e.route.AlertType); note != "" {
		b.WriteString(st.Warn.Render(ansi.Wrap(note, max(20, e.p.w-2), " ")) + "\n")
	}
	b.WriteString("\n")
	for row := range numERows {
		cur := "  "
		label := st.Label.Render(widget.Fit(rowNames[row], 14))
		if row == e.row {
			cur, label = st.Cursor.Render("▸ "), st.Cursor.Render(widget.Fit(rowNames[row], 14))
		}
		switch row {
		case eEnabled:
			v := "[ ] no tickets for this alert type"
			if e.route.Enabled {
				v = "[x] tickets are created"
			}
			b.WriteString(cur + label + " " + v + "\n")
		case eLinkContact, eLinkConfig:
			on, what := !e.route.ContactLinkOff, "the affected user's ConnectWise contact is set on the ticket (never emailed)"
			if row == eLinkConfig {
				on, what = !e.route.ConfigurationLinkOff, "the device's ConnectWise configuration is attached to the ticket"
			}
			v := "[ ] " + st.Muted.Render("not linked")
			if on {
				v = "[x] " + what
			}
			b.WriteString(cur + label + " " + v + "\n")
		case eSave:
			s := st.Bold.Render("[ Save ]")
			if row == e.row {
				s = st.Selected.Render("[ Save ]")
			}
			b.WriteString("\n" + cur + s)
		default:
			v := e.ref(row).Name
			if v == "" {
				v = st.Muted.Render("(none)")
			}
			if row != eBoard && row != ePriority && e.route.Board.ID != 0 {
				if _, loaded := e.choices(row); !loaded {
					v += st.Muted.Render("  loading choices…")
				}
			}
			b.WriteString(cur + label + " " + v + "\n")
		}
	}
	switch {
	case e.saving:
		b.WriteString("  " + st.Muted.Render("saving…"))
	case e.err != "":
		// Wrapped, never cut: a refusal names who changed the route and how.
		for _, l := range strings.Split(ansi.Wrap(e.err, max(20, e.p.w-4), " "), "\n") {
			b.WriteString("  " + st.Error.Render(l) + "\n")
		}
		if e.stored != "" {
			b.WriteString("  " + st.Muted.Render(ansi.Wrap("now stored: "+e.stored, max(20, e.p.w-4), " ,")) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
