package cwsim

import (
	"net/url"
	"testing"
)

func q(s string) string { return url.QueryEscape(s) }

func TestContactsAndChildConditions(t *testing.T) {
	s := newTestServer(t, Options{Companies: 3})
	acme := `company/identifier = "AcmeDentalGroup"`
	all := api(t, s, "GET", "company/contacts?pageSize=1000&conditions="+q(acme), nil).list(t)
	if len(all) < 6 {
		t.Fatalf("Acme has %d contacts", len(all))
	}
	email := "ann.smith@acmedentalgroup.example"
	got := api(t, s, "GET", "company/contacts?conditions="+q(acme)+"&childConditions="+
		q(`communicationItems/value = "`+email+`" AND communicationItems/communicationType = "Email"`)+
		"&fields="+q("id,firstName,lastName,communicationItems/value"), nil).list(t)
	if len(got) != 1 || got[0]["firstName"] != "Ann" || got[0]["lastName"] != "Smith" || got[0]["company"] != nil {
		t.Fatalf("by email: %v", got)
	}
	// One child must meet the whole condition: Ann's email is not a Phone item.
	none := api(t, s, "GET", "company/contacts?childConditions="+
		q(`communicationItems/value = "`+email+`" AND communicationItems/communicationType = "Phone"`), nil).list(t)
	if len(none) != 0 {
		t.Fatalf("value and type of different items matched: %v", none)
	}
	r := api(t, s, "GET", "company/contacts/count?conditions="+q(acme)+"&childConditions="+q(`communicationItems/communicationType = "Email"`), nil)
	if want := `{"count":` + itoa(len(all)) + `}`; string(r.body) != want {
		t.Fatalf("count with childConditions: %s, want %s", r.body, want)
	}
	for _, bad := range []string{`firstName = "Ann"`, `communicationItems/nosuch = "x"`, `communicationItems/value in ("a")`,
		`communicationItems/value = "a" AND types/name = "End User"`, `communicationItems/value = `} {
		wantError(t, api(t, s, "GET", "company/contacts?childConditions="+q(bad), nil), 400, "ApiFindCondition")
	}
	wantError(t, api(t, s, "GET", "company/contacts?conditions="+q(`nosuch = 1`), nil), 400, "ApiFindCondition")

	cfgs := api(t, s, "GET", "company/configurations?conditions="+q(acme+` AND name = "KIOSK-1"`), nil).list(t)
	if len(cfgs) != 2 {
		t.Fatalf("KIOSK-1: %v", cfgs)
	}
	s.SetSecurity(FuncContacts, None, None, None, None)
	wantError(t, api(t, s, "GET", "company/contacts", nil), 403, "Forbidden")
}

func itoa(n int) string { return itoaInt(n) }

func TestTicketContactAndConfigurations(t *testing.T) {
	s := newTestServer(t, Options{Companies: 3})
	contact := func(cond string) int {
		l := api(t, s, "GET", "company/contacts?conditions="+q(cond), nil).list(t)
		if len(l) == 0 {
			t.Fatalf("no contact for %s", cond)
		}
		return num(l[0]["id"])
	}
	ann := contact(`company/identifier = "AcmeDentalGroup" AND firstName = "Ann" AND lastName = "Smith"`)
	other := contact(`company/identifier = "NorthwindLogistics"`)
	pc7 := num(api(t, s, "GET", "company/configurations?conditions="+q(`name = "PC-7"`), nil).list(t)[0]["id"])
	otherCfg := num(api(t, s, "GET", "company/configurations?conditions="+q(`company/identifier = "NorthwindLogistics"`), nil).list(t)[0]["id"])
	ticket := func(extra map[string]any) *resp {
		body := map[string]any{"summary": "s", "company": map[string]any{"identifier": "AcmeDentalGroup"}, "board": map[string]any{"name": "Security"}}
		for k, v := range extra {
			body[k] = v
		}
		return api(t, s, "POST", "service/tickets", body)
	}
	// A contact left to the board's default is emailed; false is kept.
	r := ticket(map[string]any{"contact": map[string]any{"id": ann}})
	wantStatus(t, r, 201)
	if m := r.obj(t); m["automaticEmailContactFlag"] != true || m["contactName"] != "Ann Smith" {
		t.Fatalf("default: %v", m)
	}
	r = ticket(map[string]any{"contact": map[string]any{"id": ann}, "automaticEmailContactFlag": false, "automaticEmailCcFlag": false})
	wantStatus(t, r, 201)
	tk := r.obj(t)
	if tk["automaticEmailContactFlag"] != false {
		t.Fatalf("explicit false: %v", tk)
	}
	wantFieldError(t, ticket(map[string]any{"contact": map[string]any{"id": other}}), "contact", "InvalidField")
	wantFieldError(t, ticket(map[string]any{"contact": map[string]any{"id": 1}}), "contact", "InvalidField")

	id := itoaInt(num(tk["id"]))
	path := "service/tickets/" + id + "/configurations"
	r = api(t, s, "POST", path, map[string]any{"id": pc7})
	wantStatus(t, r, 201)
	if m := r.obj(t); num(m["id"]) != pc7 || m["deviceIdentifier"] != "9f1c2a7e-7b1d-4c55-a0e4-1d2e3f4a5b6c" {
		t.Fatalf("attach answer: %v", m)
	}
	wantFieldError(t, api(t, s, "POST", path, map[string]any{"id": pc7}), "id", "ObjectExists")
	wantFieldError(t, api(t, s, "POST", path, map[string]any{"id": otherCfg}), "id", "InvalidField")
	wantFieldError(t, api(t, s, "POST", path, map[string]any{"id": pc7, "name": "PC-7"}), "name", "InvalidField")
	wantError(t, api(t, s, "POST", "service/tickets/999999/configurations", map[string]any{"id": pc7}), 404, "NotFound")
	l := api(t, s, "GET", path, nil).list(t)
	if len(l) != 1 || num(l[0]["id"]) != pc7 {
		t.Fatalf("ticket configurations: %v", l)
	}
}

func itoaInt(n int) string {
	return url.PathEscape(func() string {
		b := []byte{}
		for n > 0 {
			b = append([]byte{byte('0' + n%10)}, b...)
			n /= 10
		}
		return string(b)
	}())
}
