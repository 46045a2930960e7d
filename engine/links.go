package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
)

// Linking a ticket to the incident's contact and configuration.
//
// A company's contacts and configurations are read whole (one paged list
// each, only the fields matched on) and kept in memory: they change
// slowly. A directory is read in the background by one loader, through the
// engine's one client (same rate ceiling), never on a create's path. When
// the company's directory is at hand, the create carries the contact and
// the outcome is stored with the ticket; otherwise, and when a
// configuration is to be attached, a link item finishes the work after the
// create. A miss reloads the directory at most once per LinkRefresh. No
// lookup failure fails an incident: it becomes the outcome the Feed
// detail shows.

// DefaultLinkRefresh is how old a directory must be before a miss reloads it.
const DefaultLinkRefresh = 5 * time.Minute

// DefaultLinkDirectoryMax is how many contacts of one company are kept in
// memory; past it the company is searched per user (email through
// childConditions, name through conditions) when the kept ones miss.
const DefaultLinkDirectoryMax = 5000

// maxLinkWaits bounds how often a link item waits for a directory load.
const maxLinkWaits = 12

type dirKind int

const (
	dirContacts dirKind = iota
	dirConfigs
)

func (k dirKind) String() string {
	if k == dirContacts {
		return "contact"
	}
	return "configuration"
}

// dirPart is one company's contacts or configurations.
type dirPart struct {
	loadedAt time.Time // last successful load; zero: never
	triedAt  time.Time // last load begun
	loading  bool
	err      error // of the last load, nil after a success
	partial  bool  // more contacts than LinkDirectoryMax: only some kept
	contacts []cwclient.Contact
	configs  []cwclient.Configuration
}

type loadReq struct {
	company string
	kind    dirKind
}

// linker holds the directories, by CW company identifier (lower case).
type linker struct {
	e     *Engine
	mu    sync.Mutex
	dirs  map[string]*[2]dirPart
	gen   uint64 // bumped by reset: a load begun before it is dropped
	loads chan loadReq
}

// reset forgets every directory (the connection changed).
func (l *linker) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirs = map[string]*[2]dirPart{}
	l.gen++
}

func newLinker(e *Engine) *linker {
	return &linker{e: e, dirs: map[string]*[2]dirPart{}, loads: make(chan loadReq, 256)}
}

func (l *linker) refresh() time.Duration {
	if d := l.e.o.LinkRefresh; d > 0 {
		return d
	}
	return DefaultLinkRefresh
}

// run serves directory loads, one at a time, until ctx ends.
func (l *linker) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-l.loads:
			l.load(ctx, r)
		}
	}
}

// requestLocked asks the loader for a directory unless it is being
// loaded or was tried less than LinkRefresh ago. Caller holds mu.
func (l *linker) requestLocked(company string, kind dirKind) {
	p := l.partLocked(company, kind)
	now := l.e.o.Now()
	if p.loading || (!p.triedAt.IsZero() && now.Sub(p.triedAt) < l.refresh()) {
		return
	}
	select {
	case l.loads <- loadReq{company: company, kind: kind}:
		p.loading, p.triedAt = true, now
	default: // the loader is busy; a later ask (the link item's) tries again
	}
}

func (l *linker) partLocked(company string, kind dirKind) *dirPart {
	key := strings.ToLower(company)
	d := l.dirs[key]
	if d == nil {
		d = &[2]dirPart{}
		l.dirs[key] = d
	}
	return &d[kind]
}

func (l *linker) load(ctx context.Context, r loadReq) {
	l.mu.Lock()
	gen := l.gen
	l.mu.Unlock()
	var contacts []cwclient.Contact
	var configs []cwclient.Configuration
	partial := false
	c, err := l.e.cw()
	if err == nil {
		if r.kind == dirContacts {
			contacts, partial, err = l.loadContacts(ctx, c, r.company)
		} else {
			configs, err = cwclient.Collect(c.CompanyConfigurations(ctx, r.company))
		}
		if ctx.Err() == nil {
			l.e.noteLookupResult(err, r.company)
		}
	}
	l.mu.Lock()
	if gen != l.gen {
		l.mu.Unlock()
		return // read through the old connection
	}
	p := l.partLocked(r.company, r.kind)
	p.loading, p.err = false, err
	if ctx.Err() != nil && err != nil {
		p.err, p.triedAt = nil, time.Time{} // stopped, not failed: ask again
	}
	if err == nil {
		p.loadedAt, p.contacts, p.configs, p.partial = l.e.o.Now(), contacts, configs, partial
	}
	l.mu.Unlock()
	l.e.poke() // a link item waiting for this may go now
}

// loadContacts reads a company's contacts, keeping at most
// LinkDirectoryMax (partial: there were more).
func (l *linker) loadContacts(ctx context.Context, c *cwclient.Client, company string) ([]cwclient.Contact, bool, error) {
	limit := l.e.o.LinkDirectoryMax
	if limit <= 0 {
		limit = DefaultLinkDirectoryMax
	}
	var out []cwclient.Contact
	for ct, err := range c.CompanyContacts(ctx, company) {
		if err != nil {
			return nil, false, err
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, ct)
	}
	return out, false, nil
}

// noteLookupResult reports a lookup's result like any call, except that a
// refusal of this endpoint alone (no permission for contacts, an endpoint
// an old server lacks) stays the lookup's problem: it must not pause
// ticket forwarding.
func (e *Engine) noteLookupResult(err error, company string) {
	switch cwclient.KindOf(err) {
	case cwclient.KindForbidden, cwclient.KindNotFound:
		e.log.Warn("a lookup for ticket links was refused", "company", company, "err", err)
		return
	}
	e.noteCWResult(err, company)
}

// linkDecision is what a directory says about one name.
type linkDecision struct {
	ready   bool   // false: wait for a (re)load, or search (search)
	search  bool   // the company is too big to keep: search for this user
	miss    bool   // nothing matched
	id      int    // the one match, 0 for none
	name    string // its display name
	outcome string // sentence for the Feed detail
}

// decide matches value in the company's directory of kind. A miss in a
// directory older than LinkRefresh asks for a reload and is not ready.
func (l *linker) decide(company string, kind dirKind, value string) linkDecision {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.partLocked(company, kind)
	now := l.e.o.Now()
	if p.loadedAt.IsZero() {
		if p.err != nil && !p.loading && now.Sub(p.triedAt) < l.refresh() {
			return linkDecision{ready: true, outcome: kind.String() + " lookup failed: " + p.err.Error()}
		}
		l.requestLocked(company, kind)
		return linkDecision{}
	}
	var d linkDecision
	if kind == dirContacts {
		d = matchContact(p.contacts, value)
	} else {
		d = matchConfiguration(p.configs, value)
	}
	if d.miss && p.partial {
		return linkDecision{search: true}
	}
	if d.miss && (p.loading || now.Sub(p.loadedAt) >= l.refresh()) {
		// A miss in an old directory: reload (at most once per refresh)
		// and decide on the new one.
		l.requestLocked(company, kind)
		if p.loading {
			return linkDecision{}
		}
	}
	return d
}

// matchContact: by email among the contacts' Email items, else by exact
// first and last name (case-insensitive); several matches link none.
func matchContact(cs []cwclient.Contact, user string) linkDecision {
	user = strings.Join(strings.Fields(user), " ")
	var hits []cwclient.Contact
	if strings.Contains(user, "@") {
		for _, c := range cs {
			for _, em := range c.Emails() {
				if strings.EqualFold(strings.TrimSpace(em), user) {
					hits = append(hits, c)
					break
				}
			}
		}
	} else if strings.Contains(user, " ") {
		for _, c := range cs {
			if strings.EqualFold(strings.Join(strings.Fields(c.FirstName+" "+c.LastName), " "), user) {
				hits = append(hits, c)
			}
		}
	}
	switch len(hits) {
	case 0:
		return linkDecision{ready: true, miss: true, outcome: "no contact matched"}
	case 1:
		return linkDecision{ready: true, id: hits[0].ID, name: hits[0].Name(), outcome: "contact linked: " + hits[0].Name()}
	}
	return linkDecision{ready: true, outcome: fmt.Sprintf("%d contacts match %s: none linked", len(hits), user)}
}

// matchConfiguration: by name or device identifier (case-insensitive);
// several matches attach none.
func matchConfiguration(cs []cwclient.Configuration, device string) linkDecision {
	device = strings.TrimSpace(device)
	var hits []cwclient.Configuration
	for _, c := range cs {
		if strings.EqualFold(c.Name, device) || (c.DeviceIdentifier != "" && strings.EqualFold(c.DeviceIdentifier, device)) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 0:
		return linkDecision{ready: true, miss: true, outcome: "no configuration matched"}
	case 1:
		return linkDecision{ready: true, id: hits[0].ID, name: hits[0].Name, outcome: "configuration attached: " + hits[0].Name}
	}
	return linkDecision{ready: true, outcome: fmt.Sprintf("%d configurations named %s: none attached", len(hits), device)}
}

// linkPlan is what a create does about links: the contact it carries, the
// outcomes known before the call, and whether a link item finishes it.
type linkPlan struct {
	links   storage.TicketLinks
	contact *cwclient.Ref
	later   bool
}

// plan decides from what is cached, without any call.
func (l *linker) plan(inc storage.Incident, tgt target) *linkPlan {
	wantContact := tgt.linkContact && strings.TrimSpace(inc.User) != ""
	wantConfig := tgt.linkConfiguration && strings.TrimSpace(inc.Device) != ""
	if !wantContact && !wantConfig {
		return nil
	}
	p := &linkPlan{}
	if wantContact {
		d := l.decide(tgt.company, dirContacts, inc.User)
		switch {
		case !d.ready:
			p.later = true
		case d.id != 0:
			p.contact = &cwclient.Ref{ID: d.id}
			p.links.ContactID, p.links.Contact = d.id, d.outcome
		default:
			p.links.Contact = d.outcome
		}
	}
	if wantConfig {
		d := l.decide(tgt.company, dirConfigs, inc.Device)
		if d.ready && d.id == 0 {
			p.links.Configuration = d.outcome
		} else {
			p.later = true // attached after the create, or decided once loaded
		}
	}
	p.links.Pending = p.later
	return p
}

// processLink finishes a new ticket's links (an OutboxLink item; Ref is
// the incident key). Nothing here fails the incident: what cannot be done
// is recorded as the outcome.
func (e *Engine) processLink(ctx context.Context, it storage.OutboxItem, a *ack) error {
	k, err := e.store.IncidentKey(it.Ref)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return permanent(err)
	}
	if k.TicketID == 0 || k.Links == nil || !k.Links.Pending {
		return nil
	}
	r, err := e.store.Route(k.AlertType)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return permanent(err)
	}
	links := *k.Links
	wait := false
	if links.Contact == "" && r.LinksContact() && k.LastUser != "" {
		d := e.links.decide(k.CWCompany, dirContacts, k.LastUser)
		if d.search {
			if d, err = e.searchContact(ctx, k.CWCompany, k.LastUser); err != nil {
				return err
			}
		}
		switch {
		case !d.ready:
			wait = true
		case d.id != 0:
			links.ContactID = d.id
			links.Contact = d.outcome
		default:
			links.Contact = d.outcome
		}
	}
	var cfg linkDecision
	if links.Configuration == "" && r.LinksConfiguration() && k.LastDevice != "" {
		cfg = e.links.decide(k.CWCompany, dirConfigs, k.LastDevice)
		if !cfg.ready {
			wait = true
		}
	}
	if wait && it.Attempts < maxLinkWaits {
		next := e.o.Now().Add(backoff(e.o.RetryBase, e.o.RetryMax, it.Attempts))
		if err := e.store.Reschedule(it.Seq, next, "waiting for the company's contacts and configurations"); err != nil {
			return err
		}
		return errRescheduled
	}
	c, err := e.cw()
	if err != nil {
		return errPaused
	}
	// The contact: set by PATCH when the create could not carry it. The
	// email switch goes with it, so setting it cannot email the end user.
	if links.ContactID != 0 && links.ContactID != k.Links.ContactID {
		_, err := c.PatchTicket(ctx, k.TicketID, cwclient.Replace("contact", cwclient.Ref{ID: links.ContactID}),
			cwclient.Replace("automaticEmailContactFlag", false))
		e.noteCWResult(err, k.Workspace)
		if err != nil {
			if cwclient.KindOf(err) != cwclient.KindValidation {
				return err
			}
			links.ContactID, links.Contact = 0, "contact not linked: "+err.Error()
		}
	}
	if links.Configuration == "" {
		switch {
		case cfg.ready && cfg.id != 0:
			links.ConfigurationID, links.Configuration = cfg.id, cfg.outcome
			if err := e.attachOnce(ctx, c, k.TicketID, cfg.id, it.Attempts > 0, k.Workspace); err != nil {
				if cwclient.KindOf(err) != cwclient.KindValidation {
					return err
				}
				links.ConfigurationID, links.Configuration = 0, "configuration not attached: "+err.Error()
			}
		case cfg.ready:
			links.Configuration = cfg.outcome
		case wait:
			links.Configuration = "configuration lookup not answered in time: none attached"
		}
	}
	if wait && links.Contact == "" && r.LinksContact() && k.LastUser != "" {
		links.Contact = "contact lookup not answered in time: none linked"
	}
	links.Pending = false
	return e.store.Update(func(t *storage.Tx) error {
		if err := t.UpdateIncidentKey(k.Key, func(cur *storage.IncidentKey, _ bool) error {
			if cur.TicketID == k.TicketID {
				cur.Links = &links
			}
			return nil
		}); err != nil {
			return err
		}
		return a.in(t)
	})
}

// searchContact looks one user up in a company too big to keep whole:
// by email through the contacts' communication items (childConditions),
// else by first and last name. A refused search is the outcome.
func (e *Engine) searchContact(ctx context.Context, company, user string) (linkDecision, error) {
	c, err := e.cw()
	if err != nil {
		return linkDecision{}, errPaused
	}
	user = strings.Join(strings.Fields(user), " ")
	var found []cwclient.Contact
	switch first, last, named := strings.Cut(user, " "); {
	case strings.Contains(user, "@"):
		found, err = c.ContactsByEmail(ctx, company, user)
	case named:
		found, err = c.ContactsByName(ctx, company, first, last)
	}
	e.noteLookupResult(err, company)
	switch kind := cwclient.KindOf(err); {
	case err == nil:
		return matchContact(found, user), nil
	case kind == cwclient.KindForbidden || kind == cwclient.KindNotFound || kind == cwclient.KindValidation:
		return linkDecision{ready: true, outcome: "contact lookup failed: " + err.Error()}, nil
	}
	return linkDecision{}, err
}

// attachOnce attaches a configuration; after an attempt whose outcome is
// unknown it looks at the ticket's configurations first.
func (e *Engine) attachOnce(ctx context.Context, c *cwclient.Client, ticketID, configID int, again bool, company string) error {
	if again {
		have, err := c.TicketConfigurations(ctx, ticketID)
		e.noteCWResult(err, company)
		if err != nil {
			return err
		}
		for _, h := range have {
			if h.ID == configID {
				return nil
			}
		}
	}
	_, err := c.AttachConfiguration(ctx, ticketID, configID)
	e.noteCWResult(err, company)
	return err
}

// TicketURL is the ConnectWise web address of a ticket ("" when there is
// no connection): for the Feed detail and the Alerts test-ticket result.
func (e *Engine) TicketURL(ticketID int) string {
	c, err := e.cw()
	if err != nil {
		return ""
	}
	return c.TicketURL(ticketID)
}

// withLinks puts the plan's contact on a create, and always the email
// switches off: whatever the board's defaults, ConnectWise must not email
// the contact (an end user) or the Cc list about a security incident.
func withLinks(t *cwclient.Ticket, p *linkPlan) {
	off := false
	t.AutomaticEmailContactFlag, t.AutomaticEmailCcFlag = &off, &off
	if p != nil {
		t.Contact = p.contact
	}
}

// contactRefused notes that the create refused the cached contact.
func (p *linkPlan) contactRefused(err error) {
	p.contact = nil
	p.links.ContactID, p.links.Contact = 0, "contact not linked: "+err.Error()
}

// record stores the plan's outcomes on the new ticket's key, and the link
// item when work is left, in the create's own transaction.
func (p *linkPlan) record(t *storage.Tx, key string) error {
	return t.UpdateIncidentKey(key, func(cur *storage.IncidentKey, _ bool) error {
		cur.Links = nil
		if p == nil {
			return nil
		}
		links := p.links
		cur.Links = &links
		if p.later {
			_, err := t.Enqueue(storage.OutboxLink, key)
			return err
		}
		return nil
	})
}
