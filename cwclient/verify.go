package cwclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CheckStatus is the verdict of one verification step.
type CheckStatus int

const (
	CheckPending CheckStatus = iota
	CheckPass
	CheckFail
	CheckSkipped // an earlier step failed, so this one could not be tried
)

func (s CheckStatus) String() string {
	return [...]string{"pending", "pass", "fail", "skipped"}[s]
}

// Check is one line of the verification checklist.
type Check struct {
	ID     string
	Name   string
	Status CheckStatus
	Detail string // what was found
	Fix    string // what to do, when it failed
	Err    error
}

// Role functions the product needs, as ConnectWise names them in
// System > Security Roles (module > function).
type roleFunction struct{ module, function string }

var (
	fnCompanies = roleFunction{"Companies", "Company Maintenance"}
	fnTables    = roleFunction{"System", "Table Setup"}
	fnAgreement = roleFunction{"Finance", "Agreements"}
	fnCatalog   = roleFunction{"Procurement", "Product Catalog"}
	fnTickets   = roleFunction{"Service Desk", "Service Tickets"}
)

// permission is one product need: a read that must work, and role levels
// (from system/mySecurity) for the writes we must not try here.
type permission struct {
	id, name string
	fn       roleFunction
	path     func(*verifier) (string, string) // endpoint to read; "" + reason = skip
	need     []string                         // "add", "edit" levels required to be All
}

var permissions = []permission{
	{"companies", "Read companies", fnCompanies, fixed("company/companies"), nil},
	{"boards", "Read service boards", fnTables, fixed("service/boards"), nil},
	{"statuses", "Read board statuses", fnTables, onBoard("statuses"), nil},
	{"types", "Read board types", fnTables, onBoard("types"), nil},
	{"priorities", "Read priorities", fnTables, fixed("service/priorities"), nil},
	{"agreement_types", "Read agreement types", fnTables, fixed("finance/agreements/types"), nil},
	{"agreements", "Read agreements", fnAgreement, fixed("finance/agreements"), nil},
	{"additions", "Manage agreement additions", fnAgreement, onAgreement, []string{"add", "edit"}},
	{"catalog", "Manage catalog items", fnCatalog, fixed("procurement/catalog"), []string{"add"}},
	{"tickets", "Create and update tickets", fnTickets, fixed("service/tickets"), []string{"add", "edit"}},
}

func fixed(p string) func(*verifier) (string, string) {
	return func(*verifier) (string, string) { return p, "" }
}

func onBoard(sub string) func(*verifier) (string, string) {
	return func(v *verifier) (string, string) {
		if v.boardID == 0 {
			return "", "no active service board to read " + sub + " from"
		}
		return boardPath(v.boardID, sub), ""
	}
}

func onAgreement(v *verifier) (string, string) {
	if v.agreementID == 0 {
		return "", ""
	}
	return additionsPath(v.agreementID), ""
}

// VerifyChecks lists the checklist in order, all pending, so a screen can
// show every line before the first answer arrives.
func VerifyChecks() []Check {
	out := []Check{
		{ID: "site", Name: "Site reachable, codebase found"},
		{ID: "credentials", Name: "Credentials accepted"},
		{ID: "security", Name: "Security role readable"},
	}
	for _, p := range permissions {
		out = append(out, Check{ID: p.id, Name: p.name})
	}
	return out
}

type verifier struct {
	c           *Client
	roles       []MySecurity
	boardID     int
	agreementID int
}

// Verify runs the checklist in order: the site, the credentials, then
// each permission the product needs. It creates nothing in ConnectWise:
// write permissions are read from the API member's security role.
// progress, when non-nil, receives each check as it completes.
func (c *Client) Verify(ctx context.Context, progress func(Check)) []Check {
	checks := VerifyChecks()
	done := func(i int, ch Check) {
		checks[i] = ch
		if progress != nil {
			progress(ch)
		}
	}
	skipRest := func(from int, why string) []Check {
		for i := from; i < len(checks); i++ {
			ch := checks[i]
			ch.Status, ch.Detail = CheckSkipped, why
			done(i, ch)
		}
		return checks
	}
	v := &verifier{c: c}

	ch := checks[0]
	if _, _, err := c.rediscover(ctx, c.gen()); err != nil {
		ch.Status, ch.Err, ch.Detail, ch.Fix = CheckFail, err, describe(err), siteFix(err, c)
		done(0, ch)
		return skipRest(1, "site not reachable")
	}
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	ch.Status = CheckPass
	if u, err := url.Parse(base); err == nil {
		ch.Detail = "codebase " + strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "apis/3.0/") + " on " + u.Host
	}
	done(0, ch)

	ch = checks[1]
	info, err := c.SystemInfo(ctx)
	if err != nil {
		ch.Status, ch.Err, ch.Detail, ch.Fix = CheckFail, err, describe(err), credentialsFix(err)
		done(1, ch)
		return skipRest(2, "credentials not accepted")
	}
	ch.Status, ch.Detail = CheckPass, "ConnectWise "+strings.TrimPrefix(info.Version, "v")
	done(1, ch)

	ch = checks[2]
	if v.roles, err = c.MySecurity(ctx); err != nil {
		ch.Status, ch.Err, ch.Detail = CheckFail, err, describe(err)
		ch.Fix = "the API member cannot read its own security role (system/mySecurity); write permissions below cannot be confirmed"
	} else {
		ch.Status, ch.Detail = CheckPass, fmt.Sprintf("%d role functions", len(v.roles))
	}
	done(2, ch)

	for i, p := range permissions {
		done(3+i, v.check(ctx, p, checks[3+i], err == nil))
	}
	return checks
}

func (v *verifier) check(ctx context.Context, p permission, ch Check, haveRoles bool) Check {
	path, skip := p.path(v)
	if skip != "" {
		ch.Status, ch.Detail = CheckSkipped, skip
		return ch
	}
	var found []string
	if path != "" {
		var first struct {
			ID int `json:"id"`
		}
		n := 0
		for rec, err := range List[struct {
			ID int `json:"id"`
		}](ctx, v.c, path, Query{Fields: []string{"id"}, PageSize: 1}) {
			if err != nil {
				ch.Status, ch.Err, ch.Detail = CheckFail, err, describe(err)
				ch.Fix = roleFix(p.fn, "Inquire", err)
				return ch
			}
			first = rec
			n++
			break
		}
		switch p.id {
		case "boards":
			// Only service boards carry tickets; look for the first one.
			if bs, err := v.c.ServiceBoards(ctx); err == nil && len(bs) > 0 {
				v.boardID = bs[0].ID
			}
		case "agreements":
			v.agreementID = first.ID
		}
		if n == 0 {
			found = append(found, "readable (none yet)")
		} else {
			found = append(found, "readable")
		}
	}
	if len(p.need) > 0 {
		if !haveRoles {
			ch.Status, ch.Detail = CheckFail, "cannot confirm "+strings.Join(p.need, "/")+" rights: security role unreadable"
			ch.Fix = roleFix(p.fn, levelsWord(p.need), nil)
			return ch
		}
		if missing := missingLevels(v.roles, p.fn, p.need); len(missing) > 0 {
			ch.Status = CheckFail
			ch.Detail = "security role lacks " + strings.Join(missing, ", ")
			ch.Fix = roleFix(p.fn, levelsWord(p.need), nil)
			return ch
		}
		found = append(found, strings.Join(p.need, "/")+" allowed")
	}
	ch.Status, ch.Detail = CheckPass, strings.Join(found, "; ")
	return ch
}

func levelsWord(need []string) string {
	w := make([]string, len(need))
	for i, n := range need {
		w[i] = strings.ToUpper(n[:1]) + n[1:]
	}
	return strings.Join(w, " and ")
}

// missingLevels returns "Add Level" etc. for needs not set to All.
func missingLevels(roles []MySecurity, fn roleFunction, need []string) []string {
	var row *MySecurity
	for i := range roles {
		if strings.EqualFold(roles[i].ModuleFunctionName, fn.function) {
			row = &roles[i]
			break
		}
	}
	var missing []string
	for _, n := range need {
		lvl := ""
		if row != nil {
			switch n {
			case "add":
				lvl = row.AddLevel
			case "edit":
				lvl = row.EditLevel
			case "inquire":
				lvl = row.InquireLevel
			}
		}
		if !strings.EqualFold(lvl, LevelAll) {
			if lvl == "" {
				lvl = LevelNone
			}
			missing = append(missing, fmt.Sprintf("%s > %s %s level (is %s)", fn.module, fn.function, n, lvl))
		}
	}
	return missing
}

func roleFix(fn roleFunction, what string, err error) string {
	if err != nil && !errors.Is(err, ErrForbidden) {
		if h := describeFix(err); h != "" {
			return h
		}
	}
	return fmt.Sprintf("in ConnectWise open System > Security Roles, the API member's role, %s > %s: set %s Level to All",
		fn.module, fn.function, what)
}

func siteFix(err error, c *Client) string {
	switch KindOf(err) {
	case KindNetwork:
		return "cannot reach " + c.site.Host + ": check the site name and that this machine can reach it"
	case KindWrongHost:
		return "this host is not ConnectWise: use your login host (na.myconnectwise.net, eu.…, au.…) or your on-premise server"
	case KindNotFound:
		return fmt.Sprintf("company ID %q is unknown on %s: use the company you type on the ConnectWise login page", c.cfg.CompanyID, c.site.Host)
	}
	return describeFix(err)
}

func credentialsFix(err error) string {
	switch KindOf(err) {
	case KindUnauthorized:
		var e *Error
		errors.As(err, &e)
		return e.Hint
	case KindWrongHost:
		var e *Error
		errors.As(err, &e)
		if e.Hint != "" {
			return e.Hint
		}
	}
	return describeFix(err)
}

func describeFix(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Hint != "" {
		return e.Hint
	}
	switch KindOf(err) {
	case KindRateLimited:
		return "ConnectWise is throttling this API member; try again in a minute"
	case KindServer:
		return "ConnectWise answered with a server error; try again later"
	case KindNetwork:
		return "check the network connection to ConnectWise"
	}
	return ""
}

// describe is the short "what happened" for a failed check, without the
// method/path noise.
func describe(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	msg := e.Kind.String()
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// AllPassed reports whether every check passed (skips count as failures:
// something upstream broke).
func AllPassed(checks []Check) bool {
	for _, c := range checks {
		if c.Status != CheckPass {
			return false
		}
	}
	return true
}
