package cwsim

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAuthEnforcement(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.Credentials()
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for name, auth := range map[string]string{
		"missing":       "",
		"wrong private": basic(c.CompanyID+"+"+c.PublicKey, "nope"),
		"wrong public":  basic(c.CompanyID+"+nope", c.PrivateKey),
		"no company":    basic(c.PublicKey, c.PrivateKey),
		"wrong company": basic("other+"+c.PublicKey, c.PrivateKey),
		"not base64":    "Basic %%%",
		"bearer":        "Bearer " + c.PrivateKey,
	} {
		r := api(t, s, "GET", "system/info", nil, "Authorization", auth)
		m := wantError(t, r, 401, "Unauthorized")
		if m["message"] != "UserNotAuthenticated" || m["errors"] != nil {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	// Company id is case-insensitive, keys are not.
	wantStatus(t, api(t, s, "GET", "system/info", nil, "Authorization", basic(strings.ToUpper(c.CompanyID)+"+"+c.PublicKey, c.PrivateKey)), 200)
	wantStatus(t, api(t, s, "GET", "system/info", nil, "Authorization", basic(c.CompanyID+"+"+strings.ToLower(c.PublicKey), c.PrivateKey)), 401)
}

func TestClientIDEnforcement(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "system/info", nil, "clientId", "")
	m := wantError(t, r, 401, "Unauthorized")
	if !strings.Contains(m["message"].(string), "clientId") || !strings.Contains(m["message"].(string), "missing") {
		t.Errorf("message: %v", m["message"])
	}
	r = api(t, s, "GET", "system/info", nil, "clientId", "00000000-0000-0000-0000-000000000000")
	m = wantError(t, r, 401, "Unauthorized")
	if !strings.Contains(m["message"].(string), "invalid") {
		t.Errorf("message: %v", m["message"])
	}
	// Header name is case-insensitive.
	h := authHeaders(s)
	h.Del("clientId")
	req, _ := http.NewRequest("GET", s.URL()+"/v2025_8/apis/3.0/system/info", nil)
	req.Header = h
	req.Header["CLIENTID"] = []string{s.Credentials().ClientID} // raw, non-canonical key on the wire
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("CLIENTID header: %d", res.StatusCode)
	}
}

func TestAcceptVersion(t *testing.T) {
	s := newTestServer(t, Options{})
	good := []string{
		"application/vnd.connectwise.com+json; version=2025.8",
		"application/vnd.connectwise.com+json; version=2019.1",
		"application/vnd.connectwise.com+json; version=2022.1, application/json",
		"application/vnd.connectwise.com+json;version=2024.12",
	}
	for _, a := range good {
		r := api(t, s, "GET", "system/info", nil, "Accept", a)
		wantStatus(t, r, 200)
		v := strings.TrimPrefix(strings.Split(a, ",")[0], "application/vnd.connectwise.com+json;")
		v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "version="))
		if ct := r.header.Get("Content-Type"); ct != "application/vnd.connectwise.com+json; version="+v {
			t.Errorf("%s: Content-Type %q", a, ct)
		}
		if r.header.Get("x-cw-request-id") == "" {
			t.Error("no x-cw-request-id")
		}
	}
	bad := []string{
		"", // missing
		"application/json",
		"application/json, application/vnd.connectwise.com+json; version=2025.8", // not first
		"application/vnd.connectwise.com+json",                                   // no version
		"application/vnd.connectwise.com+json; version=2025",
		"application/vnd.connectwise.com+json; version=latest",
		"application/vnd.connectwise.com+json; version=2018.6", // too old
		"application/vnd.connectwise.com+json; version=2025.9", // newer than the server
		"application/vnd.connectwise.com+json; version=2026.1",
		"application/vnd.connectwise.com+json; version=2025.0",
	}
	for _, a := range bad {
		r := api(t, s, "GET", "system/info", nil, "Accept", a)
		m := wantError(t, r, 400, "InvalidVersion")
		if !strings.Contains(m["message"].(string), "not supported") {
			t.Errorf("%q: %v", a, m["message"])
		}
	}
}

func TestContentTypeOnWrites(t *testing.T) {
	s := newTestServer(t, Options{})
	body := `{"summary":"x","company":{"id":19301},"board":{"name":"Help Desk"}}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		r := api(t, s, "POST", "service/tickets", body, "Content-Type", ct)
		wantError(t, r, 415, "UnsupportedMediaType")
	}
	wantStatus(t, api(t, s, "POST", "service/tickets", body, "Content-Type", "application/json; charset=utf-8"), 201)
	if n := len(s.Records("tickets")); n != 7 {
		t.Errorf("tickets: %d", n)
	}
}

func TestCompanyInfoAndCodebase(t *testing.T) {
	s := newTestServer(t, Options{})
	get := func(path string) (int, string) {
		res, err := testClient.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get("/login/companyinfo/cwbridge")
	host := strings.TrimPrefix(s.URL(), "http://")
	want := `{"CompanyName":"cwbridge Simulated MSP","Codebase":"v2025_8/","VersionCode":"v2025.8","VersionNumber":"v4.6.65080","CompanyID":"cwbridge","IsCloud":"False","SiteUrl":"` + host + `"}`
	if code != 200 || body != want {
		t.Errorf("companyinfo: %d %s", code, body)
	}
	code, body = get("/login/companyinfo/nosuchco")
	if code != 200 || !strings.Contains(body, `"Codebase":null`) {
		t.Errorf("unknown company: %d %s", code, body)
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("companyinfo counted as API request: %d", st.Requests)
	}

	// Wrong codebase and unknown paths are 404 NotFound.
	wantError(t, api(t, s, "GET", s.URL()+"/v4_6_release/apis/3.0/system/info", nil), 404, "NotFound")
	wantError(t, api(t, s, "GET", "no/such/thing", nil), 404, "NotFound")
	wantError(t, api(t, s, "GET", "service/tickets/abc", nil), 404, "NotFound")
	// Wrong method.
	r := api(t, s, "DELETE", "company/companies/19301", nil)
	wantError(t, r, 405, "MethodNotAllowed")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantError(t, api(t, s, "PUT", "service/tickets", "{}"), 405, "MethodNotAllowed")

	// SetCodebase moves the API; the old path then answers 404.
	s.SetCodebase("v2026_1")
	wantError(t, api(t, s, "GET", "system/info", nil), 404, "NotFound")
	wantStatus(t, api(t, s, "GET", s.URL()+"/v2026_1/apis/3.0/system/info", nil), 200)
	_, body = get("/login/companyinfo/CWBRIDGE")
	if !strings.Contains(body, `"Codebase":"v2026_1/"`) {
		t.Errorf("companyinfo after move: %s", body)
	}
}

func TestSystemInfo(t *testing.T) {
	s := newTestServer(t, Options{})
	m := api(t, s, "GET", "system/info", nil).obj(t)
	if !strings.HasPrefix(m["version"].(string), "v2025.8") || m["isCloud"] != false || m["serverTimeZone"] == nil {
		t.Errorf("info: %v", m)
	}
}

func TestCredentialsAndTOML(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.Credentials()
	if c.Site != s.URL() || c.CompanyID != "cwbridge" || len(c.PublicKey) != 16 || len(c.PrivateKey) != 16 ||
		len(c.ClientID) != 36 || c.APIVersion != "2025.8" {
		t.Errorf("credentials: %+v", c)
	}
	block := s.TOMLBlock()
	for _, want := range []string{"[connectwise]", `site             = "` + s.URL() + `"`, `company_id       = "cwbridge"`,
		`private_key      = "` + c.PrivateKey + `"`, `client_id        = "` + c.ClientID + `"`,
		`api_version      = "2025.8"`, `fallback_company = "Catchall"`} {
		if !strings.Contains(block, want) {
			t.Errorf("TOML block lacks %q:\n%s", want, block)
		}
	}
	if err := New(Options{}).Listen("0.0.0.0:0"); err == nil {
		t.Error("Listen on a non-loopback address accepted")
	}
}
