package cwsim

import (
	"strconv"
	"strings"
	"testing"
)

func ticketBody(extra map[string]any) map[string]any {
	b := map[string]any{"summary": "Malware detected", "company": map[string]any{"id": 19301},
		"board": map[string]any{"name": "Security"}}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func TestTicketCreate(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "POST", "service/tickets", ticketBody(map[string]any{
		"initialDescription": "Seen on HOST-1", "initialInternalAnalysis": "Looks real",
		"type": map[string]any{"name": "Incident"}, "subType": map[string]any{"name": "Malware"},
		"externalXRef": "inc-1", "severity": "high", "contactName": "Ann"}))
	wantStatus(t, r, 201)
	m := r.obj(t)
	if m["recordType"] != "ServiceTicket" || m["closedFlag"] != false || m["severity"] != "High" || m["impact"] != "Medium" {
		t.Errorf("ticket: %s", r.body)
	}
	if m["status"].(map[string]any)["name"] != "New" || m["priority"].(map[string]any)["name"] != "Priority 3 - Normal Response" {
		t.Errorf("defaults: %s", r.body)
	}
	if c := m["company"].(map[string]any); c["identifier"] != "AcmeDentalGroup" || c["name"] != "Acme Dental Group" {
		t.Errorf("company ref: %v", c)
	}
	if m["board"].(map[string]any)["id"] != float64(21) || m["subType"].(map[string]any)["name"] != "Malware" {
		t.Errorf("refs: %s", r.body)
	}
	if _, ok := m["initialDescription"]; ok {
		t.Error("initialDescription returned")
	}
	if m["_info"].(map[string]any)["lastUpdated"] != "2026-01-02T03:04:05Z" {
		t.Errorf("_info: %v", m["_info"])
	}
	id := num(m["id"])
	if id != 250007 {
		t.Errorf("id %d", id)
	}
	notes := api(t, s, "GET", "service/tickets/250007/notes", nil).list(t)
	if len(notes) != 2 || notes[0]["text"] != "Seen on HOST-1" || notes[0]["detailDescriptionFlag"] != true ||
		notes[1]["internalAnalysisFlag"] != true || notes[1]["detailDescriptionFlag"] != false {
		t.Errorf("initial notes: %v", notes)
	}
	// By identifier, status by name; a closed status closes the ticket.
	r = api(t, s, "POST", "service/tickets", ticketBody(map[string]any{
		"company": map[string]any{"identifier": "northwindlogistics"}, "status": map[string]any{"name": "Closed"},
		"priority": map[string]any{"id": 1}}))
	wantStatus(t, r, 201)
	m = r.obj(t)
	if m["closedFlag"] != true || m["closedDate"] != "2026-01-02T03:04:05Z" || num(m["company"].(map[string]any)["id"]) != 19302 {
		t.Errorf("closed ticket: %s", r.body)
	}
	wantStatus(t, api(t, s, "POST", "service/tickets", ticketBody(map[string]any{"summary": strings.Repeat("x", 100)})), 201)
}

func TestTicketValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	statuses := s.Records("statuses")
	var otherBoardStatus int
	for _, st := range statuses {
		if st["board"].(map[string]any)["name"] == "Help Desk" {
			otherBoardStatus = st["id"].(int)
			break
		}
	}
	cases := []struct {
		name        string
		body        map[string]any
		field, code string
	}{
		{"no summary", ticketBody(map[string]any{"summary": nil}), "summary", "MissingRequiredField"},
		{"blank summary", ticketBody(map[string]any{"summary": "  "}), "summary", "MissingRequiredField"},
		{"long summary", ticketBody(map[string]any{"summary": strings.Repeat("x", 101)}), "summary", "InvalidField"},
		{"summary not string", ticketBody(map[string]any{"summary": 5}), "summary", "InvalidField"},
		{"no company", ticketBody(map[string]any{"company": nil}), "company", "MissingRequiredField"},
		{"bare string company", ticketBody(map[string]any{"company": "AcmeDentalGroup"}), "company", "InvalidField"},
		{"unknown company", ticketBody(map[string]any{"company": map[string]any{"id": 5}}), "company", "InvalidField"},
		{"unknown identifier", ticketBody(map[string]any{"company": map[string]any{"identifier": "Nope"}}), "company", "InvalidField"},
		{"empty company ref", ticketBody(map[string]any{"company": map[string]any{}}), "company", "MissingRequiredField"},
		{"deleted company", ticketBody(map[string]any{"company": map[string]any{"id": deletedCompany(s)}}), "company", "InvalidField"},
		{"no board", ticketBody(map[string]any{"board": nil}), "board", "MissingRequiredField"},
		{"inactive board", ticketBody(map[string]any{"board": map[string]any{"name": "Legacy Board"}}), "board", "InvalidField"},
		{"project board", ticketBody(map[string]any{"board": map[string]any{"name": "Projects"}}), "board", "InvalidField"},
		{"unknown board", ticketBody(map[string]any{"board": map[string]any{"id": 999}}), "board", "InvalidField"},
		{"status of other board", ticketBody(map[string]any{"status": map[string]any{"id": otherBoardStatus}}), "status", "InvalidField"},
		{"unknown status name", ticketBody(map[string]any{"status": map[string]any{"name": "Nope"}}), "status", "InvalidField"},
		{"inactive status", ticketBody(map[string]any{"status": map[string]any{"name": "Cancelled (Old)"}}), "status", "InvalidField"},
		{"type of other board", ticketBody(map[string]any{"type": map[string]any{"id": 305}}), "type", "InvalidField"},
		{"subType not of type", ticketBody(map[string]any{"type": map[string]any{"name": "Service Request"}, "subType": map[string]any{"name": "Malware"}}), "subType", "InvalidField"},
		{"subType without type", ticketBody(map[string]any{"subType": map[string]any{"name": "DNS"}}), "subType", "InvalidField"},
		{"unknown priority", ticketBody(map[string]any{"priority": map[string]any{"name": "Priority 9"}}), "priority", "InvalidField"},
		{"priority as string", ticketBody(map[string]any{"priority": "Priority 1 - Emergency Response"}), "priority", "InvalidField"},
		{"long externalXRef", ticketBody(map[string]any{"externalXRef": strings.Repeat("x", 101)}), "externalXRef", "InvalidField"},
		{"bad severity", ticketBody(map[string]any{"severity": "Critical"}), "severity", "InvalidField"},
		{"bad impact", ticketBody(map[string]any{"impact": 3}), "impact", "InvalidField"},
		{"unknown field", ticketBody(map[string]any{"foo": 1}), "foo", "InvalidField"},
		{"bad requiredDate", ticketBody(map[string]any{"requiredDate": "tomorrow"}), "requiredDate", "InvalidField"},
		{"site of other company", ticketBody(map[string]any{"site": map[string]any{"id": 99999}}), "site", "InvalidField"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := api(t, s, "POST", "service/tickets", c.body)
			wantFieldError(t, r, c.field, c.code)
			if m := r.obj(t); m["message"] != "ticket object is invalid" {
				t.Errorf("message %v", m["message"])
			}
		})
	}
	if n := len(s.Records("tickets")); n != 6 {
		t.Errorf("invalid posts created tickets: %d", n)
	}
	wantError(t, api(t, s, "POST", "service/tickets", `{"summary":`), 400, "InvalidObject")
	wantError(t, api(t, s, "POST", "service/tickets", `[1]`), 400, "InvalidObject")
	wantError(t, api(t, s, "POST", "service/tickets", `{} {}`), 400, "InvalidObject")
}

func deletedCompany(s *Server) int {
	for _, c := range s.Records("companies") {
		if c["deletedFlag"] == true {
			return c["id"].(int)
		}
	}
	return 0
}

func TestTicketPatch(t *testing.T) {
	s := newTestServer(t, Options{})
	before := s.Records("tickets")[0]
	r := api(t, s, "PATCH", "service/tickets/250001", []map[string]any{
		{"op": "replace", "path": "summary", "value": "New summary"},
		{"op": "replace", "path": "/priority", "value": map[string]any{"name": "Priority 1 - Emergency Response"}},
		{"op": "add", "path": "externalXRef", "value": "x-1"},
	})
	wantStatus(t, r, 200)
	m := r.obj(t)
	if m["summary"] != "New summary" || m["externalXRef"] != "x-1" || num(m["priority"].(map[string]any)["id"]) != 1 {
		t.Errorf("patched: %s", r.body)
	}
	if m["_info"].(map[string]any)["lastUpdated"] != "2026-01-02T03:04:05Z" ||
		m["_info"].(map[string]any)["dateEntered"] != before["_info"].(map[string]any)["dateEntered"] {
		t.Errorf("_info: %v", m["_info"])
	}
	// Close by status name.
	m = api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "status", "value": map[string]any{"name": "Closed"}}}).obj(t)
	if m["closedFlag"] != true || m["closedDate"] == nil {
		t.Errorf("close: %v", m)
	}
	// Reopen clears closedDate.
	m = api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "status", "value": map[string]any{"name": "In Progress"}}}).obj(t)
	if m["closedFlag"] != false || m["closedDate"] != nil {
		t.Errorf("reopen: %v", m)
	}
	// Moving boards resets a status the new board lacks.
	m = api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "board", "value": map[string]any{"name": "Help Desk"}}}).obj(t)
	st := m["status"].(map[string]any)
	if m["board"].(map[string]any)["name"] != "Help Desk" || st["name"] != "New" || num(st["id"]) < 107 {
		t.Errorf("board move: %v", m)
	}
	// A status of another board, named explicitly, is rejected.
	r = api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "status", "value": map[string]any{"id": 101}}})
	wantFieldError(t, r, "status", "InvalidField")
	// Nested path on a reference: ConnectWise's documented false 200.
	r = api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "company/identifier", "value": "NorthwindLogistics"}})
	wantStatus(t, r, 200)
	if num(r.obj(t)["company"].(map[string]any)["id"]) != 19301 {
		t.Error("false 200 changed the company")
	}
	for name, body := range map[string]any{
		"object body":    map[string]any{"op": "replace", "path": "summary", "value": "x"},
		"bad op":         []map[string]any{{"op": "move", "path": "summary", "value": "x"}},
		"no path":        []map[string]any{{"op": "replace", "value": "x"}},
		"no value":       []map[string]any{{"op": "replace", "path": "summary"}},
		"read-only path": []map[string]any{{"op": "replace", "path": "closedFlag", "value": true}},
		"remove summary": []map[string]any{{"op": "remove", "path": "summary"}},
		"long summary":   []map[string]any{{"op": "replace", "path": "summary", "value": strings.Repeat("y", 101)}},
		"bad severity":   []map[string]any{{"op": "replace", "path": "severity", "value": "Urgent"}},
		"empty":          []map[string]any{},
	} {
		r := api(t, s, "PATCH", "service/tickets/250001", body)
		if r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	wantError(t, api(t, s, "PATCH", "service/tickets/1", []map[string]any{{"op": "replace", "path": "summary", "value": "x"}}), 404, "NotFound")
}

func TestNotes(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"text": "hello"})
	m := wantError(t, r, 400, "InvalidObject")
	if m["message"] != "serviceNote object is invalid" ||
		m["errors"].([]any)[0].(map[string]any)["message"] != "Please choose where to display the notes in order to save this record." {
		t.Errorf("no-flag note: %s", r.body)
	}
	wantFieldError(t, api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"text": "x", "resolutionFlag": false, "internalAnalysisFlag": false}), "detailDescriptionFlag", "")
	wantFieldError(t, api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"resolutionFlag": true}), "text", "MissingRequiredField")
	wantFieldError(t, api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"text": "x", "resolutionFlag": "yes"}), "resolutionFlag", "InvalidField")
	wantFieldError(t, api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"text": "x", "resolutionFlag": true, "color": "red"}), "color", "InvalidField")
	wantError(t, api(t, s, "POST", "service/tickets/1/notes", map[string]any{"text": "x", "resolutionFlag": true}), 404, "NotFound")
	wantError(t, api(t, s, "GET", "service/tickets/1/notes", nil), 404, "NotFound")

	r = api(t, s, "POST", "service/tickets/250002/notes", map[string]any{"text": "Block User\njdoe", "resolutionFlag": true})
	wantStatus(t, r, 201)
	n := r.obj(t)
	if n["ticketId"] != float64(250002) || n["resolutionFlag"] != true || n["text"] != "Block User\njdoe" ||
		n["dateCreated"] != "2026-01-02T03:04:05Z" || n["member"] == nil {
		t.Errorf("note: %s", r.body)
	}
	cnt := api(t, s, "GET", "service/tickets/250002/notes/count", nil)
	if string(cnt.body) != `{"count":3}` {
		t.Errorf("count: %s", cnt.body)
	}
	r = api(t, s, "GET", "service/tickets/250002/notes?conditions=resolutionFlag%3Dtrue", nil)
	if len(r.list(t)) != 1 {
		t.Errorf("resolution notes: %s", r.body)
	}
	tk := api(t, s, "GET", "service/tickets/250002", nil).obj(t)
	if tk["_info"].(map[string]any)["lastUpdated"] != "2026-01-02T03:04:05Z" {
		t.Errorf("note did not touch ticket: %v", tk["_info"])
	}
	wantStatus(t, api(t, s, "GET", "service/tickets/250002/notes/"+strconv.Itoa(num(n["id"])), nil), 200)
	wantError(t, api(t, s, "GET", "service/tickets/250003/notes/"+strconv.Itoa(num(n["id"])), nil), 404, "NotFound")
}

func TestTicketPatchCompanyDropsOldSite(t *testing.T) {
	s := newTestServer(t, Options{})
	var site int
	for _, st := range s.Records("sites") {
		if st["company"].(map[string]any)["id"] == 19301 {
			site = st["id"].(int)
		}
	}
	r := api(t, s, "POST", "service/tickets", ticketBody(map[string]any{"site": map[string]any{"id": site}}))
	wantStatus(t, r, 201)
	id := strconv.Itoa(num(r.obj(t)["id"]))
	r = api(t, s, "PATCH", "service/tickets/"+id, []map[string]any{{"op": "replace", "path": "company", "value": map[string]any{"identifier": "NorthwindLogistics"}}})
	wantStatus(t, r, 200)
	m := r.obj(t)
	if m["site"] != nil || m["company"].(map[string]any)["identifier"] != "NorthwindLogistics" {
		t.Errorf("company change: %s", r.body)
	}
	r = api(t, s, "PATCH", "service/tickets/"+id, []map[string]any{{"op": "replace", "path": "site", "value": map[string]any{"id": site}}})
	wantFieldError(t, r, "site", "InvalidField")
}
