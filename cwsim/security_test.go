package cwsim

import (
	"net/url"
	"strings"
	"testing"
)

func TestMySecurityAndEnforcement(t *testing.T) {
	s := newTestServer(t, Options{})
	recs := api(t, s, "GET", "system/mySecurity", nil).list(t)
	if len(recs) != 7 {
		t.Fatalf("mySecurity: %d", len(recs))
	}
	names := map[string]map[string]any{}
	for _, r := range recs {
		names[r["moduleName"].(string)+" > "+r["moduleFunctionName"].(string)] = r
		for _, f := range []string{"inquireLevel", "addLevel", "editLevel", "deleteLevel"} {
			if r[f] != "All" {
				t.Errorf("%v default %s = %v", r["moduleFunctionName"], f, r[f])
			}
		}
	}
	for _, fn := range []string{FuncCompanyMaintenance, FuncServiceTickets, FuncTableSetup, FuncAgreements, FuncProductCatalog,
		FuncContacts, FuncConfigurations} {
		if names[fn] == nil {
			t.Errorf("mySecurity lacks %s", fn)
		}
	}

	s.SetSecurity(FuncServiceTickets, All, None, My, None)
	r := api(t, s, "POST", "service/tickets", ticketBody(nil))
	m := wantError(t, r, 403, "Forbidden")
	if !strings.Contains(m["message"].(string), FuncServiceTickets) || !strings.Contains(m["message"].(string), "Add") {
		t.Errorf("403 message: %v", m["message"])
	}
	wantError(t, api(t, s, "POST", "service/tickets/250001/notes", map[string]any{"text": "x", "resolutionFlag": true}), 403, "Forbidden")
	wantStatus(t, api(t, s, "GET", "service/tickets", nil), 200)
	wantStatus(t, api(t, s, "POST", "service/tickets/search", map[string]any{"conditions": "id > 1"}), 200)                                // search is an inquiry
	wantStatus(t, api(t, s, "PATCH", "service/tickets/250001", []map[string]any{{"op": "replace", "path": "summary", "value": "x"}}), 200) // My allows
	r = api(t, s, "GET", "system/mySecurity?conditions="+url.QueryEscape(`moduleFunctionName="Service Tickets"`), nil)
	got := r.list(t)
	if len(got) != 1 || got[0]["addLevel"] != "None" || got[0]["editLevel"] != "My" || got[0]["inquireLevel"] != "All" ||
		got[0]["moduleIdentifier"] != "ServiceDesk" {
		t.Errorf("mySecurity after change: %s", r.body)
	}

	s.SetSecurity(FuncCompanyMaintenance, None, None, None, None)
	wantError(t, api(t, s, "GET", "company/companies", nil), 403, "Forbidden")
	wantError(t, api(t, s, "GET", "company/companies/19301/sites", nil), 403, "Forbidden")
	wantStatus(t, api(t, s, "GET", "system/info", nil), 200)
	wantStatus(t, api(t, s, "GET", "system/mySecurity", nil), 200)

	s.SetSecurity(FuncTableSetup, None, All, All, All)
	for _, p := range []string{"service/boards", "service/boards/21/statuses", "service/priorities", "finance/agreements/types",
		"procurement/subcategories", "procurement/types"} {
		wantError(t, api(t, s, "GET", p, nil), 403, "Forbidden")
	}
	s.SetSecurity(FuncAgreements, All, All, None, All)
	wantStatus(t, api(t, s, "GET", "finance/agreements", nil), 200)
	wantError(t, api(t, s, "PATCH", "finance/agreements/1001/additions/3001", []map[string]any{{"op": "replace", "path": "quantity", "value": 1}}), 403, "Forbidden")
	s.SetSecurity(FuncProductCatalog, All, None, All, All)
	wantError(t, api(t, s, "POST", "procurement/catalog", map[string]any{"identifier": "X"}), 403, "Forbidden")
	wantStatus(t, api(t, s, "GET", "procurement/catalog", nil), 200)
}
