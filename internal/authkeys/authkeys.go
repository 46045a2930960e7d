// Package authkeys reads an OpenSSH authorized_keys file the way sshd does
// (sshd(8) "AUTHORIZED_KEYS FILE FORMAT") and decides whether a key may log
// in to cwbridge's TUI. It is the only reader of the file: the start-up
// check, every login and the roles all use Parse.
//
// Lines: blank lines and lines whose first non-blank character is '#' are
// skipped; otherwise [options] keytype base64 [comment]. A line that cannot
// be parsed is reported (file and line) and skipped; it never keeps the
// other keys out.
//
// Options, names case-insensitive:
//   - from="pattern-list": the client's IP must match (wildcards * and ?,
//     CIDR, !negation; a negated match refuses). Host names are not looked
//     up (sshd's UseDNS no).
//   - expiry-time="YYYYMMDD[HHMM[SS]][Z]": refused after it (local time
//     unless Z).
//   - no-pty, command="...": refused at login: the TUI needs a PTY and runs
//     no command.
//   - restrict and the forwarding/agent/X11/user-rc/environment options:
//     accepted; cwbridge allows none of what they govern anyway.
//   - cert-authority, principals, and unknown options: the line is skipped
//     as an error (sshd refuses unknown options too).
package authkeys

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Key is one usable line.
type Key struct {
	Line      int
	PublicKey gossh.PublicKey
	Comment   string
	Options   []string // as written, e.g. `from="10.0.0.0/8"`

	From       []string  // from= patterns; nil: any address
	Expiry     time.Time // zero: never
	NoPTY      bool      // no-pty
	Command    string    // command=
	HasCommand bool
	Restrict   bool
}

// ViewerWord in a key's comment makes its holder read-only (the contract:
// "a key whose comment has the word role=viewer is read-only").
const ViewerWord = "role=viewer"

// Viewer reports whether the key is read-only.
func (k Key) Viewer() bool {
	return slices.Contains(strings.Fields(k.Comment), ViewerWord)
}

// Name is who the key's holder is, for the audit log and the serve log:
// the comment without role words, or the key's fingerprint when the
// comment says nothing else.
func (k Key) Name() string {
	var words []string
	for _, w := range strings.Fields(k.Comment) {
		if !strings.HasPrefix(w, "role=") {
			words = append(words, w)
		}
	}
	if len(words) == 0 && k.PublicKey != nil {
		return gossh.FingerprintSHA256(k.PublicKey)
	}
	return strings.Join(words, " ")
}

// LineError is a line that was skipped.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// File is a parsed authorized_keys file.
type File struct {
	Path   string
	Keys   []Key
	Errors []*LineError
}

// maxLine bounds one line (sshd's limit is 16 KiB too).
const maxLine = 16 << 10

// Parse reads data as the authorized_keys file name. It never fails as a
// whole: bad lines land in Errors.
func Parse(name string, data []byte, loc *time.Location) File {
	f := File{Path: name}
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		if len(line) > maxLine {
			f.Errors = append(f.Errors, &LineError{name, n, fmt.Errorf("line longer than %d KiB", maxLine>>10)})
			continue
		}
		k, err := parseLine(trimmed, loc)
		if err != nil {
			f.Errors = append(f.Errors, &LineError{name, n, err})
			continue
		}
		k.Line = n
		f.Keys = append(f.Keys, k)
	}
	return f
}

func parseLine(line []byte, loc *time.Location) (Key, error) {
	pub, comment, opts, rest, err := gossh.ParseAuthorizedKey(line)
	if err != nil {
		return Key{}, errors.New("not an SSH public key line ([options] type base64 [comment])")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return Key{}, errors.New("more than one key on the line")
	}
	if _, ok := pub.(*gossh.Certificate); ok {
		return Key{}, errors.New("a certificate, not a public key")
	}
	k := Key{PublicKey: pub, Comment: comment, Options: opts}
	seen := map[string]bool{}
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		name = strings.ToLower(name)
		if hasVal {
			if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
				return Key{}, fmt.Errorf("option %s: the value must be in double quotes", name)
			}
			val = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
		}
		needVal := map[string]bool{"from": true, "expiry-time": true, "command": true, "environment": true,
			"permitopen": true, "permitlisten": true, "tunnel": true}
		switch {
		case needVal[name] && !hasVal:
			return Key{}, fmt.Errorf("option %s needs a value (%s=\"...\")", name, name)
		case !needVal[name] && hasVal && name != "principals":
			return Key{}, fmt.Errorf("option %s takes no value", name)
		}
		switch name {
		case "from":
			if seen[name] {
				return Key{}, errors.New("from= given twice")
			}
			pats, err := parsePatterns(val)
			if err != nil {
				return Key{}, fmt.Errorf("from=: %v", err)
			}
			k.From = pats
		case "expiry-time":
			if seen[name] {
				return Key{}, errors.New("expiry-time= given twice")
			}
			t, err := parseExpiry(val, loc)
			if err != nil {
				return Key{}, fmt.Errorf("expiry-time=%q: %v", val, err)
			}
			k.Expiry = t
		case "command":
			k.Command, k.HasCommand = val, true
		case "no-pty":
			k.NoPTY = true
		case "restrict":
			k.Restrict = true
		case "pty", "environment", "permitopen", "permitlisten", "tunnel",
			"no-port-forwarding", "port-forwarding", "no-agent-forwarding", "agent-forwarding",
			"no-x11-forwarding", "x11-forwarding", "no-user-rc", "user-rc",
			"no-touch-required", "verify-required":
			// Nothing to enforce: cwbridge offers no forwarding, agent, X11,
			// rc file or environment, and a PTY is what it needs.
		case "cert-authority", "principals":
			return Key{}, fmt.Errorf("option %s: certificates are not supported; line skipped", name)
		default:
			return Key{}, fmt.Errorf("unknown option %q", name)
		}
		seen[name] = true
	}
	return k, nil
}

// parsePatterns splits a from= list and checks each pattern: an address,
// a CIDR block, or a wildcard pattern, any of them after '!'.
func parsePatterns(list string) ([]string, error) {
	var pats []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		body := strings.TrimPrefix(p, "!")
		if body == "" {
			return nil, errors.New("empty pattern")
		}
		if strings.Contains(body, "/") {
			if _, err := netip.ParsePrefix(body); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR block", body)
			}
		} else if _, err := path.Match(strings.ToLower(body), "x"); err != nil {
			return nil, fmt.Errorf("%q is not a pattern", body)
		}
		pats = append(pats, p)
	}
	return pats, nil
}

// parseExpiry reads YYYYMMDD[HHMM[SS]][Z].
func parseExpiry(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		s, loc = s[:len(s)-1], time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(s)]
	if !ok {
		return time.Time{}, errors.New("want YYYYMMDD[HHMM[SS]][Z]")
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, errors.New("want YYYYMMDD[HHMM[SS]][Z]")
	}
	return t, nil
}

// FromAllows applies the from= patterns to the client's address: a
// negated match refuses, else any match allows, else refuses.
func (k Key) FromAllows(remote net.Addr) bool {
	if k.From == nil {
		return true
	}
	ip, ok := addrIP(remote)
	if !ok {
		return false
	}
	allowed := false
	for _, p := range k.From {
		neg := strings.HasPrefix(p, "!")
		if matchPattern(strings.TrimPrefix(p, "!"), ip) {
			if neg {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap(), true
	}
	ip, err := netip.ParseAddr(a.String())
	return ip.Unmap(), err == nil
}

func matchPattern(p string, ip netip.Addr) bool {
	if strings.Contains(p, "/") {
		pfx, err := netip.ParsePrefix(p)
		return err == nil && pfx.Contains(ip)
	}
	ok, _ := path.Match(strings.ToLower(p), strings.ToLower(ip.String()))
	return ok
}

// Refusal says why k may not log in from remote at now, or "" when it may.
func (k Key) Refusal(remote net.Addr, now time.Time) string {
	switch {
	case !k.Expiry.IsZero() && now.After(k.Expiry):
		return "the key expired at " + k.Expiry.Format(time.RFC3339) + " (expiry-time)"
	case !k.FromAllows(remote):
		return "the client address is not in the key's from= list"
	case k.NoPTY:
		return "the key has no-pty, and the cwbridge TUI needs a PTY"
	case k.HasCommand:
		return "the key has command=, and cwbridge runs no command (it only serves the TUI)"
	}
	return ""
}

// Authorize looks pub up the way sshd does: every line holding the key is
// tried in order, and the first whose options let it in wins. When none
// does, the reasons say why each matching line refused (none: the key is
// not listed).
func (f File) Authorize(pub gossh.PublicKey, remote net.Addr, now time.Time) (Key, []string, bool) {
	want := pub.Marshal()
	var reasons []string
	for _, k := range f.Keys {
		if !bytes.Equal(k.PublicKey.Marshal(), want) {
			continue
		}
		r := k.Refusal(remote, now)
		if r == "" {
			return k, nil, true
		}
		reasons = append(reasons, fmt.Sprintf("%s:%d: %s", f.Path, k.Line, r))
	}
	return Key{}, reasons, false
}
