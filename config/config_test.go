package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/internal/secret"
)

const file = "cwbridge.toml"

func envMap(m map[string]string) lookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse(file, []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	want := Config{
		ConnectWise: ConnectWise{APIVersion: "2025.8"},
		Intake:      Intake{Listen: "", MaxBodyBytes: 1048576},
		SSH:         SSH{Listen: "", HostKey: "data/ssh_host_ed25519", AuthorizedKeys: "authorized_keys", MaxSession: Duration{24 * time.Hour}},
		Engine: Engine{Workers: 4, MaxRequestsPerMinute: 600, Reopen: "new",
			CreateSearchWindow: Duration{15 * time.Minute}, MaxRetryAfter: Duration{5 * time.Minute}},
		Actions:   Actions{Command: "", Timeout: Duration{time.Minute}},
		Retention: Retention{ClosedIncidents: Duration{720 * time.Hour}, Notes: Duration{720 * time.Hour}},
		Billing:   Billing{Interval: Duration{time.Hour}},
		set:       map[string]struct{}{},
	}
	if got := Default(); !reflect.DeepEqual(*got, want) {
		t.Fatalf("Default() = %+v\nwant %+v", *got, want)
	}
	for name, get := range map[string]func() (*Config, error){
		"Parse(empty)": func() (*Config, error) { return Parse(file, nil) },
		"Parse(comments)": func() (*Config, error) {
			return Parse(file, []byte("# nothing\n\n[connectwise]\n[intake]\n[ssh]\n[engine]\n[actions]\n"))
		},
		"load(no file)": func() (*Config, error) { return load("", envMap(nil)) },
	} {
		c, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w := want
		w.File = c.File
		w.set = c.set
		if !reflect.DeepEqual(*c, w) {
			t.Errorf("%s = %+v\nwant %+v", name, *c, w)
		}
		if c.Intake.Enabled() || c.SSH.Enabled() {
			t.Errorf("%s: intake or ssh enabled by default", name)
		}
	}
	c, _ := load("", envMap(nil))
	if c.File != "" || len(c.SetKeys()) != 0 {
		t.Errorf("no file: File=%q SetKeys=%v", c.File, c.SetKeys())
	}
}

func TestParseFull(t *testing.T) {
	c := mustParse(t, `
[connectwise]
site        = "na.myconnectwise.net"
company_id  = "mycompany"
public_key  = "pub"
private_key = "priv"
client_id   = "5c8fdc8c-4d58-4d54-9e6a-4f5bde3c5e0b"
api_version = "2024.12"
fallback_company = "Catchall"

[intake]
listen = "127.0.0.1:8088"
token  = "tok-0123456789abcdef"
max_body_bytes = 2048

[ssh]
listen = "[::1]:2222"
host_key = "k"
authorized_keys = "ak"

[engine]
workers = 8
max_requests_per_minute = 100
reopen = "reopen"

[actions]
command = "/usr/local/bin/act --json"

[[routes]]
alert_type = "threat"
board    = "Security"
status   = "New"
priority = "Priority 2 - Quick Response"
type     = "Incident"
closed_status = "Closed"

[[routes]]
alert_type = "ransomware_canary"   # a new type
enabled = false

[[products]]
key = "users"
cw_identifier = "SEC-USER"
description = "Security seat (per user)"

[[workspaces]]
key = "acme"
cw_company = "ACME"
agreement_id = 17
preferred_server = "us-west"
max_users = 50
`)
	want := &Config{
		ConnectWise: ConnectWise{"na.myconnectwise.net", "mycompany", "pub", secret.New("priv"), "5c8fdc8c-4d58-4d54-9e6a-4f5bde3c5e0b", "2024.12", "Catchall"},
		Intake:      Intake{Listen: "127.0.0.1:8088", Token: secret.New("tok-0123456789abcdef"), MaxBodyBytes: 2048},
		SSH:         SSH{Listen: "[::1]:2222", HostKey: "k", AuthorizedKeys: "ak", MaxSession: Duration{24 * time.Hour}},
		Engine:      Engine{8, 100, "reopen", Duration{DefaultCreateSearchWindow}, Duration{DefaultMaxRetryAfter}},
		Actions:     Actions{Command: "/usr/local/bin/act --json", Timeout: Duration{time.Minute}},
		Retention:   Retention{Duration{720 * time.Hour}, Duration{720 * time.Hour}},
		Billing:     Billing{Interval: Duration{time.Hour}},
		Routes: []Route{
			{"threat", true, "Security", "New", "Priority 2 - Quick Response", "Incident", "Closed", true, true},
			{"ransomware_canary", false, "", "", "", "", "", true, true},
		},
		Products:   []Product{{"users", "SEC-USER", "Security seat (per user)", false}},
		Workspaces: []Workspace{{"acme", "ACME", 17, "us-west", 50}},
		File:       file,
		set:        c.set,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	if got := c.ConnectWise.BaseURL(); got != "https://na.myconnectwise.net" {
		t.Errorf("BaseURL = %q", got)
	}
	if got := c.AlertTypes(); !slices.Equal(got, append(slices.Clone(BuiltinAlertTypes), "ransomware_canary")) {
		t.Errorf("AlertTypes = %v", got)
	}
	if r, ok := c.RouteFor("threat"); !ok || r.Board != "Security" {
		t.Errorf("RouteFor(threat) = %+v %v", r, ok)
	}
	if _, ok := c.RouteFor("malware"); ok {
		t.Error("RouteFor(malware) found")
	}
	if w, ok := c.WorkspaceFor("acme"); !ok || w.AgreementID != 17 {
		t.Errorf("WorkspaceFor = %+v %v", w, ok)
	}
	if p, ok := c.ProductFor("users"); !ok || p.CWIdentifier != "SEC-USER" {
		t.Errorf("ProductFor = %+v %v", p, ok)
	}
}

func TestInlineFormsAndDottedKeys(t *testing.T) {
	c := mustParse(t, `connectwise.site = "http://127.0.0.1:9000"
engine = { workers = 2, reopen = "reopen" }
workspaces = [
  { key = "a", cw_company = "A" },
  { key = "b", cw_company = "B", max_users = 3 },
]
`)
	if c.ConnectWise.Site != "http://127.0.0.1:9000" || c.Engine.Workers != 2 || c.Engine.MaxRequestsPerMinute != 600 ||
		len(c.Workspaces) != 2 || c.Workspaces[1].MaxUsers != 3 {
		t.Fatalf("got %+v", c)
	}
	if got := c.ConnectWise.BaseURL(); got != "http://127.0.0.1:9000" {
		t.Errorf("BaseURL = %q", got)
	}
	if !c.IsSet("workspaces", "1", "max_users") || c.IsSet("workspaces", "0", "max_users") {
		t.Errorf("IsSet on inline array: %v", c.SetKeys())
	}
}

func TestSiteForms(t *testing.T) {
	ok := map[string]string{
		"na.myconnectwise.net":          "https://na.myconnectwise.net",
		"NA.MyConnectWise.net":          "https://na.myconnectwise.net",
		"na.myconnectwise.net:8443":     "https://na.myconnectwise.net:8443",
		"https://na.myconnectwise.net/": "https://na.myconnectwise.net",
		"http://127.0.0.1:9000":         "http://127.0.0.1:9000",
		"http://localhost":              "http://localhost",
		"http://[::1]:8080":             "http://[::1]:8080",
		"cw.internal_lab.example":       "https://cw.internal_lab.example",
		"10.0.0.5":                      "https://10.0.0.5",
	}
	for site, base := range ok {
		c, err := Parse(file, []byte(fmt.Sprintf("[connectwise]\nsite = %q\n", site)))
		if err != nil {
			t.Errorf("site %q: %v", site, err)
			continue
		}
		if got := c.ConnectWise.BaseURL(); got != base {
			t.Errorf("site %q: BaseURL = %q, want %q", site, got, base)
		}
	}
}

// errCase is a config with one problem: the error must name the file, the
// line and the key, and say what is wrong.
type errCase struct {
	name string
	text string
	line int
	key  string
	msg  string
}

func checkErr(t *testing.T, tc errCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s:%d: %s: ...%s...", file, tc.line, tc.key, tc.msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a *config.Error", err, err)
	}
	if e.File != file || e.Line != tc.line || e.Key != tc.key {
		t.Errorf("got File=%q Line=%d Key=%q (%v), want %q line %d key %q", e.File, e.Line, e.Key, err, file, tc.line, tc.key)
	}
	prefix := fmt.Sprintf("%s:%d: %s: ", file, tc.line, tc.key)
	if tc.line == 0 {
		prefix = fmt.Sprintf("%s: %s: ", file, tc.key)
	}
	if tc.key == "" {
		prefix = fmt.Sprintf("%s:%d: ", file, tc.line)
	}
	if s := err.Error(); !strings.HasPrefix(s, prefix) || !strings.Contains(s, tc.msg) {
		t.Errorf("error %q\nwant prefix %q and %q", s, prefix, tc.msg)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

const twoWorkspaces = `# two workspaces
[[workspaces]]
key = "acme"
cw_company = "ACME"

[[workspaces]]
key = "%s"
cw_company = "%s"
%s
`

var errCases = []errCase{
	// Syntax.
	{"syntax: unclosed header", "[connectwise\nsite = \"x\"\n", 1, "", "expected"},
	{"syntax: duplicate key", "[engine]\nworkers = 1\nworkers = 2\n", 3, "engine.workers", "already been defined"},
	{"syntax: bad value", "[engine]\n\nreopen = new\n", 3, "engine.reopen", "expected value"},

	// Unknown keys.
	{"unknown top-level key", "site = \"na.myconnectwise.net\"\n", 1, "site", "unknown key"},
	{"unknown section", "\n[conectwise]\nsite = \"x\"\n", 2, "conectwise", `unknown key (did you mean "connectwise"?)`},
	{"unknown key with suggestion", "[connectwise]\nsite = \"na.myconnectwise.net\"\nprivat_key = \"x\"\n", 3, "connectwise.privat_key", `did you mean "private_key"?`},
	{"unknown key, wrong case", "[connectwise]\nSite = \"na.myconnectwise.net\"\n", 2, "connectwise.Site", `did you mean "site"?`},
	{"unknown key in second workspace", fmt.Sprintf(twoWorkspaces, "beta", "BETA", "colour = \"red\""), 9, "workspaces[1].colour", "unknown key"},
	{"unknown key in route", "[[routes]]\nalert_type = \"threat\"\nboard = \"S\"\nclosed = \"Closed\"\n", 4, "routes[0].closed", "unknown key"},
	{"unknown quoted key", "[engine]\n\"work ers\" = 3\n", 2, `engine."work ers"`, "unknown key"},

	// Types.
	{"string for int", "[engine]\nworkers = \"four\"\n", 2, "engine.workers", "must be an integer, not a string"},
	{"float for int", "[intake]\nmax_body_bytes = 1.5\n", 2, "intake.max_body_bytes", "must be an integer, not a float"},
	{"int for string", "[connectwise]\ncompany_id = 42\n", 2, "connectwise.company_id", "must be a string, not an integer"},
	{"string for bool", "[[routes]]\nalert_type = \"threat\"\nboard = \"S\"\nenabled = \"yes\"\n", 4, "routes[0].enabled", "must be true or false"},
	{"section not a table", "connectwise = \"na.myconnectwise.net\"\n", 1, "connectwise", "must be a table ([connectwise])"},
	{"routes not an array", "[routes]\nalert_type = \"threat\"\n", 1, "routes", "must be an array of tables ([[routes]])"},
	{"routes array of strings", "routes = [{alert_type = \"threat\", board = \"S\"},\n \"malware\"]\n", 2, "routes[1]", "must be a table"},
	{"wrong type in second workspace", fmt.Sprintf(twoWorkspaces, "beta", "BETA", "max_users = \"many\""), 9, "workspaces[1].max_users", "must be an integer"},
	{"date for string", "[connectwise]\napi_version = 2025-08-01\n", 2, "connectwise.api_version", "not a date/time"},
	{"int overflow for int64", "[intake]\nmax_body_bytes = 9223372036854775807\n", 2, "intake.max_body_bytes", "between 1024"},

	// Values.
	{"site: ftp scheme", "[connectwise]\nsite = \"ftp://na.myconnectwise.net\"\n", 2, "connectwise.site", "scheme must be https"},
	{"site: http to remote", "[connectwise]\nsite = \"http://na.myconnectwise.net\"\n", 2, "connectwise.site", "http:// is allowed only for loopback"},
	{"site: path", "[connectwise]\nsite = \"https://na.myconnectwise.net/v4_6_release/apis/3.0\"\n", 2, "connectwise.site", "without a path"},
	{"site: bare with path", "[connectwise]\nsite = \"na.myconnectwise.net/x\"\n", 2, "connectwise.site", "not a host name"},
	{"site: bad host", "[connectwise]\nsite = \"na.my connectwise.net\"\n", 2, "connectwise.site", "not a"},
	{"site: user info", "[connectwise]\nsite = \"https://me:pw@na.myconnectwise.net\"\n", 2, "connectwise.site", "must not hold a user name"},
	{"site: port 0", "[connectwise]\nsite = \"na.myconnectwise.net:0\"\n", 2, "connectwise.site", "bad port"},
	{"site: spaces", "[connectwise]\nsite = \" na.myconnectwise.net\"\n", 2, "connectwise.site", "white space"},
	{"api_version: no minor", "[connectwise]\napi_version = \"2025\"\n", 2, "connectwise.api_version", "YYYY.N"},
	{"api_version: prefix", "[connectwise]\napi_version = \"v2025.8\"\n", 2, "connectwise.api_version", "YYYY.N"},
	{"api_version: zero", "[connectwise]\napi_version = \"2025.0\"\n", 2, "connectwise.api_version", "YYYY.N"},
	{"api_version: empty", "[connectwise]\napi_version = \"\"\n", 2, "connectwise.api_version", "YYYY.N"},
	{"client_id: control char", "[connectwise]\nclient_id = \"abc\\ndef\"\n", 2, "connectwise.client_id", "control character"},
	{"intake.listen: no port", "[intake]\nlisten = \"127.0.0.1\"\ntoken = \"t\"\n", 2, "intake.listen", "not host:port"},
	{"intake.listen: port range", "[intake]\nlisten = \"127.0.0.1:99999\"\ntoken = \"t\"\n", 2, "intake.listen", "not a number from 0 to 65535"},
	{"intake.listen: named port", "[intake]\nlisten = \"127.0.0.1:http\"\ntoken = \"t\"\n", 2, "intake.listen", "not a number"},
	{"intake.listen: bad host", "[intake]\nlisten = \"bad host:80\"\ntoken = \"t\"\n", 2, "intake.listen", "not an IP address or host name"},
	{"intake.token required", "[intake]\nlisten = \"127.0.0.1:8088\"\n", 1, "intake.token", "CWBRIDGE_INTAKE_TOKEN"},
	{"intake.token required, dotted", "\nintake.listen = \"127.0.0.1:8088\"\n", 2, "intake.token", "required when intake.listen is set"},
	{"max_body_bytes low", "[intake]\nmax_body_bytes = 1023\n", 2, "intake.max_body_bytes", "between 1024 (1 KiB) and 67108864 (64 MiB), not 1023"},
	{"max_body_bytes high", "[intake]\nmax_body_bytes = 67108865\n", 2, "intake.max_body_bytes", "not 67108865"},
	{"ssh.listen bad", "[ssh]\nlisten = \"localhost:-1\"\n", 2, "ssh.listen", "port"},
	{"ssh.host_key empty", "[ssh]\nlisten = \"127.0.0.1:2222\"\nhost_key = \"\"\n", 3, "ssh.host_key", "required when ssh.listen is set"},
	{"ssh.authorized_keys empty", "[ssh]\nlisten = \"127.0.0.1:2222\"\nauthorized_keys = \" \"\n", 3, "ssh.authorized_keys", "required"},
	{"ssh.listen same as intake", "[intake]\nlisten = \"127.0.0.1:8088\"\ntoken = \"t0123456789abcdef\"\n[ssh]\nlisten = \"127.0.0.1:8088\"\n", 5, "ssh.listen", "also intake.listen"},
	{"workers 0", "[engine]\nworkers = 0\n", 2, "engine.workers", "between 1 and 64, not 0"},
	{"workers 65", "[engine]\nworkers = 65\n", 2, "engine.workers", "not 65"},
	{"rpm 0", "[engine]\nmax_requests_per_minute = 0\n", 2, "engine.max_requests_per_minute", "between 1 and 10000"},
	{"rpm high", "[engine]\nmax_requests_per_minute = 10001\n", 2, "engine.max_requests_per_minute", "not 10001"},
	{"reopen", "[engine]\nreopen = \"sometimes\"\n", 2, "engine.reopen", `must be "new" or "reopen", not "sometimes"`},
	{"duration without unit", "[engine]\ncreate_search_window = \"15\"\n", 2, "engine.create_search_window", `"15" is not a duration`},
	{"duration as number", "[engine]\nmax_retry_after = 300\n", 2, "engine.max_retry_after", "must be a duration string"},
	{"duration out of range", "[engine]\n\nmax_retry_after = \"2h\"\n", 3, "engine.max_retry_after", "between 1s and 1h0m0s, not 2h0m0s"},

	// Routes.
	{"route typo", "[[routes]]\nalert_type = \"malwre\"\nboard = \"S\"\n", 2, "routes[0].alert_type", `unknown alert type "malwre" (did you mean "malware"?)`},
	{"route typo 2", "[[routes]]\nalert_type = \"dns_blocks\"\nboard = \"S\"\n", 2, "routes[0].alert_type", `did you mean "dns_block"?`},
	{"route malformed type", "[[routes]]\nalert_type = \"Bad-Type\"\nboard = \"S\"\n", 2, "routes[0].alert_type", `unknown alert type "Bad-Type"`},
	{"route missing type", "[[routes]]\nboard = \"S\"\n", 1, "routes[0].alert_type", "required"},
	{"route missing board", "[[routes]]\nalert_type = \"threat\"\nboard = \"S\"\n[[routes]]\nalert_type = \"malware\"\nstatus = \"New\"\n", 4, "routes[1].board", "required"},
	{"route empty board", "[[routes]]\nalert_type = \"threat\"\nboard = \"  \"\n", 3, "routes[0].board", "required"},
	{"duplicate route", "[[routes]]\nalert_type = \"threat\"\nboard = \"A\"\n\n[[routes]]\nalert_type = \"threat\"\nboard = \"B\"\n", 6, "routes[1].alert_type", `duplicate route for alert type "threat" (first at line 2)`},
	{"duplicate custom route", "[[routes]]\nalert_type = \"canary\"\nenabled = false\n[[routes]]\nenabled = false\nalert_type = \"canary\"\n", 6, "routes[1].alert_type", `(first at line 2)`},

	// Products.
	{"duplicate product", "[[products]]\nkey = \"users\"\ncw_identifier = \"A\"\n[[products]]\nkey = \"devices\"\ncw_identifier = \"B\"\n[[products]]\ncw_identifier = \"C\"\nkey = \"users\"\n", 9, "products[2].key", `duplicate product key "users" (first at line 2)`},
	{"product missing key", "[[products]]\ncw_identifier = \"A\"\n", 1, "products[0].key", "required"},
	{"product missing identifier", "[[products]]\nkey = \"users\"\n", 1, "products[0].cw_identifier", "required"},
	{"product key spaces", "[[products]]\nkey = \"users \"\ncw_identifier = \"A\"\n", 2, "products[0].key", "white space"},

	// Workspaces.
	{"duplicate workspace", fmt.Sprintf(twoWorkspaces, "acme", "ACME2", ""), 7, "workspaces[1].key", `duplicate workspace key "acme" (first at line 3)`},
	{"duplicate workspace, inline", "workspaces = [{key = \"a\", cw_company = \"A\"},\n  {key = \"b\", cw_company = \"B\"},\n  {cw_company = \"C\", key = \"a\"}]\n", 3, "workspaces[2].key", `duplicate workspace key "a" (first at line 1)`},
	{"workspace missing cw_company", fmt.Sprintf(twoWorkspaces, "beta", "", ""), 8, "workspaces[1].cw_company", "required"},
	{"workspace missing key", "[[workspaces]]\ncw_company = \"A\"\n", 1, "workspaces[0].key", "required"},
	{"max_users negative", fmt.Sprintf(twoWorkspaces, "beta", "B", "max_users = -1"), 9, "workspaces[1].max_users", "must not be negative"},
	{"agreement_id negative", fmt.Sprintf(twoWorkspaces, "beta", "B", "agreement_id = -5"), 9, "workspaces[1].agreement_id", "not -5"},

	// Line numbers after things that span lines.
	{"line after multi-line string", "[actions]\ncommand = \"\"\"\\\n[[workspaces]] \\\nkey = 1 \\\n\"\"\"\n[engine]\nworkers = 0\n", 7, "engine.workers", "between"},
	{"line after multi-line array", "routes = [ # comment ]\n  {alert_type = \"threat\",\n   board = \"S]\"},\n  # {alert_type = \"x\"}\n]\nproducts = [{key = \"p\", cw_identifier = '''x'y'''}]\n[engine]\n# comment\nreopen = \"x\"\n", 9, "engine.reopen", "must be"},
	{"line after literal and escaped strings", "[[products]]\nkey = 'a\"b'\ncw_identifier = \"x\\\"]\\\\\"\n[[products]]\nkey = \"\"\"\"p\"\"\"\"\ncw_identifier = \"y\"\n\n[[products]]\nkey = '''\"p\"'''\ncw_identifier = \"z\"\n", 9, "products[2].key", `duplicate product key "\"p\"" (first at line 5)`},
	{"CRLF line endings", "[engine]\r\n# c\r\nworkers = 0\r\n", 3, "engine.workers", "between"},
	{"BOM", "\ufeff[engine]\nworkers = 0\n", 2, "engine.workers", "between"},
	{"first problem wins", "[engine]\nworkers = 0\nreopen = \"x\"\n", 2, "engine.workers", "between"},
}

func TestErrors(t *testing.T) {
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(file, []byte(tc.text))
			checkErr(t, tc, err)
		})
	}
}

// A disabled route needs no board; a new alert type far from the built-ins
// is fine.
func TestRouteRules(t *testing.T) {
	c := mustParse(t, "[[routes]]\nalert_type = \"canary_file\"\nenabled = false\n")
	if c.Routes[0].Enabled {
		t.Error("enabled = false was not kept")
	}
}

func TestValidAlertType(t *testing.T) {
	for _, n := range append(slices.Clone(BuiltinAlertTypes), "ransomware", "usb_device", "a", "x"+strings.Repeat("y", 63)) {
		if err := ValidAlertType(n); err != nil {
			t.Errorf("ValidAlertType(%q) = %v", n, err)
		}
	}
	for n, want := range map[string]string{
		"malwre":                      `unknown alert type "malwre" (did you mean "malware"?)`,
		"threats":                     `(did you mean "threat"?)`,
		"phising":                     `(did you mean "phishing"?)`,
		"data_los":                    `(did you mean "data_loss"?)`,
		"anomalous_logins":            `(did you mean "anomalous_login"?)`,
		"policyviolation":             `(did you mean "policy_violation"?)`,
		"Threat":                      `unknown alert type "Threat": an alert type is lower-case`,
		"":                            `unknown alert type ""`,
		"9lives":                      "starting with a letter",
		"dns-block":                   "lower-case letters",
		"x" + strings.Repeat("y", 64): "at most 64",
	} {
		err := ValidAlertType(n)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidAlertType(%q) = %v, want %q", n, err, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"malwre", "malware", 1}, {"kitten", "sitting", 3}, {"", "abcd", 4}, {"ab", "ba", 2}} {
		if got := editDistance(tc.a, tc.b, 100); got != tc.d {
			t.Errorf("editDistance(%q,%q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
		if got := editDistance(tc.a, tc.b, 2); got != min(tc.d, 2) {
			t.Errorf("editDistance(%q,%q, limit 2) = %d", tc.a, tc.b, got)
		}
	}
}

func TestEnvOverride(t *testing.T) {
	text := "[connectwise]\nprivate_key = \"from-file\"\n[intake]\nlisten = \"127.0.0.1:8088\"\n"
	// Without the env the intake has no token.
	if _, err := parse(file, []byte(text), envMap(nil)); err == nil || !strings.Contains(err.Error(), "intake.token") {
		t.Fatalf("no token: err = %v", err)
	}
	c, err := parse(file, []byte(text), envMap(map[string]string{
		EnvPrivateKey:  "from-env",
		EnvIntakeToken: "env-token-0123456789",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectWise.PrivateKey.Reveal() != "from-env" || c.Intake.Token.Reveal() != "env-token-0123456789" {
		t.Errorf("env did not win: %q %q", c.ConnectWise.PrivateKey.Reveal(), c.Intake.Token.Reveal())
	}
	if !c.IsSet("intake", "token") || !c.IsSet("connectwise", "private_key") {
		t.Errorf("env-set keys not IsSet: %v", c.SetKeys())
	}
	// An empty variable counts as unset.
	c, err = parse(file, []byte("[connectwise]\nprivate_key = \"from-file\"\n"), envMap(map[string]string{EnvPrivateKey: ""}))
	if err != nil || c.ConnectWise.PrivateKey.Reveal() != "from-file" {
		t.Errorf("empty env: %v %q", err, c.ConnectWise.PrivateKey.Reveal())
	}
	// No file at all: the env still counts.
	c, err = load("", envMap(map[string]string{EnvPrivateKey: "k"}))
	if err != nil || c.ConnectWise.PrivateKey.Reveal() != "k" || !c.IsSet("connectwise", "private_key") || c.IsSet("connectwise", "site") {
		t.Errorf("env without file: %v %+v", err, c)
	}
	// Parse ignores the environment.
	t.Setenv(EnvIntakeToken, "process-env")
	if _, err := Parse(file, []byte(text)); err == nil {
		t.Error("Parse used the process environment")
	}
	// A bad env value names the variable and has no line.
	_, err = parse(file, []byte(text), envMap(map[string]string{EnvIntakeToken: "tok\n"}))
	checkErr(t, errCase{key: "intake.token", line: 0, msg: "from environment variable CWBRIDGE_INTAKE_TOKEN: contains a control character"}, err)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cw.toml")
	if err := os.WriteFile(path, []byte("[engine]\nworkers = 9\n[intake]\nlisten = \"127.0.0.1:0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(path, envMap(map[string]string{EnvIntakeToken: "t-0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.Engine.Workers != 9 || c.Intake.Token.Reveal() != "t-0123456789abcdef" {
		t.Errorf("got %+v", c)
	}
	if _, err := load(path, envMap(nil)); err == nil || !strings.HasPrefix(err.Error(), path+":3: intake.token: ") {
		t.Errorf("error does not name the file: %v", err)
	}

	missing := filepath.Join(dir, "nope.toml")
	_, err = Load(missing)
	var e *Error
	if !errors.As(err, &e) || e.File != missing || !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", maxFileBytes/2+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

func TestIsSet(t *testing.T) {
	c := mustParse(t, `[connectwise]
site = "na.myconnectwise.net"

[[routes]]
alert_type = "threat"
board = "Security"

[[routes]]
alert_type = "malware"
enabled = false
`)
	for _, k := range [][]string{
		{"connectwise"}, {"connectwise", "site"}, {"routes"}, {"routes", "0"}, {"routes", "0", "board"},
		{"routes", "1", "enabled"}, {"routes[0].board"}, {"connectwise.site"},
	} {
		if !c.IsSet(k...) {
			t.Errorf("IsSet(%q) = false", k)
		}
	}
	for _, k := range [][]string{
		{}, {"connectwise", "company_id"}, {"intake"}, {"intake", "listen"}, {"engine", "workers"}, {"products"},
		{"routes", "0", "enabled"}, {"routes", "2"}, {"routes", "1", "board"}, {"routes", "01", "board"}, {"site"},
	} {
		if c.IsSet(k...) {
			t.Errorf("IsSet(%q) = true", k)
		}
	}
	if !c.Routes[0].Enabled || c.Routes[1].Enabled {
		t.Errorf("enabled: %+v", c.Routes)
	}
	want := []string{"connectwise", "connectwise.site", "routes", "routes[0]", "routes[0].alert_type", "routes[0].board",
		"routes[1]", "routes[1].alert_type", "routes[1].enabled"}
	if got := c.SetKeys(); !slices.Equal(got, want) {
		t.Errorf("SetKeys = %q\nwant %q", got, want)
	}
	var nilCfg *Config
	if nilCfg.IsSet("connectwise") || Default().IsSet("engine", "workers") {
		t.Error("IsSet true on nil or default config")
	}
}
