package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/cwclient"
)

type validator struct {
	file    string
	pos     *positions
	fromEnv map[string]string // key -> environment variable it came from
	errs    []*Error
}

func (v *validator) errorf(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.pos.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) first() error { return firstError(v.errs) }

var apiVersionRE = regexp.MustCompile(`^20[0-9]{2}\.[1-9][0-9]?$`)

func (v *validator) config(c *Config) {
	cw := c.ConnectWise
	if cw.Site != "" {
		if err := checkSite(cw.Site); err != nil {
			v.errorf("connectwise.site", "%v", err)
		}
	}
	v.text("connectwise.company_id", cw.CompanyID)
	v.text("connectwise.public_key", cw.PublicKey)
	v.secret("connectwise.private_key", cw.PrivateKey)
	v.text("connectwise.client_id", cw.ClientID)
	if !apiVersionRE.MatchString(cw.APIVersion) {
		v.errorf("connectwise.api_version", "must look like YYYY.N (e.g. %q), not %q", DefaultAPIVersion, cw.APIVersion)
	}
	v.text("connectwise.fallback_company", cw.FallbackCompany)

	in := c.Intake
	v.listen("intake.listen", in.Listen)
	v.secret("intake.token", in.Token)
	if in.Listen != "" && in.Token.IsZero() {
		v.errorf("intake.token", "required when intake.listen is set: set token here or the environment variable %s", EnvIntakeToken)
	}
	if n := len(in.Token.Reveal()); n > 0 && n < MinTokenLength {
		msg := fmt.Sprintf("is %d characters; use at least %d (a random one, e.g. this freshly generated %s)", n, MinTokenLength, GenerateToken())
		if env, ok := v.fromEnv["intake.token"]; ok {
			v.errs = append(v.errs, &Error{File: v.file, Key: "intake.token", Msg: "from environment variable " + env + ": " + msg})
		} else {
			v.errorf("intake.token", "%s", msg)
		}
	}
	v.text("intake.cert_file", in.CertFile)
	v.text("intake.key_file", in.KeyFile)
	switch {
	case in.CertFile != "" && in.KeyFile == "":
		v.errorf("intake.cert_file", "needs intake.key_file too (the certificate's private key, PEM)")
	case in.KeyFile != "" && in.CertFile == "":
		v.errorf("intake.key_file", "needs intake.cert_file too (the certificate chain, PEM)")
	}
	if in.Listen != "" && !in.TLS() && !in.AllowPlainHTTP && !isLoopbackListen(in.Listen) {
		v.errorf("intake.listen", "%q is reachable from the network, but the intake has no TLS: the bearer token would cross it in clear. Set cert_file and key_file, listen on 127.0.0.1 behind a TLS proxy, or set allow_plain_http = true", in.Listen)
	}
	if in.MaxBodyBytes < MinMaxBodyBytes || in.MaxBodyBytes > MaxMaxBodyBytes {
		v.errorf("intake.max_body_bytes", "must be between %d (1 KiB) and %d (64 MiB), not %d", MinMaxBodyBytes, MaxMaxBodyBytes, in.MaxBodyBytes)
	}

	ssh := c.SSH
	v.listen("ssh.listen", ssh.Listen)
	v.text("ssh.host_key", ssh.HostKey)
	v.text("ssh.authorized_keys", ssh.AuthorizedKeys)
	if ssh.Listen != "" {
		if strings.TrimSpace(ssh.HostKey) == "" {
			v.errorf("ssh.host_key", "required when ssh.listen is set")
		}
		if strings.TrimSpace(ssh.AuthorizedKeys) == "" {
			v.errorf("ssh.authorized_keys", "required when ssh.listen is set")
		}
		if d := ssh.MaxSession.Duration; d < 0 || d > 0 && d < time.Minute {
			v.errorf("ssh.max_session", "must be a minute or more, like \"8h\", or \"0s\" for no limit, not %s", d)
		}
		if ssh.Listen == in.Listen {
			v.errorf("ssh.listen", "%q is also intake.listen", ssh.Listen)
		}
	}

	e := c.Engine
	if e.Workers < MinWorkers || e.Workers > MaxWorkers {
		v.errorf("engine.workers", "must be between %d and %d, not %d", MinWorkers, MaxWorkers, e.Workers)
	}
	if e.MaxRequestsPerMinute < MinRequestsPerMinute || e.MaxRequestsPerMinute > MaxRequestsPerMinute {
		v.errorf("engine.max_requests_per_minute", "must be between %d and %d, not %d", MinRequestsPerMinute, MaxRequestsPerMinute, e.MaxRequestsPerMinute)
	}
	if e.Reopen != ReopenNew && e.Reopen != ReopenReopen {
		v.errorf("engine.reopen", "must be %q or %q, not %q", ReopenNew, ReopenReopen, e.Reopen)
	}
	v.within("engine.create_search_window", e.CreateSearchWindow, time.Minute, 24*time.Hour)
	v.within("engine.max_retry_after", e.MaxRetryAfter, time.Second, time.Hour)

	v.actions(c.Actions)
	v.within("billing.interval", c.Billing.Interval, time.Minute, 24*time.Hour)

	// A floor, so a slip such as "30m" cannot prune state minutes after it closed.
	v.within("retention.closed_incidents", c.Retention.ClosedIncidents, MinRetention, MaxRetention)
	v.within("retention.notes", c.Retention.Notes, MinRetention, MaxRetention)

	v.routes(c.Routes)
	v.products(c.Products)
	v.workspaces(c.Workspaces)
}

func (v *validator) actions(a Actions) {
	v.text("actions.command", a.Command)
	v.within("actions.timeout", a.Timeout, MinActionTimeout, MaxActionTimeout)
	for i, m := range a.AllowedMembers {
		k := fmt.Sprintf("actions.allowed_members[%d]", i)
		if v.required(k, m, "a ConnectWise member identifier") && strings.TrimSpace(m) != m {
			v.errorf(k, "%q has leading or trailing white space", m)
		}
	}
	for i, n := range a.PassEnv {
		k := fmt.Sprintf("actions.pass_env[%d]", i)
		switch {
		case !envNameRE.MatchString(n):
			v.errorf(k, "%q is not an environment variable name", n)
		case strings.HasPrefix(strings.ToUpper(n), "CWBRIDGE_"):
			v.errorf(k, "%s is cwbridge's own variable and may hold a secret; it is never passed to the action", n)
		}
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) routes(rs []Route) {
	first := map[string]string{} // alert type -> key of its first route
	for i, r := range rs {
		k := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.AlertType == "":
			v.errorf(k+".alert_type", "required: the alert type this route is for (e.g. %q)", BuiltinAlertTypes[0])
		case ValidAlertType(r.AlertType) != nil:
			v.errorf(k+".alert_type", "%v", ValidAlertType(r.AlertType))
		default:
			v.unique(first, k+".alert_type", r.AlertType, "route for alert type")
		}
		if r.Enabled {
			v.required(k+".board", r.Board, "the service board, by name or id")
		} else {
			v.text(k+".board", r.Board)
		}
		v.text(k+".status", r.Status)
		v.text(k+".priority", r.Priority)
		v.text(k+".type", r.Type)
		v.text(k+".closed_status", r.ClosedStatus)
	}
}

func (v *validator) products(ps []Product) {
	first := map[string]string{}
	for i, p := range ps {
		k := fmt.Sprintf("products[%d]", i)
		if v.ident(k+".key", p.Key, "the product name /v1/usage uses, e.g. \"users\"") {
			v.unique(first, k+".key", p.Key, "product key")
		}
		v.required(k+".cw_identifier", p.CWIdentifier, "the ConnectWise catalog item identifier")
		v.text(k+".description", p.Description)
		if n := utf8.RuneCountInString(p.CWIdentifier); n > cwclient.MaxCatalogIdentifier {
			v.errorf(k+".cw_identifier", "is %d characters; ConnectWise allows at most %d", n, cwclient.MaxCatalogIdentifier)
		}
		if n := utf8.RuneCountInString(p.Description); n > cwclient.MaxCatalogDescription {
			v.errorf(k+".description", "is %d characters; ConnectWise allows at most %d for a catalog item", n, cwclient.MaxCatalogDescription)
		}
	}
}

// unique reports a value seen before under another key, naming where.
func (v *validator) unique(first map[string]string, key, value, what string) {
	if f := first[value]; f != "" {
		v.errorf(key, "duplicate %s %q (first at line %d)", what, value, v.pos.lineOf(f))
		return
	}
	first[value] = key
}

func (v *validator) workspaces(ws []Workspace) {
	first := map[string]string{}
	for i, w := range ws {
		k := fmt.Sprintf("workspaces[%d]", i)
		if v.ident(k+".key", w.Key, "the key incidents carry in \"company\"") {
			v.unique(first, k+".key", w.Key, "workspace key")
		}
		v.required(k+".cw_company", w.CWCompany, "the ConnectWise company identifier")
		if w.AgreementID < 0 {
			v.errorf(k+".agreement_id", "must be 0 (none) or a ConnectWise agreement id, not %d", w.AgreementID)
		}
		v.text(k+".preferred_server", w.PreferredServer)
		if w.MaxUsers < 0 {
			v.errorf(k+".max_users", "must not be negative (%d)", w.MaxUsers)
		}
	}
}

// text rejects control characters (a value may end up in an HTTP header or
// a log line).
func (v *validator) text(key, s string) bool {
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		v.errorf(key, "contains a control character (%q)", s[i:i+1])
		return false
	}
	return true
}

func (v *validator) required(key, s, what string) bool {
	if strings.TrimSpace(s) == "" {
		v.errorf(key, "required: %s", what)
		return false
	}
	return v.text(key, s)
}

// ident is a key other entries and incidents refer to: required, and
// without white space around it, which would make it never match.
func (v *validator) ident(key, s, what string) bool {
	if !v.required(key, s, what) {
		return false
	}
	if strings.TrimSpace(s) != s {
		v.errorf(key, "%q has leading or trailing white space", s)
		return false
	}
	return true
}

// secret checks a secret without ever putting its value in the message.
func (v *validator) secret(key string, s Secret) {
	var msg string
	switch val := s.Reveal(); {
	case val == "":
		return
	case val == Mask:
		msg = "is the display mask " + Mask + ", not the real value"
	case strings.IndexFunc(val, isControl) >= 0:
		msg = "contains a control character (a stray newline?)"
	case strings.TrimSpace(val) != val:
		msg = "has leading or trailing white space"
	default:
		return
	}
	if env, ok := v.fromEnv[key]; ok {
		v.errs = append(v.errs, &Error{File: v.file, Key: key, Msg: "from environment variable " + env + ": " + msg})
		return
	}
	v.errorf(key, "%s", msg)
}

func isControl(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// isLoopbackListen reports whether a listen address only takes
// connections from this host: a loopback IP or "localhost". An empty host
// means all interfaces.
func isLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listen checks a listen address: "" (off) or host:port with a numeric port
// (0 picks a free one); an empty host means all interfaces.
func (v *validator) listen(key, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.errorf(key, "%q is not host:port (e.g. \"127.0.0.1:8088\")", addr)
		return
	}
	if _, err := cwclient.ParsePort(port); err != nil {
		v.errorf(key, "%q: port %q is not a number from 0 to 65535", addr, port)
		return
	}
	if host != "" && !cwclient.ValidHost(host) {
		v.errorf(key, "%q: %q is not an IP address or host name", addr, host)
	}
}

// parseSite is cwclient.ParseSite, which the client itself uses, so the
// config accepts exactly the sites that can be connected to.
func parseSite(site string) (*url.URL, error) {
	var msg string
	if strings.TrimSpace(site) != site {
		msg = fmt.Sprintf("%q has leading or trailing white space", site)
	} else if s, err := cwclient.ParseSite(site); err == nil {
		return &url.URL{Scheme: s.Scheme, Host: s.Host}, nil
	} else {
		msg = err.Error()
		var ce *cwclient.Error
		if errors.As(err, &ce) {
			msg = strings.TrimPrefix(ce.Message, "site ")
		}
	}
	// Quote the value only when it looks like an address: a key pasted
	// into site, or a password in user info, must not be echoed.
	if !looksLikeSite(site) {
		msg = strings.ReplaceAll(msg, strconv.Quote(site), "(the value, not shown: it does not look like a host name and may be a secret)")
		msg = strings.ReplaceAll(msg, site, Mask)
	}
	return nil, errors.New(msg)
}

// looksLikeSite: a dotted name, host:port, localhost or a URL, with no
// user info.
func looksLikeSite(s string) bool {
	if strings.Contains(s, "@") || len(s) > 200 {
		return false
	}
	return strings.ContainsAny(s, ".:") || strings.EqualFold(s, "localhost")
}

func checkSite(site string) error {
	_, err := parseSite(site)
	return err
}

// BaseURL is the site as scheme://host[:port] (https unless the site names
// http), or "" when the site is unset or invalid.
func (cw ConnectWise) BaseURL() string {
	if cw.Site == "" {
		return ""
	}
	u, err := parseSite(cw.Site)
	if err != nil {
		return ""
	}
	return u.String()
}
