package cwsim

import "net/http"

var noteFields = newFieldSet("text", "detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag", "issueFlag",
	"member", "contact", "customerUpdatedFlag", "processNotifications", "dateCreated", "createdBy", "internalFlag",
	"externalFlag", "sentimentScore", "ticketId", "id", "_info")

// noteData builds a stored service note from validated input flags.
func (s *Server) noteData(ticketID int, in map[string]any) map[string]any {
	flag := func(k string) bool { b, _ := in[k].(bool); return b }
	now := fmtTime(s.now())
	return map[string]any{
		"ticketId":              ticketID,
		"text":                  in["text"],
		"detailDescriptionFlag": flag("detailDescriptionFlag"),
		"internalAnalysisFlag":  flag("internalAnalysisFlag"),
		"resolutionFlag":        flag("resolutionFlag"),
		"issueFlag":             flag("issueFlag"),
		"customerUpdatedFlag":   false,
		"internalFlag":          flag("internalAnalysisFlag"),
		"externalFlag":          flag("detailDescriptionFlag") || flag("resolutionFlag"),
		"member":                apiMemberRef(),
		"createdBy":             apiMemberIdentifier,
		"dateCreated":           now,
		"_info":                 map[string]any{"lastUpdated": now, "updatedBy": apiMemberIdentifier},
	}
}

func (s *Server) handleNotePost(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	ticketID := rc.ids[0]
	s.mu.RLock()
	tickets := s.colls["tickets"]
	exists := tickets.get(ticketID) != nil
	s.mu.RUnlock()
	if !exists {
		return errRecordNotFound(tickets, ticketID)
	}
	in, e := readObject(r, "serviceNote")
	if e != nil {
		return e
	}
	v := &validation{resource: "serviceNote"}
	v.rejectUnknown(in, noteFields)
	v.str(in, "text", 0, true)
	any := false
	for _, f := range []string{"detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag", "issueFlag",
		"customerUpdatedFlag", "processNotifications", "internalFlag", "externalFlag"} {
		if b, ok := v.boolean(in, f); ok && b && (f == "detailDescriptionFlag" || f == "internalAnalysisFlag" || f == "resolutionFlag") {
			any = true
		}
	}
	if !v.failed() && !any {
		v.add("InvalidField", "detailDescriptionFlag", "Please choose where to display the notes in order to save this record.")
	}
	if v.failed() {
		return v.err()
	}
	return s.commit(w, r, rc, http.StatusCreated, func() (*record, *apiError) {
		old := tickets.get(ticketID)
		if old == nil { // deleted meanwhile
			return nil, errRecordNotFound(tickets, ticketID)
		}
		rec := s.colls["notes"].insert(ticketID, s.noteData(ticketID, in))
		s.touch(tickets, old)
		return rec, nil
	})
}

// touch bumps a record's _info.lastUpdated (caller holds the write lock).
func (s *Server) touch(c *collection, old *record) {
	d := copyMap(old.data)
	info, _ := d["_info"].(map[string]any)
	if info == nil {
		info = map[string]any{}
		d["_info"] = info
	}
	info["lastUpdated"] = fmtTime(s.now())
	info["updatedBy"] = apiMemberIdentifier
	c.replace(old, d)
}
