package cwclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "s3cr3tPrivKey!"

// rawServer answers companyinfo like ConnectWise and hands API requests
// to api, for answers no faithful simulator would give.
func rawServer(t *testing.T, api http.HandlerFunc) (*Client, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/login/companyinfo/") {
			fmt.Fprint(w, `{"CompanyName":"Test","Codebase":"v2025_8/","CompanyID":"acme","IsCloud":"False"}`)
			return
		}
		hits.Add(1)
		api(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Site: srv.URL, CompanyID: "acme", PublicKey: "pub", PrivateKey: testSecret, ClientID: "cid",
		Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &hits
}

func TestBadAnswersAreTypedErrors(t *testing.T) {
	cases := []struct {
		name  string
		api   http.HandlerFunc
		kind  Kind
		hits  int64
		inMsg string
	}{
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"v2025`) },
			KindBadResponse, 1, "truncated"},
		{"200 non-JSON", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `OK then`) },
			KindBadResponse, 1, "not valid JSON"},
		{"200 HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body>Login</body></html>`)
		}, KindWrongHost, 1, "web page"},
		{"HTML without content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "\n  <!DOCTYPE html><html>")
		}, KindWrongHost, 1, "web page"},
		{"empty body", func(w http.ResponseWriter, r *http.Request) {}, KindBadResponse, 1, "empty"},
		{"trailing garbage", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"1"} {"x":1}`) },
			KindBadResponse, 1, "after the JSON"},
		{"wrong type", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":12}`) },
			KindBadResponse, 1, "version"},
		{"SSL is required", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":"Security","message":"SSL is required.","errors":null}`)
		}, KindWrongHost, 1, "api-"},
		{"401 not retried", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"code":"Unauthorized","message":"UserNotAuthenticated","errors":null}`)
		}, KindUnauthorized, 1, "public and private keys"},
		{"403 not retried", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"code":"Forbidden","message":"no access","errors":null}`)
		}, KindForbidden, 1, "Security Roles"},
		{"400 validation", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":"InvalidObject","message":"ticket object is invalid","errors":[{"code":"MissingRequiredField","message":"Summary is required","resource":"ticket","field":"summary"}]}`)
		}, KindValidation, 1, "summary: Summary is required"},
		{"500 with garbage body retried", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			fmt.Fprint(w, "Bad Gateway \x00\x01")
		}, KindServer, 3, "Bad Gateway"},
		{"redirect to login", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login", http.StatusFound)
		}, KindWrongHost, 1, "redirected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, hits := rawServer(t, tc.api)
			_, err := c.SystemInfo(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if KindOf(err) != tc.kind {
				t.Fatalf("kind = %v, want %v (%v)", KindOf(err), tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("error %q does not mention %q", err, tc.inMsg)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the private key: %v", err)
			}
			if got := hits.Load(); got != tc.hits {
				t.Errorf("requests = %d, want %d", got, tc.hits)
			}
		})
	}
}

func TestBadPageAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"object not array": `{"id":1}`,
		"truncated array":  `[{"id":1,"name":"a"},{"id":2,`,
		"element garbage":  `[{"id":1},nonsense]`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			_, err := Collect(c.Companies(context.Background(), Query{}))
			if KindOf(err) != KindBadResponse {
				t.Fatalf("got %v, want a bad response error", err)
			}
		})
	}
}

func TestSiteParsing(t *testing.T) {
	good := map[string]string{
		"na.myconnectwise.net":              "https://na.myconnectwise.net",
		"  https://EU.myconnectwise.net/  ": "https://eu.myconnectwise.net",
		"cw.example.com:8443":               "https://cw.example.com:8443",
		"http://127.0.0.1:8089":             "http://127.0.0.1:8089",
		"http://localhost:1234":             "http://localhost:1234",
		"http://[::1]:99":                   "http://[::1]:99",
	}
	for in, want := range good {
		s, err := ParseSite(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSite(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	bad := []string{"", "   ", "http://na.myconnectwise.net", "ftp://x.com", "https://user:pw@na.myconnectwise.net",
		"na.myconnectwise.net:99999", "exa mple.com", "https://", "\x00\x01", "https://-/%zz", "::::",
		"https://na.myconnectwise.net/v4_6_release/", "na.myconnectwise.net/x", "https://na.myconnectwise.net?x=1", "host:"}
	for _, in := range bad {
		_, err := ParseSite(in)
		if err == nil {
			t.Errorf("ParseSite(%q) accepted", in)
			continue
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("ParseSite(%q) = %v, want a config error", in, err)
		}
	}
}

func TestAPIHostRule(t *testing.T) {
	cases := []struct{ site, codebase, siteURL, want string }{
		{"na.myconnectwise.net", "v2025_8/", "", "api-na.myconnectwise.net"},
		{"na.myconnectwise.net", "v2025_8/", "api-na.myconnectwise.net", "api-na.myconnectwise.net"},
		{"api-eu.myconnectwise.net", "v2025_8/", "", "api-eu.myconnectwise.net"},
		{"cw.example.com", "v4_6_release/", "", "cw.example.com"},
		{"cw.example.com", "v2025_8/", "", "api-cw.example.com"},
		{"na.myconnectwise.net", "v2025_8/", "evil.example.com", "api-na.myconnectwise.net"},
		{"http://127.0.0.1:8089", "v2025_8/", "127.0.0.1:8089", "127.0.0.1:8089"},
		{"http://127.0.0.1:8089", "v2025_8/", "", "127.0.0.1:8089"},
	}
	for _, tc := range cases {
		s, err := ParseSite(tc.site)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.apiHost(tc.codebase, tc.siteURL); got != tc.want {
			t.Errorf("apiHost(%s, %s, %q) = %s, want %s", tc.site, tc.codebase, tc.siteURL, got, tc.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{Site: "na.myconnectwise.net", CompanyID: "acme", PublicKey: "pub", PrivateKey: testSecret, ClientID: "cid"}
	mut := map[string]func(*Config){
		"empty company": func(c *Config) { c.CompanyID = "" },
		"plus in id":    func(c *Config) { c.CompanyID = "a+b" },
		"empty public":  func(c *Config) { c.PublicKey = " " },
		"empty private": func(c *Config) { c.PrivateKey = "" },
		"empty client":  func(c *Config) { c.ClientID = "" },
		"bad version":   func(c *Config) { c.APIVersion = "latest" },
		"garbage site":  func(c *Config) { c.Site = "%%%" },
	}
	for name, m := range mut {
		cfg := ok
		m(&cfg)
		_, err := New(cfg)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want a config error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: error leaks the private key", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(ok), fmt.Sprintf("%+v", ok), fmt.Sprintf("%#v", ok)} {
		if strings.Contains(s, testSecret) {
			t.Errorf("formatted config leaks the private key: %s", s)
		}
	}
}

func TestUnreachableSiteIsNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := New(Config{Site: url, CompanyID: "acme", PublicKey: "p", PrivateKey: testSecret, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SystemInfo(context.Background())
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("got %v, want a network error", err)
	}
}

func TestConditionsBuilder(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	cases := []struct {
		c    Cond
		want string
	}{
		{Eq("name", `O"Brien & Sons+`), `name = "O\"Brien & Sons+"`},
		{Eq("name", `back\slash`), `name = "back\\slash"`},
		{Eq("closedFlag", false), `closedFlag = False`},
		{Gt("_info/lastUpdated", when), `_info/lastUpdated > [2026-01-02T02:04:05Z]`},
		{In("board/id", 3, 2, 4), `board/id in (3, 2, 4)`},
		{NotContains("summary", "Low Priority"), `summary not contains "Low Priority"`},
		{IsNull("cancelledDate"), `cancelledDate = null`},
		{And(Eq("a", 1), Or(Eq("b", 2), Eq("c", 3))), `(a = 1) AND ((b = 2) OR (c = 3))`},
		{And(Cond{}, Eq("a", 1)), `a = 1`},
		{Like("name", LikeEscape("50%_[x]*")+"%"), `name like "50[%][_][[]x][*]%"`},
		{In("id"), `id < 0`},
	}
	for _, tc := range cases {
		if tc.c.Err() != nil || tc.c.String() != tc.want {
			t.Errorf("got %q (%v), want %q", tc.c, tc.c.Err(), tc.want)
		}
	}
	for _, c := range []Cond{Eq("name; drop", 1), Eq("a", struct{}{}), And(Eq("ok", 1), Eq("", 2))} {
		if !errors.Is(c.Err(), ErrConfig) {
			t.Errorf("%q: want a config error, got %v", c, c.Err())
		}
	}
}
