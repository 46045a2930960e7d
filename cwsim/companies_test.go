package cwsim

import (
	"net/url"
	"strconv"
	"testing"
)

// An incremental company sync asks for what changed since a lastUpdated
// watermark: edits, soft deletes and new companies must all move
// lastUpdated to the server's clock, and the fields and conditions such a
// sync uses must be known (unknown ones are refused, as ConnectWise does).
func TestCompanyChangesMoveLastUpdated(t *testing.T) {
	s := newTestServer(t, Options{Companies: 30})
	now := fmtTime(fixedNow())
	since := func() []map[string]any {
		t.Helper()
		q := url.Values{"conditions": {"_info/lastUpdated >= [" + now + "] OR dateDeleted >= [" + now + "]"},
			"fields": {"id,identifier,name,deletedFlag,_info/lastUpdated"}}
		r := api(t, s, "GET", "company/companies?"+q.Encode(), nil)
		wantStatus(t, r, 200)
		return r.list(t)
	}
	if got := since(); len(got) != 0 {
		t.Fatalf("seeded companies updated now: %v", got)
	}

	recs := s.Records("companies")
	edited, deleted := recs[0]["id"].(int), recs[1]["id"].(int)
	if err := s.EditCompany(edited, map[string]any{"name": "Renamed Ltd"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCompany(deleted); err != nil {
		t.Fatal(err)
	}
	s.AddCompanies(1)
	got := since()
	if len(got) != 3 {
		t.Fatalf("changed since %s: %v, want the edited, the deleted and the new company", now, got)
	}
	byID := map[int]map[string]any{}
	for _, c := range got {
		byID[num(c["id"])] = c
		if info, _ := c["_info"].(map[string]any); info["lastUpdated"] != now {
			t.Errorf("company %v: lastUpdated %v, want %s", c["id"], info["lastUpdated"], now)
		}
	}
	if byID[edited]["name"] != "Renamed Ltd" || byID[deleted]["deletedFlag"] != true {
		t.Errorf("edited %v, deleted %v", byID[edited], byID[deleted])
	}
	r := api(t, s, "GET", "company/companies/"+strconv.Itoa(deleted)+"?fields=id,deletedFlag,dateDeleted,deletedBy", nil)
	wantStatus(t, r, 200)
	if m := r.obj(t); m["dateDeleted"] != now || m["deletedBy"] == nil {
		t.Errorf("deleted company: %v", m)
	}

	// Strict: what the model does not have is refused.
	if err := s.EditCompany(edited, map[string]any{"colour": "red"}); err == nil {
		t.Error("EditCompany took an unknown field")
	}
	q := url.Values{"conditions": {"updatedSince >= [" + now + "]"}}
	wantError(t, api(t, s, "GET", "company/companies?"+q.Encode(), nil), 400, "ApiFindCondition")
}
