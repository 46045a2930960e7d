package cwclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Site is a parsed ConnectWise site: where the login pages live.
type Site struct {
	Scheme string // "https", or "http" for loopback hosts only
	Host   string // host[:port], as the user's browser sees it
}

// cloudDomains are ConnectWise-hosted domains whose API host needs "api-".
var cloudDomains = []string{".myconnectwise.net", ".connectwisedev.com"}

// ParseSite accepts a host ("na.myconnectwise.net"), host:port or an
// http(s) URL without a path. Plain http is accepted only for loopback
// hosts (the simulator, tests): credentials must never cross a network
// unencrypted. Errors are KindConfig and say what to type instead.
func ParseSite(raw string) (Site, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Site{}, configErr("site is empty: enter your ConnectWise host, e.g. na.myconnectwise.net")
	}
	notSite := configErr(fmt.Sprintf("site %q is not a host name or an http(s) URL (e.g. \"na.myconnectwise.net\")", raw))
	if !strings.Contains(s, "://") {
		if strings.ContainsAny(s, "/?#@") {
			return Site{}, notSite
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return Site{}, notSite
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "https" && scheme != "http":
		return Site{}, configErr(fmt.Sprintf("site %q: the scheme must be https", raw))
	case u.User != nil:
		return Site{}, configErr(fmt.Sprintf("site %q must not hold a user name or password; keys belong in public_key and private_key", raw))
	case u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return Site{}, configErr(fmt.Sprintf("site %q: give only the host (e.g. \"na.myconnectwise.net\"), without a path", raw))
	case !ValidHost(u.Hostname()):
		return Site{}, configErr(fmt.Sprintf("site %q: %q is not a valid host name", raw, u.Hostname()))
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := ParsePort(p); err != nil || n == 0 {
			return Site{}, configErr(fmt.Sprintf("site %q: bad port %q", raw, p))
		}
	}
	if scheme == "http" && !IsLoopback(u.Hostname()) {
		return Site{}, configErr(fmt.Sprintf("site %q: http:// is allowed only for loopback hosts (localhost, 127.0.0.1, ::1); use https://", raw))
	}
	return Site{Scheme: scheme, Host: strings.ToLower(u.Host)}, nil
}

// ParsePort reads a numeric port, 0 to 65535.
func ParsePort(p string) (int, error) {
	if p == "" || len(p) > 5 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad port %q", p)
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	return n, nil
}

// ValidHost accepts an IP address or a DNS name (labels of letters,
// digits, '-' and '_').
func ValidHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			ok := c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !ok {
				return false
			}
		}
	}
	return true
}

// IsLoopback reports whether host (no port) is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s Site) hostname() string {
	h, _, err := net.SplitHostPort(s.Host)
	if err != nil {
		return s.Host
	}
	return h
}

func (s Site) String() string { return s.Scheme + "://" + s.Host }

// apiHost applies the developer guide's rule: cloud API hosts carry the
// "api-" prefix; so does any host whose codebase is not v4_6_release/.
// siteURL is what companyinfo answered; it is trusted only when it names
// this very host or its api- twin, so a bad answer cannot send our keys
// elsewhere.
func (s Site) apiHost(codebase, siteURL string) string {
	host := s.hostname()
	port := strings.TrimPrefix(s.Host, host)
	if siteURL != "" {
		su := strings.ToLower(strings.TrimSuffix(siteURL, "/"))
		if i := strings.Index(su, "://"); i >= 0 {
			su = su[i+3:]
		}
		suHost := su
		if h, _, err := net.SplitHostPort(su); err == nil {
			suHost = h
		}
		if suHost == host || suHost == "api-"+host {
			return suHost + port
		}
	}
	if strings.HasPrefix(host, "api-") || IsLoopback(host) || net.ParseIP(host) != nil {
		return s.Host
	}
	cloud := false
	for _, d := range cloudDomains {
		if strings.HasSuffix(host, d) {
			cloud = true
		}
	}
	if cloud || (codebase != "" && codebase != "v4_6_release/") {
		return "api-" + host + port
	}
	return s.Host
}

// CompanyInfo is the unauthenticated /login/companyinfo answer.
type CompanyInfo struct {
	CompanyName   string `json:"CompanyName"`
	Codebase      string `json:"Codebase"`
	VersionCode   string `json:"VersionCode"`
	VersionNumber string `json:"VersionNumber"`
	CompanyID     string `json:"CompanyID"`
	SiteURL       string `json:"SiteUrl"`
	IsCloud       flexBool
}

// flexBool reads "True", true, "false" alike: the guide shows a string,
// other clients a bool.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.ToLower(string(b)), `"`)
	*f = s == "true"
	return nil
}

// fetchCompanyInfo discovers the codebase; it needs no credentials.
func (c *Client) fetchCompanyInfo(ctx context.Context) (CompanyInfo, error) {
	path := "login/companyinfo/" + url.PathEscape(c.cfg.CompanyID)
	u := c.site.String() + "/" + path
	var info CompanyInfo
	e := &Error{Method: http.MethodGet, Path: "login/companyinfo"}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		e.Kind, e.Err = KindConfig, err
		return info, e
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		e.Kind, e.Err = KindNetwork, err
		e.Hint = "cannot reach " + c.site.Host + ": check the site and your network"
		return info, e
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		e.Kind, e.Err = KindNetwork, err
		return info, e
	}
	if resp.StatusCode/100 != 2 {
		e.Status = resp.StatusCode
		e.Kind = kindForStatus(resp.StatusCode, 0)
		e.parseErrorBody(resp.Header.Get("Content-Type"), body)
		if e.Kind == KindNotFound {
			e.Hint = fmt.Sprintf("company ID %q is not known on %s", c.cfg.CompanyID, c.site.Host)
		}
		return info, e
	}
	if looksHTML(resp.Header.Get("Content-Type"), body) {
		e.webPage()
		return info, e
	}
	if err := json.Unmarshal(body, &info); err != nil {
		e.Kind, e.Err = KindBadResponse, err
		e.Message = "company info is not valid JSON: " + err.Error()
		return info, e
	}
	if info.Codebase == "" {
		e.Kind = KindNotFound
		e.Message = fmt.Sprintf("no codebase for company ID %q", c.cfg.CompanyID)
		e.Hint = "check the company ID (the one you type on the ConnectWise login page)"
		return info, e
	}
	if !strings.HasSuffix(info.Codebase, "/") {
		info.Codebase += "/"
	}
	if strings.Contains(info.Codebase, "..") || strings.ContainsAny(info.Codebase, "?#\\ ") {
		e.Kind = KindBadResponse
		e.Message = fmt.Sprintf("implausible codebase %q", info.Codebase)
		return info, e
	}
	return info, nil
}

func configErr(msg string) error { return &Error{Kind: KindConfig, Message: msg} }
