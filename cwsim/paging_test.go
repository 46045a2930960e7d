package cwsim

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func links(t *testing.T, r *resp) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(r.header.Get("Link"), -1) {
		out[m[2]] = m[1]
	}
	return out
}

func ids(recs []map[string]any) []int {
	out := make([]int, len(recs))
	for i, r := range recs {
		out[i] = num(r["id"])
	}
	return out
}

func TestNavigablePaging(t *testing.T) {
	s := newTestServer(t, Options{})
	all := s.Records("companies")
	if len(all) != 26 {
		t.Fatalf("companies: %d", len(all))
	}
	base := s.URL() + "/v2025_8/apis/3.0/company/companies"

	r := api(t, s, "GET", "company/companies", nil)
	wantStatus(t, r, 200)
	if got := r.list(t); len(got) != 25 || num(got[0]["id"]) != all[0]["id"].(int) {
		t.Fatalf("default page: %d records", len(got))
	}
	l := links(t, r)
	if l["first"] != base+"?page=1" || l["next"] != base+"?page=2" || l["last"] != base+"?page=2" || l["prev"] != "" {
		t.Errorf("page 1 links: %v", l)
	}

	r = api(t, s, "GET", "company/companies?page=2", nil)
	if got := r.list(t); len(got) != 1 {
		t.Errorf("page 2: %d", len(got))
	}
	l = links(t, r)
	if l["prev"] != base+"?page=1" || l["next"] != "" || l["last"] != base+"?page=2" {
		t.Errorf("page 2 links: %v", l)
	}

	// Every original parameter survives in the links, encoded as sent.
	q := "conditions=" + url.QueryEscape(`deletedFlag=false`) + "&pageSize=5&fields=id,name&page=2&orderBy=name%20desc"
	r = api(t, s, "GET", "company/companies?"+q, nil)
	wantStatus(t, r, 200)
	l = links(t, r)
	want := base + "?" + strings.Replace(q, "page=2", "page=3", 1)
	if l["next"] != want {
		t.Errorf("next = %s\nwant   %s", l["next"], want)
	}
	nonDeleted := 0
	for _, c := range all {
		if c["deletedFlag"] == false {
			nonDeleted++
		}
	}
	if !strings.Contains(l["last"], fmt.Sprintf("page=%d", (nonDeleted+4)/5)) {
		t.Errorf("last = %s (non-deleted %d)", l["last"], nonDeleted)
	}
	// Following next from page 1 visits every record once.
	seen := map[int]bool{}
	next := base + "?pageSize=7"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		r = api(t, s, "GET", next, nil)
		for _, id := range ids(r.list(t)) {
			if seen[id] {
				t.Fatalf("id %d twice", id)
			}
			seen[id] = true
		}
		next = links(t, r)["next"]
	}
	if len(seen) != 26 {
		t.Errorf("visited %d", len(seen))
	}

	// Beyond the last page: empty, no next.
	r = api(t, s, "GET", "company/companies?page=9", nil)
	if len(r.list(t)) != 0 || links(t, r)["next"] != "" || links(t, r)["prev"] != base+"?page=2" {
		t.Errorf("page 9: %s %v", r.body, r.header.Get("Link"))
	}
	// No match: one (empty) page.
	r = api(t, s, "GET", "company/companies?conditions="+url.QueryEscape(`id=1`), nil)
	if len(r.list(t)) != 0 || links(t, r)["last"] != base+"?conditions=id%3D1&page=1" {
		t.Errorf("empty: %s %v", r.body, r.header.Get("Link"))
	}

	for _, bad := range []string{"page=0", "page=-1", "page=abc", "pageSize=0", "pageSize=-5", "pageSize=x", "page="} {
		wantError(t, api(t, s, "GET", "company/companies?"+bad, nil), 400, "InvalidRequest")
	}
	// A page whose offset would overflow an int is just past the data.
	for _, q := range []string{"page=92233720368547758&pageSize=1000", "page=9223372036854775807",
		"page=92233720368547758&pageSize=1000&conditions=" + url.QueryEscape("deletedFlag=false")} {
		r = api(t, s, "GET", "company/companies?"+q, nil)
		if len(r.list(t)) != 0 || links(t, r)["next"] != "" {
			t.Errorf("%s: %s %v", q, r.body, r.header.Get("Link"))
		}
	}
	// Parameter names are case-insensitive.
	if n := len(api(t, s, "GET", "company/companies?PAGESIZE=3", nil).list(t)); n != 3 {
		t.Errorf("PAGESIZE: %d", n)
	}
}

func TestPageSizeCap(t *testing.T) {
	s := newTestServer(t, Options{Companies: 5})
	s.AddCompanies(1100)
	r := api(t, s, "GET", "company/companies?pageSize=5000", nil)
	if n := len(r.list(t)); n != 1000 {
		t.Errorf("capped page: %d", n)
	}
	if l := links(t, r); !strings.HasSuffix(l["last"], "page=2") {
		t.Errorf("last: %v", l)
	}
	r = api(t, s, "GET", "company/companies?pageSize=1000&page=2", nil)
	if n := len(r.list(t)); n != 106 {
		t.Errorf("page 2: %d", n)
	}
}

func TestForwardOnlyPaging(t *testing.T) {
	s := newTestServer(t, Options{})
	fo := []string{"pagination-type", "forward-only"}
	var got []int
	next := s.URL() + "/v2025_8/apis/3.0/company/companies?pageSize=10&page=3&conditions=" + url.QueryEscape("deletedFlag = false")
	pages := 0
	for next != "" {
		r := api(t, s, "GET", next, nil, fo...)
		wantStatus(t, r, 200)
		recs := r.list(t)
		got = append(got, ids(recs)...)
		l := links(t, r)
		if len(recs) == 0 {
			if r.header.Get("Link") != "" {
				t.Errorf("empty page has Link %q", r.header.Get("Link"))
			}
			break
		}
		if len(l) != 1 || !strings.Contains(l["next"], fmt.Sprintf("pageId=%d", num(recs[len(recs)-1]["id"]))) {
			t.Fatalf("links %v", l)
		}
		if !strings.Contains(l["next"], "page=3") || !strings.Contains(l["next"], "conditions=") {
			t.Errorf("link dropped parameters: %s", l["next"])
		}
		next = l["next"]
		if pages++; pages > 10 {
			t.Fatal("no end")
		}
	}
	if pages != 3 { // 10 + 10 + <10 non-deleted, then an empty page
		t.Errorf("pages: %d", pages)
	}
	var want []int
	for _, c := range s.Records("companies") {
		if c["deletedFlag"] == false {
			want = append(want, c["id"].(int))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || !sort.IntsAreSorted(got) {
		t.Errorf("forward-only ids %v\nwant %v", got, want)
	}
	// pageId acts as id > pageId.
	r := api(t, s, "GET", "company/companies?pageSize=2&pageId=19305", nil, fo...)
	if fmt.Sprint(ids(r.list(t))) != "[19306 19307]" {
		t.Errorf("pageId: %s", r.body)
	}
	wantError(t, api(t, s, "GET", "company/companies?orderBy=name", nil, fo...), 400, "InvalidRequest")
	wantError(t, api(t, s, "GET", "company/companies?pageId=x", nil, fo...), 400, "InvalidRequest")
}

func TestOrderBy(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "company/companies?pageSize=1000&orderBy="+url.QueryEscape("name desc"), nil)
	recs := r.list(t)
	for i := 1; i < len(recs); i++ {
		if compareFold(recs[i-1]["name"].(string), recs[i]["name"].(string)) < 0 {
			t.Fatalf("not descending at %d: %v, %v", i, recs[i-1]["name"], recs[i]["name"])
		}
	}
	r = api(t, s, "GET", "company/companies?pageSize=1000&orderBy="+url.QueryEscape("deletedFlag desc, state asc, id"), nil)
	recs = r.list(t)
	if recs[0]["deletedFlag"] != true {
		t.Errorf("deleted first: %v", recs[0])
	}
	r = api(t, s, "GET", "service/tickets?orderBy="+url.QueryEscape("company/name asc"), nil)
	wantStatus(t, r, 200)
	wantError(t, api(t, s, "GET", "company/companies?orderBy=nosuch", nil), 400, "InvalidRequest")
	wantError(t, api(t, s, "GET", "company/companies?orderBy="+url.QueryEscape("name sideways"), nil), 400, "InvalidRequest")
	wantError(t, api(t, s, "GET", "company/companies?orderBy=status", nil), 400, "InvalidRequest")
}

func TestFieldsProjection(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "service/tickets?fields="+url.QueryEscape("id,summary,company/id,board/name,nosuch,_info/lastUpdated"), nil)
	recs := r.list(t)
	if len(recs) != 6 {
		t.Fatalf("tickets: %d", len(recs))
	}
	for _, rec := range recs {
		if len(rec) != 5 {
			t.Errorf("keys: %v", rec)
		}
		c := rec["company"].(map[string]any)
		if len(c) != 1 || c["id"] == nil {
			t.Errorf("company: %v", c)
		}
		if b := rec["board"].(map[string]any); len(b) != 1 || b["name"] == nil {
			t.Errorf("board: %v", b)
		}
		if i := rec["_info"].(map[string]any); len(i) != 1 {
			t.Errorf("_info: %v", i)
		}
	}
	// Same again (cached) gives the same bytes; other fields do not collide.
	r2 := api(t, s, "GET", "service/tickets?fields="+url.QueryEscape("id,summary,company/id,board/name,nosuch,_info/lastUpdated"), nil)
	if string(r2.body) != string(r.body) {
		t.Error("cached projection differs")
	}
	r3 := api(t, s, "GET", "service/tickets?fields=id", nil)
	if string(r3.body) != `[{"id":250001},{"id":250002},{"id":250003},{"id":250004},{"id":250005},{"id":250006}]` {
		t.Errorf("fields=id: %s", r3.body)
	}
	// Arrays project element-wise; fields on /{id} too.
	r4 := api(t, s, "GET", "company/companies/19301?fields=types/name,identifier", nil)
	if string(r4.body) != `{"identifier":"AcmeDentalGroup","types":[{"name":"Client"}]}` {
		t.Errorf("fields on get: %s", r4.body)
	}
	// A blank fields= names nothing, on a list and on /{id} alike: the full record.
	full := api(t, s, "GET", "company/companies/19301", nil)
	if blank := api(t, s, "GET", "company/companies/19301?fields=%20", nil); string(blank.body) != string(full.body) {
		t.Errorf("blank fields on get: %s", blank.body)
	}
	// A write invalidates the cached projection.
	wantStatus(t, api(t, s, "PATCH", "service/tickets/250001", `[{"op":"replace","path":"summary","value":"Renamed"}]`), 200)
	r5 := api(t, s, "GET", "service/tickets/250001?fields=summary", nil)
	if string(r5.body) != `{"summary":"Renamed"}` {
		t.Errorf("after write: %s", r5.body)
	}
}

func TestCountAndGet(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "company/companies/count", nil)
	if string(r.body) != `{"count":26}` {
		t.Errorf("count: %s", r.body)
	}
	deleted := 0
	for _, c := range s.Records("companies") {
		if c["deletedFlag"] == true {
			deleted++
		}
	}
	if deleted == 0 {
		t.Fatal("no deleted companies seeded")
	}
	r = api(t, s, "GET", "company/companies/count?conditions="+url.QueryEscape("deletedFlag=true"), nil)
	if string(r.body) != fmt.Sprintf(`{"count":%d}`, deleted) {
		t.Errorf("count deleted: %s", r.body)
	}
	wantError(t, api(t, s, "GET", "company/companies/count?conditions="+url.QueryEscape("nosuch=1"), nil), 400, "ApiFindCondition")
	// Unsupported filters are refused on /count too, not silently ignored.
	wantError(t, api(t, s, "GET", "company/companies/count?customFieldConditions="+url.QueryEscape("x=1"), nil), 400, "InvalidRequest")
	// childConditions must name a child array's field (see contacts_test.go).
	wantError(t, api(t, s, "GET", "company/companies/count?childConditions="+url.QueryEscape("x=1"), nil), 400, "ApiFindCondition")
	wantError(t, api(t, s, "GET", "company/companies/1", nil), 404, "NotFound")
	m := wantError(t, api(t, s, "GET", "service/tickets/123", nil), 404, "NotFound")
	if m["message"] != "Ticket 123 not found" || m["errors"] != nil {
		t.Errorf("404 body: %v", m)
	}
	// Child collections: scoped to the parent; a missing parent is 404.
	sites := api(t, s, "GET", "company/companies/19301/sites", nil).list(t)
	if len(sites) == 0 {
		t.Fatal("no sites")
	}
	for _, st := range sites {
		if num(st["company"].(map[string]any)["id"]) != 19301 {
			t.Errorf("site of another company: %v", st)
		}
	}
	wantStatus(t, api(t, s, "GET", fmt.Sprintf("company/companies/19301/sites/%d", num(sites[0]["id"])), nil), 200)
	wantError(t, api(t, s, "GET", fmt.Sprintf("company/companies/19302/sites/%d", num(sites[0]["id"])), nil), 404, "NotFound")
	wantError(t, api(t, s, "GET", "company/companies/5/sites", nil), 404, "NotFound")
	r = api(t, s, "GET", "service/boards/21/statuses/count", nil)
	if string(r.body) != `{"count":6}` {
		t.Errorf("statuses count: %s", r.body)
	}
	// Trailing slash (procurement/subcategories/ is spelled so in the spec).
	wantStatus(t, api(t, s, "GET", "procurement/subcategories/", nil), 200)
	wantStatus(t, api(t, s, "GET", "procurement/subcategories", nil), 200)
	wantStatus(t, api(t, s, "GET", "procurement/types", nil), 200)
	wantStatus(t, api(t, s, "GET", "finance/agreements/types", nil), 200)
	wantStatus(t, api(t, s, "GET", "service/priorities", nil), 200)
}

func TestConditionsOverHTTP(t *testing.T) {
	s := newTestServer(t, Options{})
	find := func(cond string) []map[string]any {
		t.Helper()
		r := api(t, s, "GET", "company/companies?pageSize=1000&conditions="+url.QueryEscape(cond), nil)
		wantStatus(t, r, 200)
		return r.list(t)
	}
	for _, name := range []string{`O"Brien & Sons+`, "Müller & Söhne GmbH", "[Bracket] Holdings", "50% Off Outlet",
		"Under_Score Ltd", "St. Mary's Family Clinic"} {
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
		if got := find(`name = "` + esc + `"`); len(got) != 1 || got[0]["name"] != name {
			t.Errorf("name = %q: %d results", name, len(got))
		}
		like := strings.NewReplacer("[", "[[]", "%", "[%]", "_", "[_]", "*", "[*]").Replace(esc)
		if got := find(`name like "` + like + `"`); len(got) != 1 {
			t.Errorf("name like %q: %d results", like, len(got))
		}
	}
	// An unencoded + arrives as a space (form decoding), so it no longer matches.
	r := api(t, s, "GET", "company/companies?conditions=name%20contains%20%22Sons+%22", nil)
	if len(r.list(t)) != 0 {
		t.Error("raw + matched")
	}
	// Unescaped LIKE metacharacters over-match.
	if got := find(`name like "_nder_Score%"`); len(got) != 1 {
		t.Errorf("like _: %d", len(got))
	}
	if got := find(`name like "%[%]%"`); len(got) != 1 {
		t.Errorf("like %%: %d", len(got))
	}
	m := wantError(t, api(t, s, "GET", "company/companies?conditions="+url.QueryEscape(`typeids="1"`), nil), 400, "ApiFindCondition")
	if m["message"] != "typeids is not a recognized name." {
		t.Errorf("message %v", m["message"])
	}
	m = wantError(t, api(t, s, "GET", "company/companies?conditions="+url.QueryEscape(`name = 'x'`), nil), 400, "ApiFindCondition")
	if !strings.Contains(m["message"].(string), "position 7") {
		t.Errorf("no position: %v", m["message"])
	}
	wantError(t, api(t, s, "GET", "company/companies?conditions="+url.QueryEscape(`name = 5`), nil), 400, "ApiFindCondition")
	wantError(t, api(t, s, "GET", "company/companies?conditions="+url.QueryEscape(`id = "5"`), nil), 400, "ApiFindCondition")
	// Audit fields.
	if got := find(`lastUpdated > [2000-01-01T00:00:00Z] and _info/lastUpdated < [2030-01-01T00:00:00Z]`); len(got) != 26 {
		t.Errorf("lastUpdated: %d", len(got))
	}
	// Known-but-absent fields are accepted; tickets search uses the same language.
	r = api(t, s, "GET", "service/tickets?conditions="+url.QueryEscape(`closedDate = null and subType/name = null`), nil)
	wantStatus(t, r, 200)
	r = api(t, s, "POST", "service/tickets/search?pageSize=2", map[string]any{"conditions": `company/identifier = "AcmeDentalGroup" OR board/name = "Help Desk"`})
	wantStatus(t, r, 200)
	if got := r.list(t); len(got) != 2 || links(t, r)["next"] == "" {
		t.Errorf("search: %s", r.body)
	}
	wantFieldError(t, api(t, s, "POST", "service/tickets/search", map[string]any{"conditions": "id>1", "bogus": 1}), "bogus", "InvalidField")
	wantError(t, api(t, s, "POST", "service/tickets/search", map[string]any{"conditions": "bogus>1"}), 400, "ApiFindCondition")
}
