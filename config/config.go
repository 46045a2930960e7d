// Package config loads cwbridge's TOML configuration file.
//
// The file is optional: everything it can hold may also be set in the wizard
// and the screens (and lives in bbolt). When a file is given, its values win
// over stored ones for the keys it sets; Config.IsSet tells which those are.
//
// Every problem is reported as a *Error naming the file, the line and the
// key, on one line, e.g.
//
//	cwbridge.toml:12: workspaces[1].key: duplicate workspace key "acme" (first at line 7)
//
// config.example.toml at the repository root documents every key and its
// default; a test keeps it and this package in step.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/internal/secret"
)

// DefaultPath is the config file used when --config is not given and the
// file exists.
const DefaultPath = "cwbridge.toml"

// Environment variables that override secrets from the file. An empty value
// counts as not set.
const (
	EnvPrivateKey  = "CWBRIDGE_PRIVATE_KEY"
	EnvIntakeToken = "CWBRIDGE_INTAKE_TOKEN"
)

// Defaults (see config.example.toml).
const (
	DefaultAPIVersion           = cwclient.DefaultAPIVersion
	DefaultMaxBodyBytes         = 1 << 20
	DefaultSSHHostKey           = "data/ssh_host_ed25519"
	DefaultSSHAuthorizedKeys    = "authorized_keys"
	DefaultWorkers              = 4
	DefaultMaxRequestsPerMinute = 600
	DefaultReopen               = ReopenNew
	// Peers report creates answered after "upwards of 5" minutes: three
	// times that before a create is tried again.
	DefaultCreateSearchWindow = 15 * time.Minute
	DefaultMaxRetryAfter      = cwclient.DefaultMaxRetryAfter
	DefaultActionTimeout      = 60 * time.Second
	DefaultBillingInterval    = time.Hour
	DefaultSSHMaxSession      = 24 * time.Hour
	DefaultRetention          = 720 * time.Hour
)

// Values of engine.reopen.
const (
	ReopenNew    = "new"    // after a resolve, a new trigger opens a new ticket
	ReopenReopen = "reopen" // ... reopens the closed one
)

// Limits enforced on numeric keys.
const (
	MinMaxBodyBytes      = 1 << 10
	MaxMaxBodyBytes      = 64 << 20
	MinWorkers           = 1
	MaxWorkers           = 64
	MinRequestsPerMinute = 1
	MaxRequestsPerMinute = 10000
	MinTokenLength       = 16 // intake token, in bytes
	MinActionTimeout     = time.Second
	MaxActionTimeout     = time.Hour
	MinRetention         = time.Hour
	MaxRetention         = 10 * 365 * 24 * time.Hour
	maxFileBytes         = 16 << 20
)

// Config is the parsed configuration: the file's values over Default().
type Config struct {
	ConnectWise ConnectWise `toml:"connectwise" json:"connectwise"`
	Intake      Intake      `toml:"intake" json:"intake"`
	SSH         SSH         `toml:"ssh" json:"ssh"`
	Engine      Engine      `toml:"engine" json:"engine"`
	Actions     Actions     `toml:"actions" json:"actions"`
	Retention   Retention   `toml:"retention" json:"retention"`
	Billing     Billing     `toml:"billing" json:"billing"`
	Routes      []Route     `toml:"routes" json:"routes"`
	Products    []Product   `toml:"products" json:"products"`
	Workspaces  []Workspace `toml:"workspaces" json:"workspaces"`

	// File is the path the config was loaded from (the name given to
	// Parse); "" when there was no file.
	File string `toml:"-" json:"file,omitempty"`
	// Warnings are problems that do not stop cwbridge (a config file
	// holding secrets that others can read, plain HTTP allowed on the
	// network); the commands print them. No secret is ever in them.
	Warnings []string `toml:"-" json:"warnings,omitempty"`

	set map[string]struct{} // indexed key paths the file or env set
}

// ConnectWise is the [connectwise] section: the API member's credentials.
type ConnectWise struct {
	Site            string `toml:"site" json:"site"`               // host, host:port or http(s) URL; http only for loopback
	CompanyID       string `toml:"company_id" json:"company_id"`   // the company ID typed on the CW login page
	PublicKey       string `toml:"public_key" json:"public_key"`   // API member public key
	PrivateKey      Secret `toml:"private_key" json:"private_key"` // or env CWBRIDGE_PRIVATE_KEY
	ClientID        string `toml:"client_id" json:"client_id"`     // clientId GUID issued by ConnectWise
	APIVersion      string `toml:"api_version" json:"api_version"` // YYYY.N, sent in the Accept header
	FallbackCompany string `toml:"fallback_company" json:"fallback_company"`
}

// Intake is the [intake] section: the incident HTTP endpoint. It runs only
// when Listen is set.
type Intake struct {
	Listen       string `toml:"listen" json:"listen"`
	Token        Secret `toml:"token" json:"token"` // or env CWBRIDGE_INTAKE_TOKEN; required with listen
	MaxBodyBytes int64  `toml:"max_body_bytes" json:"max_body_bytes"`
	// CertFile and KeyFile (PEM), both or neither, make the intake HTTPS.
	CertFile string `toml:"cert_file" json:"cert_file"`
	KeyFile  string `toml:"key_file" json:"key_file"`
	// AllowPlainHTTP lets the intake listen on a non-loopback address
	// without TLS (the token would cross the network in clear); refused
	// otherwise.
	AllowPlainHTTP bool `toml:"allow_plain_http" json:"allow_plain_http"`
}

// TLS reports whether the intake serves HTTPS.
func (in Intake) TLS() bool { return in.CertFile != "" && in.KeyFile != "" }

// Enabled reports whether the intake should run.
func (in Intake) Enabled() bool { return in.Listen != "" }

// SSH is the [ssh] section: the SSH server for the TUI. It runs only when
// Listen is set.
type SSH struct {
	Listen         string `toml:"listen" json:"listen"`
	HostKey        string `toml:"host_key" json:"host_key"`               // created 0600 if missing
	AuthorizedKeys string `toml:"authorized_keys" json:"authorized_keys"` // only these keys get in
	// MaxSession ends an SSH connection this long after it opened, however
	// busy ("0s": never).
	MaxSession Duration `toml:"max_session" json:"max_session"`
}

// Enabled reports whether the SSH server should run.
func (s SSH) Enabled() bool { return s.Listen != "" }

// Engine is the [engine] section.
type Engine struct {
	Workers              int    `toml:"workers" json:"workers"`
	MaxRequestsPerMinute int    `toml:"max_requests_per_minute" json:"max_requests_per_minute"`
	Reopen               string `toml:"reopen" json:"reopen"` // ReopenNew or ReopenReopen
	// CreateSearchWindow is how long after a create whose answer never came
	// (a timeout, a lost or broken answer) the engine keeps searching for
	// the ticket by externalXRef before it may create it again: ConnectWise
	// can commit a create minutes after the caller gave up.
	CreateSearchWindow Duration `toml:"create_search_window" json:"create_search_window"`
	// MaxRetryAfter caps how long one 429 holds every call back.
	MaxRetryAfter Duration `toml:"max_retry_after" json:"max_retry_after"`
}

// Actions is the [actions] section: the command technicians' action notes
// run. The command gets a clean environment (see engine.ActionEnv): PATH,
// HOME, LANG and the variables PassEnv names, never cwbridge's secrets.
type Actions struct {
	Command string `toml:"command" json:"command"` // run per action, JSON on stdin; "" = none
	// Timeout bounds one run ("60s"); past it the whole process group is
	// killed.
	Timeout Duration `toml:"timeout" json:"timeout"`
	// AllowedMembers, when not empty, lists the ConnectWise members
	// (identifiers, case-insensitive) whose notes may run an action.
	AllowedMembers []string `toml:"allowed_members" json:"allowed_members"`
	// PassEnv names variables of cwbridge's own environment the command
	// also gets (e.g. a credential of the security platform).
	PassEnv []string `toml:"pass_env" json:"pass_env"`
}

// Retention is the [retention] section: how long finished state is kept.
type Retention struct {
	// ClosedIncidents: closed and dropped incidents, and closed incident
	// keys, are pruned this long after they closed (or were dropped).
	ClosedIncidents Duration `toml:"closed_incidents" json:"closed_incidents"`
	// Notes: processed ConnectWise note ids are kept while their ticket is
	// watched for actions, and this long after.
	Notes Duration `toml:"notes" json:"notes"`
}

// Billing is the [billing] section: agreement additions kept in step with
// usage.
type Billing struct {
	// Interval between usage syncs; a sync also runs shortly after usage
	// arrives and on demand.
	Interval Duration `toml:"interval" json:"interval"`
}

// Route is one [[routes]] entry: where tickets of an alert type go.
type Route struct {
	AlertType    string `toml:"alert_type" json:"alert_type"`
	Enabled      bool   `toml:"enabled" json:"enabled"` // true when the file omits it
	Board        string `toml:"board" json:"board"`     // name or id; required when enabled
	Status       string `toml:"status" json:"status"`
	Priority     string `toml:"priority" json:"priority"`
	Type         string `toml:"type" json:"type"`
	ClosedStatus string `toml:"closed_status" json:"closed_status"`
	// LinkContact and LinkConfiguration (true when the file omits them)
	// link the incident's user as the ticket's contact and its device as
	// the ticket's configuration, when ConnectWise has them.
	LinkContact       bool `toml:"link_contact" json:"link_contact"`
	LinkConfiguration bool `toml:"link_configuration" json:"link_configuration"`
}

// Product is one [[products]] entry: a billable product and its CW catalog item.
type Product struct {
	Key          string `toml:"key" json:"key"`
	CWIdentifier string `toml:"cw_identifier" json:"cw_identifier"`
	Description  string `toml:"description" json:"description"`
	// SeatBased: bill each workspace's max_users instead of /v1/usage.
	SeatBased bool `toml:"seat_based" json:"seat_based"`
}

// Workspace is one [[workspaces]] entry: a tenant bound to a CW company.
type Workspace struct {
	Key             string `toml:"key" json:"key"`
	CWCompany       string `toml:"cw_company" json:"cw_company"`
	AgreementID     int    `toml:"agreement_id" json:"agreement_id"` // 0: none yet
	PreferredServer string `toml:"preferred_server" json:"preferred_server"`
	MaxUsers        int    `toml:"max_users" json:"max_users"`
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	return &Config{
		ConnectWise: ConnectWise{APIVersion: DefaultAPIVersion},
		Intake:      Intake{MaxBodyBytes: DefaultMaxBodyBytes},
		SSH:         SSH{HostKey: DefaultSSHHostKey, AuthorizedKeys: DefaultSSHAuthorizedKeys, MaxSession: Duration{DefaultSSHMaxSession}},
		Engine: Engine{
			Workers:              DefaultWorkers,
			MaxRequestsPerMinute: DefaultMaxRequestsPerMinute,
			Reopen:               DefaultReopen,
			CreateSearchWindow:   Duration{DefaultCreateSearchWindow},
			MaxRetryAfter:        Duration{DefaultMaxRetryAfter},
		},
		Actions:   Actions{Timeout: Duration{DefaultActionTimeout}},
		Retention: Retention{ClosedIncidents: Duration{DefaultRetention}, Notes: Duration{DefaultRetention}},
		Billing:   Billing{Interval: Duration{DefaultBillingInterval}},
		set:       map[string]struct{}{},
	}
}

// Load reads the file at path, applies the environment overrides
// (CWBRIDGE_PRIVATE_KEY, CWBRIDGE_INTAKE_TOKEN) and validates the result.
// An empty path means no file: defaults plus environment. A missing file is
// an error (errors.Is(err, fs.ErrNotExist) holds); the caller decides
// whether DefaultPath is optional.
//
// The error is a *Error for the first problem in file order.
func Load(path string) (*Config, error) {
	return load(path, os.LookupEnv)
}

// Parse parses data as a config file named name (used in errors and kept in
// Config.File) and validates it. It does not consult the environment; Load
// does. The error is a *Error for the first problem in file order.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, nil)
}

type lookupEnv func(string) (string, bool)

func load(path string, env lookupEnv) (*Config, error) {
	if path == "" {
		return parse("", nil, env)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read config: " + pathErrText(err), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read config: " + pathErrText(err), Err: err}
	}
	if len(data) > maxFileBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("config file is larger than %d MiB", maxFileBytes>>20)}
	}
	c, err := parse(path, data, env)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil {
		c.warnReadable(fi.Mode().Perm(), env)
	}
	return c, nil
}

// warnReadable warns when the file holds a secret and its mode lets the
// group or others read it.
func (c *Config) warnReadable(perm os.FileMode, env lookupEnv) {
	if perm&0o044 == 0 {
		return
	}
	var held []string
	for k, v := range map[string]string{"connectwise.private_key": EnvPrivateKey, "intake.token": EnvIntakeToken} {
		if e, ok := env(v); ok && e != "" {
			continue // the environment's value is the one used
		}
		if _, ok := c.set[k]; ok {
			held = append(held, k)
		}
	}
	slices.Sort(held)
	if len(held) > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s holds %s but is readable by %s (mode %04o): chmod 600 %s, or give the secrets in %s / %s instead",
			c.File, strings.Join(held, " and "), map[bool]string{true: "other users", false: "its group"}[perm&0o004 != 0], perm, c.File, EnvPrivateKey, EnvIntakeToken))
	}
}

// pathErrText drops the path from a *fs.PathError (the Error names it).
func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func parse(name string, data []byte, env lookupEnv) (*Config, error) {
	cfg := Default()
	cfg.File = name
	text := string(data)

	// 1. Syntax, into a generic tree.
	var tree map[string]any
	if err := safeDecode(text, &tree, nil); err != nil {
		return nil, syntaxError(name, text, err)
	}

	// 2. Every key known, of the right type, at the right place.
	pos := scanPositions(text)
	ck := &checker{file: name, pos: pos, set: cfg.set}
	ck.table(tree, configType, kpath{})
	if err := ck.first(); err != nil {
		return nil, err
	}

	// 3. Into the struct, over the defaults.
	var md toml.MetaData
	if err := safeDecode(text, cfg, &md); err != nil {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	if und := md.Undecoded(); len(und) > 0 { // the checker should have caught these
		path, line := pos.findPlain(und[0].String())
		return nil, &Error{File: name, Line: line, Key: path, Msg: "unknown key"}
	}
	for i := range cfg.Routes {
		if !cfg.IsSet("routes", strconv.Itoa(i), "enabled") {
			cfg.Routes[i].Enabled = true
		}
		if !cfg.IsSet("routes", strconv.Itoa(i), "link_contact") {
			cfg.Routes[i].LinkContact = true
		}
		if !cfg.IsSet("routes", strconv.Itoa(i), "link_configuration") {
			cfg.Routes[i].LinkConfiguration = true
		}
	}

	// 4. Environment overrides.
	fromEnv := map[string]string{}
	if env != nil {
		if v, ok := env(EnvPrivateKey); ok && v != "" {
			cfg.ConnectWise.PrivateKey = secret.New(v)
			cfg.set["connectwise.private_key"] = struct{}{}
			fromEnv["connectwise.private_key"] = EnvPrivateKey
		}
		if v, ok := env(EnvIntakeToken); ok && v != "" {
			cfg.Intake.Token = secret.New(v)
			cfg.set["intake.token"] = struct{}{}
			fromEnv["intake.token"] = EnvIntakeToken
		}
	}

	// 5. Values.
	v := &validator{file: name, pos: pos, fromEnv: fromEnv}
	v.config(cfg)
	if err := v.first(); err != nil {
		return nil, maskSecrets(err, cfg)
	}
	if in := cfg.Intake; in.Listen != "" && !in.TLS() && !isLoopbackListen(in.Listen) {
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("intake.listen %q is not a loopback address and the intake has no TLS: the token and incidents cross the network in clear (allow_plain_http = true)", in.Listen))
	}
	return cfg, nil
}

// safeDecode runs the TOML decoder, turning a panic in it into an error: a
// config file must never crash the program.
func safeDecode(text string, v any, md *toml.MetaData) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("toml: cannot parse this file (decoder failure)")
		}
	}()
	m, err := toml.Decode(text, v)
	if md != nil {
		*md = m
	}
	return err
}

// secretKeys are the keys whose values never appear in an error.
var secretKeys = []string{"private_key", "token"}

func syntaxError(name, text string, err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	e := &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	// An error at a newline ("expected ']' but got '\n'") belongs to the
	// line the newline ends; the parser sometimes counts it to the next.
	if st := pe.Position.Start; st >= 0 && st < len(text) && text[st] == '\n' {
		e.Line = strings.Count(text[:st], "\n") + 1
	}
	// The parser quotes the text it choked on; on a line that holds a
	// secret that text may be the secret.
	last := strings.ToLower(pe.LastKey)
	line := ""
	if lines := strings.Split(text, "\n"); pe.Position.Line >= 1 && pe.Position.Line <= len(lines) {
		line = strings.ToLower(lines[pe.Position.Line-1])
	}
	for _, k := range secretKeys {
		if last == k || strings.HasSuffix(last, "."+k) || strings.Contains(line, k) {
			e.Msg = "invalid TOML on a line that holds a secret (details not shown); check the quoting of the value"
			break
		}
	}
	return e
}

// IsSet reports whether the file (or the environment) set key, given as
// path parts: IsSet("connectwise", "site"), IsSet("intake") (the section
// appears), IsSet("routes") (any route), IsSet("routes", "0", "board")
// (Routes[0] sets board). A single dotted path with [i] indexes works too:
// IsSet("routes[0].board").
func (c *Config) IsSet(key ...string) bool {
	if c == nil || len(key) == 0 {
		return false
	}
	var p kpath
	for i, k := range key {
		if n, err := strconv.Atoi(k); i > 0 && err == nil && n >= 0 && strconv.Itoa(n) == k {
			p = p.index(n)
		} else {
			p = p.key(k)
		}
	}
	if _, ok := c.set[p.idx]; ok {
		return true
	}
	if len(key) == 1 {
		_, ok := c.set[key[0]]
		return ok
	}
	return false
}

// SetKeys lists the keys the file or environment set, as indexed dotted
// paths ("connectwise.site", "routes[0].board"), sorted.
func (c *Config) SetKeys() []string {
	if c == nil {
		return nil
	}
	keys := make([]string, 0, len(c.set))
	for k := range c.set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// AlertTypes lists the built-in alert types followed by any new ones the
// routes define.
func (c *Config) AlertTypes() []string {
	types := slices.Clone(BuiltinAlertTypes)
	for _, r := range c.Routes {
		if !slices.Contains(types, r.AlertType) {
			types = append(types, r.AlertType)
		}
	}
	return types
}

// RouteFor returns the route for an alert type.
func (c *Config) RouteFor(alertType string) (Route, bool) {
	for _, r := range c.Routes {
		if r.AlertType == alertType {
			return r, true
		}
	}
	return Route{}, false
}

// ProductFor returns the product with the given key.
func (c *Config) ProductFor(key string) (Product, bool) {
	for _, p := range c.Products {
		if p.Key == key {
			return p, true
		}
	}
	return Product{}, false
}

// WorkspaceFor returns the workspace with the given key.
func (c *Config) WorkspaceFor(key string) (Workspace, bool) {
	for _, w := range c.Workspaces {
		if w.Key == key {
			return w, true
		}
	}
	return Workspace{}, false
}
