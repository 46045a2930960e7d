package cwsim

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestAdditions(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "finance/agreements/1001/additions?conditions="+url.QueryEscape(`product/identifier="AV-ENDPOINT" AND cancelledDate=null`), nil)
	got := r.list(t)
	if len(got) != 1 || got[0]["quantity"] != float64(25) {
		t.Fatalf("usage lookup: %s", r.body)
	}
	addID := strconv.Itoa(num(got[0]["id"]))
	r = api(t, s, "PATCH", "finance/agreements/1001/additions/"+addID, []map[string]any{{"op": "replace", "path": "quantity", "value": 42}})
	wantStatus(t, r, 200)
	m := r.obj(t)
	if m["quantity"] != float64(42) || m["extPrice"] != float64(210) || m["_info"].(map[string]any)["lastUpdated"] != "2026-01-02T03:04:05Z" {
		t.Errorf("patched addition: %s", r.body)
	}
	r = api(t, s, "PATCH", "finance/agreements/1001/additions/"+addID, []map[string]any{{"op": "replace", "path": "cancelledDate", "value": "2026-01-31T00:00:00Z"}})
	wantStatus(t, r, 200)
	r = api(t, s, "GET", "finance/agreements/1001/additions/count?conditions="+url.QueryEscape(`cancelledDate=null`), nil)
	if string(r.body) != `{"count":1}` {
		t.Errorf("active additions: %s", r.body)
	}
	for name, ops := range map[string][]map[string]any{
		"negative quantity": {{"op": "replace", "path": "quantity", "value": -1}},
		"string quantity":   {{"op": "replace", "path": "quantity", "value": "5"}},
		"bad billCustomer":  {{"op": "replace", "path": "billCustomer", "value": "Sometimes"}},
		"read-only":         {{"op": "replace", "path": "extPrice", "value": 1}},
		"bad date":          {{"op": "replace", "path": "effectiveDate", "value": "01/02/2026"}},
	} {
		if r := api(t, s, "PATCH", "finance/agreements/1001/additions/"+addID, ops); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	wantError(t, api(t, s, "PATCH", "finance/agreements/1002/additions/"+addID, []map[string]any{{"op": "replace", "path": "quantity", "value": 1}}), 404, "NotFound")
	wantError(t, api(t, s, "PATCH", "finance/agreements/1/additions/"+addID, []map[string]any{{"op": "replace", "path": "quantity", "value": 1}}), 404, "NotFound")

	// POST.
	r = api(t, s, "POST", "finance/agreements/1001/additions", map[string]any{"product": map[string]any{"identifier": "ms365-e3"},
		"billCustomer": "Billable", "quantity": 7, "effectiveDate": "2026-01-01T00:00:00Z"})
	wantStatus(t, r, 201)
	m = r.obj(t)
	if m["product"].(map[string]any)["identifier"] != "MS365-E3" || m["unitPrice"] != float64(36) || m["agreementId"] != float64(1001) ||
		m["quantity"] != float64(7) {
		t.Errorf("new addition: %s", r.body)
	}
	cases := []struct {
		name        string
		body        map[string]any
		field, code string
	}{
		{"no product", map[string]any{"billCustomer": "Billable"}, "product", "MissingRequiredField"},
		{"unknown product", map[string]any{"product": map[string]any{"identifier": "NOPE"}, "billCustomer": "Billable"}, "product", "InvalidField"},
		{"product as string", map[string]any{"product": "MS365-E3", "billCustomer": "Billable"}, "product", "InvalidField"},
		{"inactive product", map[string]any{"product": map[string]any{"identifier": "LEGACY-AV"}, "billCustomer": "Billable"}, "product", "InvalidField"},
		{"no billCustomer", map[string]any{"product": map[string]any{"id": 601}}, "billCustomer", "MissingRequiredField"},
		{"bad billCustomer", map[string]any{"product": map[string]any{"id": 601}, "billCustomer": "Yes"}, "billCustomer", "InvalidField"},
		{"negative quantity", map[string]any{"product": map[string]any{"id": 601}, "billCustomer": "NoCharge", "quantity": -3}, "quantity", "InvalidField"},
		{"unknown field", map[string]any{"product": map[string]any{"id": 601}, "billCustomer": "NoCharge", "qty": 3}, "qty", "InvalidField"},
	}
	for _, c := range cases {
		wantFieldError(t, api(t, s, "POST", "finance/agreements/1001/additions", c.body), c.field, c.code)
	}
	wantError(t, api(t, s, "POST", "finance/agreements/9/additions", map[string]any{"product": map[string]any{"id": 601}, "billCustomer": "Billable"}), 404, "NotFound")
}

func TestCatalog(t *testing.T) {
	s := newTestServer(t, Options{})
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"identifier": "SEC-USER", "description": "Security seat (per user)", "customerDescription": "Security seat",
			"subcategory": map[string]any{"name": "Security Software"}, "type": map[string]any{"name": "Service"}, "price": 4.5}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	r := api(t, s, "POST", "procurement/catalog", body(nil))
	wantStatus(t, r, 201)
	m := r.obj(t)
	if m["identifier"] != "SEC-USER" || m["subcategory"].(map[string]any)["name"] != "Security Software" || m["category"] == nil ||
		m["productClass"] != "Service" || m["price"] != 4.5 {
		t.Errorf("catalog item: %s", r.body)
	}
	r = api(t, s, "POST", "procurement/catalog", body(map[string]any{"identifier": "sec-user"}))
	wantFieldError(t, r, "identifier", "ObjectExists")
	if !strings.Contains(string(r.body), "Identifier already in use") {
		t.Errorf("message: %s", r.body)
	}
	for _, c := range []struct {
		extra       map[string]any
		field, code string
	}{
		{map[string]any{"identifier": nil}, "identifier", "MissingRequiredField"},
		{map[string]any{"identifier": strings.Repeat("A", 76)}, "identifier", "InvalidField"},
		{map[string]any{"identifier": "X1", "description": nil}, "description", "MissingRequiredField"},
		{map[string]any{"identifier": "X1", "customerDescription": nil}, "customerDescription", "MissingRequiredField"},
		{map[string]any{"identifier": "X1", "subcategory": nil}, "subcategory", "MissingRequiredField"},
		{map[string]any{"identifier": "X1", "subcategory": map[string]any{"id": 9999}}, "subcategory", "InvalidField"},
		{map[string]any{"identifier": "X1", "type": nil}, "type", "MissingRequiredField"},
		{map[string]any{"identifier": "X1", "type": map[string]any{"name": "Gadget"}}, "type", "InvalidField"},
		{map[string]any{"identifier": "X1", "flavour": "mint"}, "flavour", "InvalidField"},
	} {
		wantFieldError(t, api(t, s, "POST", "procurement/catalog", body(c.extra)), c.field, c.code)
	}
	wantStatus(t, api(t, s, "POST", "procurement/catalog", body(map[string]any{"identifier": strings.Repeat("A", 75)})), 201)
	r = api(t, s, "GET", "procurement/catalog?conditions="+url.QueryEscape(`identifier="SEC-USER"`), nil)
	if len(r.list(t)) != 1 {
		t.Errorf("lookup: %s", r.body)
	}
}
