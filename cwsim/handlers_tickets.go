package cwsim

import (
	"net/http"
	"strings"
	"time"
)

// Ticket fields: validated and stored; stored as sent (references to
// things the simulator does not model); accepted and ignored (controls and
// read-only fields ConnectWise ignores on input).
var (
	ticketModelled = []string{"summary", "board", "status", "company", "site", "type", "subType", "priority",
		"severity", "impact", "externalXRef", "poNumber", "contactName", "contactPhoneNumber",
		"contactPhoneExtension", "contactEmailAddress", "requiredDate", "budgetHours", "agreement"}
	ticketPassthrough = []string{"contact", "team", "owner", "source", "item", "serviceLocation", "workRole",
		"workType", "location", "department", "sla", "currency", "customFields", "integratorTags"}
	ticketInitial = []string{"initialDescription", "initialInternalAnalysis", "initialResolution", "initialDescriptionFrom"}
	// The email switches are stored: whether ConnectWise emails the contact
	// (an end user) is something a client must be able to see and set.
	ticketEmailFlags = []string{"automaticEmailContactFlag", "automaticEmailCcFlag"}
	ticketIgnored    = []string{"id", "recordType", "closedFlag", "closedDate", "closedBy", "_info", "processNotifications",
		"skipCallback", "automaticEmailResourceFlag",
		"automaticEmailCc", "allowAllClientsPortalView", "customerUpdatedFlag", "contactEmailLookup",
		"actualHours", "isInSla", "dateResolved", "dateResponded", "dateResplan", "slaStatus", "approved",
		"hasChildTicket", "hasMergedChildTicketFlag", "parentTicketId", "mobileGuid", "resources"}

	ticketPostFields  = newFieldSet(concat(ticketModelled, ticketPassthrough, ticketEmailFlags, ticketInitial, ticketIgnored)...)
	ticketPatchFields = newFieldSet(concat(ticketModelled, ticketPassthrough, ticketEmailFlags)...)
	ticketRefFields   = newFieldSet("board", "status", "company", "site", "type", "subType", "priority", "agreement",
		"contact", "team", "owner", "source", "item", "serviceLocation", "workRole", "workType", "location",
		"department", "sla", "currency")
)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var severities = []string{"Low", "Medium", "High"}

func idName(r *record) map[string]any {
	return map[string]any{"id": r.id, "name": r.data["name"]}
}

func companyRef(r *record) map[string]any {
	return map[string]any{"id": r.id, "identifier": r.data["identifier"], "name": r.data["name"]}
}

// buildTicket validates a ticket body (POST) or patched view (PATCH; old
// set, carried lists fields kept from the stored ticket, which are
// silently re-defaulted instead of rejected when a board change makes
// them invalid). Caller holds the write lock.
func (s *Server) buildTicket(in map[string]any, old *record, carried map[string]bool) (map[string]any, []map[string]any, *apiError) {
	v := &validation{resource: "ticket"}
	if old == nil {
		v.rejectUnknown(in, ticketPostFields)
	}
	out := map[string]any{"recordType": "ServiceTicket"}

	if summary, ok := v.str(in, "summary", 100, true); ok {
		out["summary"] = summary
	}
	companies := s.colls["companies"]
	company := v.ref(in, "company", true, "identifier", func(id int, alt string) *record {
		if id != 0 {
			return companies.get(id)
		}
		return companies.findFold(companies.recs, "identifier", alt)
	})
	if company != nil {
		if del, _ := company.data["deletedFlag"].(bool); del && !carried["company"] {
			v.invalid("company", "Company %s is deleted.", company.data["identifier"])
		} else {
			out["company"] = companyRef(company)
		}
	}

	boards := s.colls["boards"]
	board := v.ref(in, "board", true, "name", finder(boards, boards.recs, "name"))
	if board != nil {
		if b, _ := board.data["inactiveFlag"].(bool); b && !carried["board"] {
			v.invalid("board", "Board %s is inactive.", board.data["name"])
			board = nil
		} else if b, _ := board.data["projectFlag"].(bool); b && !carried["board"] {
			v.invalid("board", "Board %s is a project board; service tickets need a service board.", board.data["name"])
			board = nil
		} else {
			out["board"] = idName(board)
		}
	}

	// status, type and subType belong to the board.
	if board != nil {
		statuses := s.colls["statuses"]
		if carried["status"] && !belongs(in["status"], statuses, board.id) {
			delete(in, "status")
		}
		status := v.ref(in, "status", false, "name", s.boardFinder(statuses, board.id, "status", v))
		if status != nil {
			if b, _ := status.data["inactive"].(bool); b {
				v.invalid("status", "Status %s is inactive.", status.data["name"])
				status = nil
			}
		} else if in["status"] == nil { // absent or null: the board's default
			status = defaultOf(statuses.scope(board.id, true))
		}
		if status != nil {
			out["status"] = map[string]any{"id": status.id, "name": status.data["name"], "sort": status.data["sortOrder"]}
			if closed, _ := status.data["closedStatus"].(bool); closed {
				out["closedFlag"] = true
				out["closedBy"] = apiMemberIdentifier
				out["closedDate"] = fmtTime(s.now())
				if old != nil {
					if was, _ := old.data["closedFlag"].(bool); was {
						out["closedDate"] = old.data["closedDate"]
						out["closedBy"] = old.data["closedBy"]
					}
				}
			} else {
				out["closedFlag"] = false
			}
		}

		types := s.colls["types"]
		if carried["type"] && !belongs(in["type"], types, board.id) {
			delete(in, "type")
		}
		typ := v.ref(in, "type", false, "name", s.boardFinder(types, board.id, "type", v))
		if typ != nil {
			if b, _ := typ.data["inactiveFlag"].(bool); b {
				v.invalid("type", "Type %s is inactive.", typ.data["name"])
			} else {
				out["type"] = idName(typ)
			}
		}
		subtypes := s.colls["subtypes"]
		if carried["subType"] && (!belongs(in["subType"], subtypes, board.id) || typ == nil ||
			!associated(subtypes.get(refID(in["subType"])), typ.id)) {
			delete(in, "subType")
		}
		sub := v.ref(in, "subType", false, "name", s.boardFinder(subtypes, board.id, "subType", v))
		if sub != nil {
			switch {
			case in["type"] == nil:
				v.invalid("subType", "subType %s needs a type.", sub.data["name"])
			case typ != nil && !associated(sub, typ.id):
				v.invalid("subType", "subType %s is not associated with type %s.", sub.data["name"], typ.data["name"])
			case typ != nil:
				out["subType"] = idName(sub)
			}
		}
	}

	priorities := s.colls["priorities"]
	prio := v.ref(in, "priority", false, "name", finder(priorities, priorities.recs, "name"))
	if prio == nil && in["priority"] == nil {
		prio = defaultOf(priorities.recs)
	}
	if prio != nil {
		out["priority"] = map[string]any{"id": prio.id, "name": prio.data["name"], "sort": prio.data["sortOrder"], "level": prio.data["level"]}
	}

	for _, f := range []string{"severity", "impact"} {
		if e, ok := v.enum(in, f, false, severities...); ok {
			out[f] = e
		} else if in[f] == nil {
			out[f] = "Medium"
		}
	}
	for _, f := range []struct {
		name string
		max  int
	}{{"externalXRef", 100}, {"poNumber", 50}, {"contactName", 62}, {"contactPhoneNumber", 20},
		{"contactPhoneExtension", 15}, {"contactEmailAddress", 250}} {
		if str, ok := v.str(in, f.name, f.max, false); ok {
			out[f.name] = str
		}
	}
	if d, ok := v.date(in, "requiredDate"); ok {
		out["requiredDate"] = d
	}
	if h, ok := v.number(in, "budgetHours"); ok {
		if h < 0 {
			v.invalid("budgetHours", "budgetHours may not be negative.")
		} else {
			out["budgetHours"] = h
		}
	}
	if company != nil {
		sites := s.colls["sites"]
		if site := v.ref(in, "site", false, "name", finder(sites, sites.scope(company.id, true), "name")); site != nil {
			out["site"] = idName(site)
		}
		agreements := s.colls["agreements"]
		ag := v.ref(in, "agreement", false, "name", func(id int, alt string) *record {
			for _, a := range agreements.recs {
				if a.parent == company.id && (a.id == id || (id == 0 && strings.EqualFold(a.data["name"].(string), alt))) {
					return a
				}
			}
			return nil
		})
		if ag != nil {
			out["agreement"] = idName(ag)
		}
	}
	for _, f := range ticketPassthrough {
		raw, present := in[f]
		if !present || raw == nil {
			continue
		}
		switch raw.(type) {
		case map[string]any:
			if ticketRefFields[f] {
				if _, ok := toInt(raw.(map[string]any)["id"]); !ok {
					v.invalid(f, "%s must be a reference object such as {\"id\": 1}.", f)
					continue
				}
			}
		case []any:
			if f != "customFields" && f != "integratorTags" {
				v.invalid(f, "%s must be an object.", f)
				continue
			}
		default:
			v.invalid(f, "%s must be an object.", f)
			continue
		}
		out[f] = deepCopy(raw)
	}

	if company != nil {
		s.checkTicketContact(out, v)
	}
	s.ticketEmailFlags(in, out, old, v)

	var notes []map[string]any
	if old == nil {
		for _, n := range []struct{ field, flag string }{
			{"initialDescription", "detailDescriptionFlag"},
			{"initialInternalAnalysis", "internalAnalysisFlag"},
			{"initialResolution", "resolutionFlag"},
		} {
			if text, ok := v.str(in, n.field, 0, false); ok && text != "" {
				notes = append(notes, map[string]any{"text": text, n.flag: true})
			}
		}
		v.str(in, "initialDescriptionFrom", 0, false)
	}
	if v.failed() {
		return nil, nil, v.err()
	}
	now := fmtTime(s.now())
	info := map[string]any{"lastUpdated": now, "updatedBy": apiMemberIdentifier, "dateEntered": now, "enteredBy": apiMemberIdentifier}
	if old != nil {
		oi := old.data["_info"].(map[string]any)
		info["dateEntered"], info["enteredBy"] = oi["dateEntered"], oi["enteredBy"]
	}
	out["_info"] = info
	return out, notes, nil
}

// boardFinder resolves a status/type/subType on the ticket's board and
// names the board when the reference belongs to another one.
func (s *Server) boardFinder(c *collection, boardID int, field string, v *validation) func(int, string) *record {
	return func(id int, alt string) *record {
		if id != 0 {
			r := c.get(id)
			if r != nil && r.parent != boardID {
				v.invalid(field, "%s %d belongs to another board; use one of board %d's %s.", field, id, boardID, c.name)
				return &record{id: -1} // reported already
			}
			return r
		}
		return c.findFold(c.scope(boardID, true), "name", alt)
	}
}

func belongs(ref any, c *collection, boardID int) bool {
	r := c.get(refID(ref))
	return r != nil && r.parent == boardID
}

func refID(ref any) int {
	m, _ := ref.(map[string]any)
	id, _ := toInt(m["id"])
	return id
}

func associated(sub *record, typeID int) bool {
	if sub == nil {
		return false
	}
	ids, _ := sub.data["typeAssociationIds"].([]any)
	for _, x := range ids {
		if n, _ := toInt(x); n == typeID {
			return true
		}
	}
	return false
}

func defaultOf(recs []*record) *record {
	for _, r := range recs {
		if d, _ := r.data["defaultFlag"].(bool); d {
			return r
		}
	}
	if len(recs) > 0 {
		return recs[0]
	}
	return nil
}

func (s *Server) handleTicketPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	in, e := readObject(r, "ticket")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusCreated, func() (*record, *apiError) {
		data, notes, e := s.buildTicket(in, nil, nil)
		if e != nil {
			return nil, e
		}
		rec := s.colls["tickets"].insert(0, data)
		for _, n := range notes {
			s.colls["notes"].insert(rec.id, s.noteData(rec.id, n))
		}
		return rec, nil
	})
}

// ticketView is the editable form of a stored ticket that PATCH ops apply to.
func ticketView(d map[string]any) map[string]any {
	view := map[string]any{}
	for _, f := range ticketModelled {
		if v, ok := d[f]; ok {
			if m, isMap := v.(map[string]any); isMap {
				view[f] = map[string]any{"id": m["id"]}
			} else {
				view[f] = v
			}
		}
	}
	for _, f := range concat(ticketPassthrough, ticketEmailFlags) {
		if v, ok := d[f]; ok {
			view[f] = deepCopy(v)
		}
	}
	return view
}

func (s *Server) handleTicketPatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	ops, e := readPatch(r, "ticket")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusOK, func() (*record, *apiError) { return s.patchTicket(rc.ids[0], ops) })
}

// patchTicket applies ops to a stored ticket (caller holds the write lock).
func (s *Server) patchTicket(id int, ops []patchOp) (*record, *apiError) {
	tickets := s.colls["tickets"]
	old := tickets.get(id)
	if old == nil {
		return nil, errRecordNotFound(tickets, id)
	}
	view := ticketView(old.data)
	v := &validation{resource: "ticket"}
	touched := applyPatch(view, ops, ticketPatchFields, ticketRefFields, v)
	if v.failed() {
		return nil, v.err()
	}
	carried := map[string]bool{}
	// Fields the patch does not name are carried over; a company deleted or
	// a board deactivated since the ticket was made does not block edits.
	for _, f := range []string{"status", "type", "subType", "company", "board"} {
		carried[f] = !touched[f]
	}
	if touched["company"] { // the old site/agreement belonged to the old company
		for _, f := range []string{"site", "agreement"} {
			if !touched[f] {
				delete(view, f)
			}
		}
	}
	data, _, e := s.buildTicket(view, old, carried)
	if e != nil {
		return nil, e
	}
	return tickets.replace(old, data), nil
}

func (s *Server) handleTicketSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	body, e := readObject(r, "search")
	if e != nil {
		return e
	}
	v := &validation{resource: "search"}
	v.rejectUnknown(body, newFieldSet("conditions", "childConditions", "customFieldConditions", "orderBy"))
	conds, _ := v.str(body, "conditions", 0, false)
	for _, f := range []string{"childConditions", "customFieldConditions", "orderBy"} {
		if s, ok := v.str(body, f, 0, false); ok && strings.TrimSpace(s) != "" {
			v.invalid(f, "%s in a search body is not supported by this simulator; use the orderBy query parameter.", f)
		}
	}
	if v.failed() {
		return v.err()
	}
	return s.serveList(w, r, rc, "tickets", "", &conds)
}

// commit runs write under the server's write lock and answers with the
// record it returns, or returns its error (nothing is committed then).
func (s *Server) commit(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, write func() (*record, *apiError)) *apiError {
	if d := s.faults.Load().SlowCommit; d > 0 {
		time.Sleep(d) // not the request's context: the write lands even if the caller left
	}
	s.mu.Lock()
	rec, e := write()
	s.mu.Unlock()
	if e != nil {
		return e
	}
	s.answerWrite(w, r, rc, status, rec)
	return nil
}

// answerWrite sends a committed write's answer, unless the LostResponse
// fault eats it.
func (s *Server) answerWrite(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, rec *record) {
	if roll(s.faults.Load().LostResponse) {
		s.loseResponse(w)
		return
	}
	body := encodeWithFields(r, rec)
	if s.brokenAnswer(w, status, body) {
		return
	}
	s.writeJSON(w, rc, status, body)
}
