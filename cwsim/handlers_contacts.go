package cwsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Contacts and configurations: what a ticket links to. Contacts carry
// their emails and phones as communicationItems, searched with
// childConditions; configurations are the devices an RMM keeps per
// company. POST service/tickets/{id}/configurations attaches one.

// Security functions guarding them, as named in a ConnectWise role.
const (
	FuncContacts       = "Companies > Contacts"
	FuncConfigurations = "Companies > Configurations"
)

func init() {
	addReadRoutes("company/contacts", "contacts", "", FuncContacts)
	addReadRoutes("company/configurations", "configurations", "", FuncConfigurations)
	// A ticket's configurations: list, count and attach (no /{id}: a link
	// is named by the configuration's id, shared between tickets).
	addRoute("service/tickets/{id}/configurations", FuncServiceTickets, http.MethodGet, actInquire, listHandler("ticketConfigurations", "tickets"))
	addRoute("service/tickets/{id}/configurations/count", FuncServiceTickets, http.MethodGet, actInquire, countHandler("ticketConfigurations", "tickets"))
	addRoute("service/tickets/{id}/configurations", FuncServiceTickets, http.MethodPost, actAdd, (*Server).handleTicketConfigurationPost)
}

// configurationRefFields is what POST .../configurations accepts
// (ConfigurationReference).
var configurationRefFields = newFieldSet("id", "deviceIdentifier", "_info")

// handleTicketConfigurationPost attaches a company configuration of the
// ticket's company: by id, or by deviceIdentifier. Attaching one twice is
// refused, as ConnectWise refuses a duplicate link.
func (s *Server) handleTicketConfigurationPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	ticketID := rc.ids[0]
	in, e := readObject(r, "configuration")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusCreated, func() (*record, *apiError) {
		tickets := s.colls["tickets"]
		t := tickets.get(ticketID)
		if t == nil {
			return nil, errRecordNotFound(tickets, ticketID)
		}
		v := &validation{resource: "configuration"}
		v.rejectUnknown(in, configurationRefFields)
		configs := s.colls["configurations"]
		id, hasID := toInt(in["id"])
		dev, _ := in["deviceIdentifier"].(string)
		var cfg *record
		switch {
		case in["id"] != nil && !hasID:
			v.invalid("id", "id must be an integer.")
		case hasID:
			if cfg = configs.get(id); cfg == nil {
				v.invalid("id", "configuration with id %d was not found.", id)
			}
		case dev != "":
			if cfg = configs.findFold(configs.recs, "deviceIdentifier", dev); cfg == nil {
				v.invalid("deviceIdentifier", "configuration %q was not found.", dev)
			}
		default:
			v.add("MissingRequiredField", "id", "id or deviceIdentifier is required.")
		}
		if cfg != nil && refID(cfg.data["company"]) != refID(t.data["company"]) {
			v.invalid("id", "configuration %d belongs to another company than ticket %d.", cfg.id, ticketID)
		}
		if cfg != nil && !v.failed() {
			for _, old := range s.colls["ticketConfigurations"].scope(ticketID, true) {
				if old.id == cfg.id {
					v.add("ObjectExists", "id", "configuration %d is already attached to ticket %d.", cfg.id, ticketID)
				}
			}
		}
		if v.failed() {
			return nil, v.err()
		}
		// The stored link is answered as a ConfigurationReference whose id is
		// the configuration's, as ConnectWise lists a ticket's configurations.
		return s.colls["ticketConfigurations"].insertAs(ticketID, cfg.id, map[string]any{
			"deviceIdentifier": cfg.data["deviceIdentifier"],
			"_info":            map[string]any{"configuration_href": fmt.Sprintf("company/configurations/%d", cfg.id)}}), nil
	})
}

// insertAs publishes a child record under a given id (a link named by what
// it links to), kept in id order so paging works; ids may repeat across
// parents, so such a collection has no /{id} route.
func (c *collection) insertAs(parent, id int, data map[string]any) *record {
	r := newRecord(id, parent, data)
	c.learn("", r.data)
	ins := func(list []*record) []*record {
		i := searchID(list, id)
		return append(list[:i], append([]*record{r}, list[i:]...)...)
	}
	c.byParent[parent] = ins(c.byParent[parent])
	c.recs = ins(c.recs)
	return r
}

// checkTicketContact validates a ticket's contact: a contact of the
// ticket's company, active. Caller holds the lock.
func (s *Server) checkTicketContact(out map[string]any, v *validation) {
	ref, ok := out["contact"].(map[string]any)
	if !ok {
		return
	}
	id, _ := toInt(ref["id"])
	c := s.colls["contacts"].get(id)
	switch {
	case c == nil:
		v.invalid("contact", "contact with id %d was not found.", id)
	case refID(c.data["company"]) != refID(out["company"]):
		v.invalid("contact", "contact %d is not a contact of the ticket's company.", id)
	default:
		out["contact"] = map[string]any{"id": c.id, "name": strings.TrimSpace(fmt.Sprint(c.data["firstName"], " ", c.data["lastName"]))}
		out["contactName"] = out["contact"].(map[string]any)["name"]
		if email := primaryEmail(c); email != "" {
			out["contactEmailAddress"] = email
		}
	}
}

func primaryEmail(c *record) string {
	items, _ := c.data["communicationItems"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		if m["communicationType"] == "Email" {
			s, _ := m["value"].(string)
			return s
		}
	}
	return ""
}

// ---- childConditions ----

// childFilter is a parsed childConditions parameter: a condition over one
// child array (e.g. communicationItems) that a single element must meet
// as a whole, as ConnectWise evaluates it per child row.
type childFilter struct {
	array string
	cond  *Condition
}

// parseChildConditions reads childConditions for c. Every field must lie
// in the same array of the record ("communicationItems/value"); the in
// operator is not available there (developer guide). A collection with no
// array fields refuses the parameter rather than ignore it.
func parseChildConditions(q url.Values, c *collection) (*childFilter, *apiError) {
	raw, ok := qget(q, "childConditions")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	cond, err := ParseConditions(raw)
	if err != nil {
		return nil, errConditions("Invalid childConditions: " + err.Error() + ".")
	}
	var array string
	var bad string
	var walk func(*Condition)
	walk = func(n *Condition) {
		if n.kind == condCmp {
			if n.op == opIn {
				bad = "the in operator is not supported in childConditions."
			}
			root, _, nested := strings.Cut(n.field, "/")
			switch {
			case !nested || c.schema[root] != kindArray:
				bad = n.field + " is not a field of a child array of " + c.resource + "."
			case array != "" && root != array:
				bad = "childConditions must stay within one child array (" + array + ", " + root + ")."
			}
			array = root
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(cond)
	if bad != "" {
		return nil, errConditions(bad)
	}
	if cond.kind == condAll {
		return nil, nil
	}
	if cond, err = cond.bind(c.schema); err != nil {
		return nil, errConditions(err.Error())
	}
	return &childFilter{array: array, cond: cond}, nil
}

// matches reports whether one element of the record's array meets f.
func (f *childFilter) matches(rec map[string]any) bool {
	if f == nil {
		return true
	}
	items, _ := rec[f.array].([]any)
	for _, it := range items {
		if ok, err := f.cond.Match(map[string]any{f.array: []any{it}}); ok && err == nil {
			return true
		}
	}
	return false
}

// ---- seed ----

var (
	contactFirst = []string{"Ann", "Bob", "Carla", "Dev", "Elena", "Frank", "Grace", "Hiro", "Ines", "Jamal", "Kim", "Luis", "Maya", "Noah", "Olga", "Priya"}
	contactLast  = []string{"Smith", "Jones", "Okafor", "Patel", "Rossi", "Nguyen", "Müller", "O'Neil", "García", "Kowalski", "Chen", "Haddad"}
	configKinds  = []struct{ prefix, typ, os string }{
		{"PC", "Workstation", "Windows 11 Pro"}, {"LT", "Laptop", "Windows 11 Pro"}, {"MAC", "Laptop", "macOS 15"},
		{"SRV", "Server", "Windows Server 2022"}, {"FW", "Firewall", "FortiOS 7.4"},
	}
)

// seedDirectory gives every client company (and the catchall) contacts
// and configurations. The first client has fixed ones tests can name:
// Ann Smith (ann.smith@<domain>), two Chris Lee, PC-7, two KIOSK-1.
func (s *Server) seedDirectory(g *seeder, clients []*record, catchall *record) {
	add := func(c *collection) *collection { s.colls[c.name] = c; return c }
	contacts := add(newCollection("contacts", "Contact", "contact", FuncContacts, 5001, false))
	configs := add(newCollection("configurations", "Configuration", "configuration", FuncConfigurations, 7001, false))
	add(newCollection("ticketConfigurations", "Configuration", "configuration", FuncServiceTickets, 1, true))
	ref := func(col *collection, names ...string) {
		for _, n := range names {
			col.declare(kindObject, n)
			col.declare(kindNumber, n+"/id")
			col.declare(kindString, n+"/name")
		}
	}
	ref(contacts, "company", "site", "department", "relationship")
	contacts.declare(kindString, "company/identifier", "firstName", "lastName", "title", "nickName")
	contacts.declare(kindArray, "communicationItems")
	contacts.declare(kindString, "communicationItems/value", "communicationItems/communicationType", "communicationItems/type/name")
	contacts.declare(kindBool, "inactiveFlag", "communicationItems/defaultFlag")
	ref(configs, "company", "type", "status", "contact", "site", "manufacturer")
	configs.declare(kindString, "company/identifier", "name", "deviceIdentifier", "serialNumber", "tagNumber",
		"macAddress", "ipAddress", "osType", "lastLoginName", "modelNumber")
	configs.declare(kindBool, "activeFlag")
	s.colls["tickets"].declare(kindBool, ticketEmailFlags...)

	for i, c := range append(append([]*record{}, clients...), catchall) {
		if del, _ := c.data["deletedFlag"].(bool); del {
			continue
		}
		n := 3 + g.rng.IntN(6)
		for j := 0; j < n; j++ {
			first, last := contactFirst[g.rng.IntN(len(contactFirst))], contactLast[g.rng.IntN(len(contactLast))]
			s.addContact(g, c, first, last, "", j == n-1 && n > 4)
		}
		m := 2 + g.rng.IntN(5)
		for j := 0; j < m; j++ {
			k := configKinds[g.rng.IntN(len(configKinds))]
			s.addConfiguration(g, c, fmt.Sprintf("%s-%d", k.prefix, 10+g.rng.IntN(90)), k.typ, k.os, "", j == m-1 && m > 4)
		}
		if i == 0 { // fixed fixtures
			s.addContact(g, c, "Ann", "Smith", "", false)
			s.addContact(g, c, "Chris", "Lee", "", false)
			s.addContact(g, c, "Chris", "Lee", "chris.lee2@"+domainOf(c), false)
			s.addConfiguration(g, c, "PC-7", "Workstation", "Windows 11 Pro", "9f1c2a7e-7b1d-4c55-a0e4-1d2e3f4a5b6c", false)
			s.addConfiguration(g, c, "KIOSK-1", "Workstation", "Windows 11 IoT", "", false)
			s.addConfiguration(g, c, "KIOSK-1", "Workstation", "Windows 11 IoT", "", false)
		}
	}
}

func domainOf(company *record) string {
	return strings.ToLower(fmt.Sprint(company.data["identifier"])) + ".example"
}

// emailLocal makes first.last an address part (ASCII letters only).
func emailLocal(first, last string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(translit.Replace(s)) {
			if r >= 'a' && r <= 'z' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return clean(first) + "." + clean(last)
}

func (s *Server) addContact(g *seeder, company *record, first, last, email string, inactive bool) *record {
	if email == "" {
		email = emailLocal(first, last) + "@" + domainOf(company)
	}
	contacts := s.colls["contacts"]
	id := contacts.nextID
	items := []any{
		map[string]any{"id": id*10 + 1, "type": map[string]any{"id": 1, "name": "Email"}, "value": email,
			"defaultFlag": true, "domain": "@" + domainOf(company), "communicationType": "Email"},
		map[string]any{"id": id*10 + 2, "type": map[string]any{"id": 2, "name": "Direct"},
			"value": fmt.Sprintf("555%07d", g.rng.IntN(10000000)), "defaultFlag": true, "communicationType": "Phone"},
	}
	return contacts.insert(0, map[string]any{"firstName": first, "lastName": last, "company": companyRef(company),
		"inactiveFlag": inactive, "title": []string{"Office Manager", "Accountant", "Engineer", "Receptionist", "Director"}[g.rng.IntN(5)],
		"communicationItems": items, "types": []any{map[string]any{"id": 1, "name": "End User"}},
		"defaultPhoneType": "Direct", "_info": g.info()})
}

func (s *Server) addConfiguration(g *seeder, company *record, name, typ, os, device string, inactive bool) *record {
	if device == "" {
		device = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.rng.Uint32(), g.rng.IntN(1<<16), g.rng.IntN(1<<12), g.rng.IntN(1<<12), g.rng.Uint64()&0xffffffffffff)
	}
	status := map[string]any{"id": 1, "name": "Active"}
	if inactive {
		status = map[string]any{"id": 2, "name": "Inactive"}
	}
	return s.colls["configurations"].insert(0, map[string]any{"name": name, "company": companyRef(company),
		"type": map[string]any{"id": 1 + len(typ)%7, "name": typ}, "status": status, "activeFlag": !inactive,
		"deviceIdentifier": device, "serialNumber": fmt.Sprintf("SN%09d", g.rng.IntN(1000000000)),
		"osType": os, "ipAddress": fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(255), g.rng.IntN(255), 1+g.rng.IntN(253)),
		"macAddress":   fmt.Sprintf("00:1A:2B:%02X:%02X:%02X", g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)),
		"manufacturer": map[string]any{"id": 3, "name": "Dell"}, "_info": g.info()})
}

// AddContact adds an active contact to the company with that identifier
// (its email: first.last@<identifier>.example unless given) and returns
// its id, 0 for an unknown company. For tests: a contact made after a
// client cached the directory.
func (s *Server) AddContact(companyIdentifier, first, last, email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.colls["companies"].findFold(s.colls["companies"].recs, "identifier", companyIdentifier)
	if c == nil {
		return 0
	}
	return s.addContact(s.seedGen, c, first, last, email, false).id
}

// AddConfiguration adds an active workstation configuration to the company
// with that identifier and returns its id (0 for an unknown company).
func (s *Server) AddConfiguration(companyIdentifier, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.colls["companies"].findFold(s.colls["companies"].recs, "identifier", companyIdentifier)
	if c == nil {
		return 0
	}
	return s.addConfiguration(s.seedGen, c, name, "Workstation", "Windows 11 Pro", "", false).id
}

// ticketEmailFlags stores the email switches. Left out on a create, the
// contact switch is on when the ticket has a contact: a board's usual
// default, under which ConnectWise emails the contact about the ticket.
func (s *Server) ticketEmailFlags(in, out map[string]any, old *record, v *validation) {
	for _, f := range ticketEmailFlags {
		if b, ok := v.boolean(in, f); ok {
			out[f] = b
		} else if old == nil && f == "automaticEmailContactFlag" && out["contact"] != nil {
			out[f] = true
		}
	}
}
