package cwsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// seedBase anchors seeded timestamps so the same seed gives identical data
// regardless of when it runs (writes use Options.Now).
var seedBase = time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)

type seeder struct {
	rng    *rand.Rand
	n      int // companies generated (curated + generated)
	idents map[string]bool
	names  map[string]bool
}

func (g *seeder) stamp() string {
	return fmtTime(seedBase.Add(-time.Duration(g.rng.IntN(365*24*60)) * time.Minute))
}

func (g *seeder) info() map[string]any {
	ts := g.stamp()
	return map[string]any{"lastUpdated": ts, "updatedBy": "admin1", "dateEntered": ts, "enteredBy": "admin1"}
}

// nextName returns the next company name: curated first, then generated.
func (g *seeder) nextName() string {
	for {
		var name string
		if g.n < len(curatedCompanies) {
			name = curatedCompanies[g.n]
		} else {
			name = namePrefixes[g.rng.IntN(len(namePrefixes))] + " " + nameIndustries[g.rng.IntN(len(nameIndustries))] +
				" " + nameSuffixes[g.rng.IntN(len(nameSuffixes))]
			if g.names[name] {
				name = fmt.Sprintf("%s %d", name, g.n)
			}
		}
		g.n++
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
}

var translit = strings.NewReplacer("ü", "u", "ö", "o", "ä", "a", "ß", "ss", "Ü", "U", "Ö", "O", "Ä", "A")

// identifierFor derives a unique CW company identifier (<= 25 chars).
func (g *seeder) identifierFor(name string) string {
	var b strings.Builder
	for _, r := range translit.Replace(name) {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	base := b.String()
	if len(base) > 20 {
		base = base[:20]
	}
	id := base
	for i := 2; g.idents[strings.ToLower(id)]; i++ {
		id = fmt.Sprintf("%s%d", base, i)
	}
	g.idents[strings.ToLower(id)] = true
	return id
}

func (s *Server) seed() {
	g := &seeder{rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), 0x5EED)), idents: map[string]bool{}, names: map[string]bool{}}
	s.seedGen = g
	s.colls = map[string]*collection{}
	add := func(c *collection) *collection { s.colls[c.name] = c; return c }
	companies := add(newCollection("companies", "Company", "company", FuncCompanyMaintenance, 19301, false))
	add(newCollection("sites", "Site", "site", FuncCompanyMaintenance, 8001, true))
	boards := add(newCollection("boards", "Board", "board", FuncTableSetup, 21, false))
	statuses := add(newCollection("statuses", "Status", "boardStatus", FuncTableSetup, 101, true))
	types := add(newCollection("types", "Type", "boardType", FuncTableSetup, 301, true))
	subtypes := add(newCollection("subtypes", "SubType", "boardSubType", FuncTableSetup, 501, true))
	priorities := add(newCollection("priorities", "Priority", "priority", FuncTableSetup, 1, false))
	agTypes := add(newCollection("agreementTypes", "AgreementType", "agreementType", FuncTableSetup, 11, false))
	agreements := add(newCollection("agreements", "Agreement", "agreement", FuncAgreements, 1001, false))
	additions := add(newCollection("additions", "Addition", "addition", FuncAgreements, 3001, true))
	catalog := add(newCollection("catalog", "CatalogItem", "catalogItem", FuncProductCatalog, 601, false))
	subcats := add(newCollection("subcategories", "SubCategory", "productSubCategory", FuncTableSetup, 41, false))
	ptypes := add(newCollection("productTypes", "ProductType", "productType", FuncTableSetup, 61, false))
	tickets := add(newCollection("tickets", "Ticket", "ticket", FuncServiceTickets, max(250001, s.opts.FirstTicketID), false))
	notes := add(newCollection("notes", "Note", "serviceNote", FuncServiceTickets, 900001, true))
	s.rebuildMySecurity()
	declareSchemas(s.colls)

	// Companies and sites.
	var clients []*record
	for i := 0; i < s.opts.Companies; i++ {
		rec := s.addCompany(g, g.nextName(), i)
		s.addSites(g, rec, 1+g.rng.IntN(2))
		clients = append(clients, rec)
	}
	catchall := companies.insert(0, g.companyData("Catchall (Unmatched Alerts)", "Catchall", false, false))
	s.addSites(g, catchall, 1)

	// Service setup.
	subtypeTypes := map[string][]string{
		"Malware": {"Incident", "Alert"}, "Phishing": {"Incident", "Alert", "Service Request"},
		"DNS": {"Incident", "Problem", "Service Request"}, "Login": {"Incident", "Service Request", "Alert"},
		"Data Loss": {"Incident", "Problem", "Alert"},
	}
	for _, b := range []struct {
		name              string
		inactive, project bool
	}{{"Security", false, false}, {"Help Desk", false, false}, {"Network Operations", false, false},
		{"Alerts", false, false}, {"Legacy Board", true, false}, {"Projects", false, true}} {
		dept := map[string]any{"id": 10, "name": "Managed Services"}
		if b.project {
			dept = map[string]any{"id": 11, "name": "Projects"}
		}
		br := boards.insert(0, map[string]any{"name": b.name, "location": map[string]any{"id": 2, "name": "Main Office"},
			"department": dept, "inactiveFlag": b.inactive, "projectFlag": b.project, "billProduct": "Billable",
			"_info": g.info()})
		bref := idName(br)
		for i, st := range []struct {
			name           string
			closed, active bool
		}{{"New", false, true}, {"In Progress", false, true}, {"Waiting on Client", false, true},
			{"Resolved", true, true}, {"Closed", true, true}, {"Cancelled (Old)", true, false}} {
			statuses.insert(br.id, map[string]any{"name": st.name, "board": bref, "sortOrder": i,
				"displayOnBoard": st.active, "inactive": !st.active, "closedStatus": st.closed,
				"timeEntryNotAllowed": st.closed, "defaultFlag": i == 0, "escalationStatus": "NotResponded",
				"customerPortalFlag": false, "_info": g.info()})
		}
		typeIDs := map[string]int{}
		for i, tn := range []string{"Incident", "Service Request", "Problem", "Alert"} {
			tr := types.insert(br.id, map[string]any{"name": tn, "category": "Reactive", "defaultFlag": i == 0,
				"inactiveFlag": false, "requestForChangeFlag": false, "board": bref, "_info": g.info()})
			typeIDs[tn] = tr.id
		}
		for _, sn := range []string{"Malware", "Phishing", "DNS", "Login", "Data Loss"} {
			var ids []any
			for _, tn := range subtypeTypes[sn] {
				ids = append(ids, typeIDs[tn])
			}
			subtypes.insert(br.id, map[string]any{"name": sn, "inactiveFlag": false, "typeAssociationIds": ids,
				"addAllTypesFlag": false, "removeAllTypesFlag": false, "board": bref, "_info": g.info()})
		}
	}
	for i, p := range []struct{ name, color string }{
		{"Priority 1 - Emergency Response", "Red"}, {"Priority 2 - Quick Response", "Orange"},
		{"Priority 3 - Normal Response", "Yellow"}, {"Priority 4 - Schedule Maintenance", "Green"},
		{"Do Not Respond", "Blue"}} {
		level := fmt.Sprintf("Priority%d", i+1)
		if i == 4 {
			level = "NotApplicable"
		}
		priorities.insert(0, map[string]any{"name": p.name, "color": p.color, "sortOrder": i + 1,
			"urgencySortOrder": i + 1, "defaultFlag": i == 2, "level": level, "_info": g.info()})
	}

	// Agreement types and procurement setup.
	for i, at := range []struct {
		name     string
		inactive bool
	}{{"Managed Services", false}, {"Security Services", false}, {"Block Time", false}, {"Legacy MSA", true}} {
		units := "Amount"
		if at.name == "Block Time" {
			units = "Hours"
		}
		agTypes.insert(0, map[string]any{"name": at.name, "defaultFlag": i == 0, "inactiveFlag": at.inactive,
			"prePaymentFlag": at.name == "Block Time", "applicationUnits": units, "invoicingCycle": "CalendarYear",
			"billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
			"employeeCompRate": "Actual", "employeeCompNotExceed": "Billing", "prorateFlag": true,
			"billingCycle": map[string]any{"id": 2, "name": "Monthly"}, "_info": g.info()})
	}
	cats := map[string]map[string]any{
		"Software": {"id": 1, "name": "Software"}, "Services": {"id": 2, "name": "Services"},
		"Hardware": {"id": 3, "name": "Hardware"},
	}
	subcatCat := []struct{ name, cat string }{{"Security Software", "Software"}, {"Cloud Services", "Services"},
		{"Backup & Recovery", "Services"}, {"Network Hardware", "Hardware"}, {"Managed Services", "Services"}}
	subByName := map[string]*record{}
	for _, sc := range subcatCat {
		subByName[sc.name] = subcats.insert(0, map[string]any{"name": sc.name, "category": cats[sc.cat],
			"inactiveFlag": false, "_info": g.info()})
	}
	ptByName := map[string]*record{}
	for i, pt := range []string{"Non-Inventory", "Service", "Inventory"} {
		ptByName[pt] = ptypes.insert(0, map[string]any{"name": pt, "defaultFlag": i == 0,
			"inactiveFlag": false, "_info": g.info()})
	}
	for _, it := range []struct {
		ident, desc, sub, typ, class string
		price, cost                  float64
		inactive                     bool
	}{
		{"MS365-E3", "Microsoft 365 E3 (per user)", "Cloud Services", "Non-Inventory", "NonInventory", 36, 32, false},
		{"AV-ENDPOINT", "Endpoint Protection (per device)", "Security Software", "Service", "Service", 5, 2.5, false},
		{"BACKUP-1TB", "Cloud Backup 1 TB", "Backup & Recovery", "Service", "Service", 60, 25, false},
		{"SEC-MONITOR", "24x7 Security Monitoring", "Managed Services", "Service", "Service", 12, 4, false},
		{"EMAIL-FILTER", "Email Filtering (per mailbox)", "Security Software", "Non-Inventory", "NonInventory", 3, 1.2, false},
		{"FW-APPLIANCE", "Firewall Appliance", "Network Hardware", "Inventory", "Inventory", 899, 620, false},
		{"LEGACY-AV", "Legacy Antivirus (retired)", "Security Software", "Service", "Service", 4, 2, true},
	} {
		sub := subByName[it.sub]
		catalog.insert(0, map[string]any{"identifier": it.ident, "description": it.desc, "customerDescription": it.desc,
			"subcategory": idName(sub), "category": sub.data["category"], "type": idName(ptByName[it.typ]),
			"productClass": it.class, "inactiveFlag": it.inactive, "serializedFlag": it.class == "Inventory",
			"price": it.price, "cost": it.cost, "taxableFlag": it.class == "Inventory", "recurringFlag": it.class != "Inventory",
			"unitOfMeasure": map[string]any{"id": 1, "name": "Each"}, "_info": g.info()})
	}

	// Agreements and additions: most active clients have one or two.
	activeTypes := agTypes.recs[:3]
	for i, c := range clients {
		if del, _ := c.data["deletedFlag"].(bool); del {
			continue
		}
		n := 1
		switch r := g.rng.IntN(10); {
		case i == 0:
			n = 1
		case r < 2:
			n = 0
		case r >= 7:
			n = 2
		}
		for j := 0; j < n; j++ {
			at := activeTypes[(i+j)%len(activeTypes)]
			if i == 0 {
				at = agTypes.recs[1] // the first client always has Security Services
			}
			cancelled := j == 1 && g.rng.IntN(2) == 0
			ag := s.agreementData(g, c, at, cancelled)
			agRec := agreements.insert(c.id, ag)
			if i == 0 || (!cancelled && g.rng.IntN(3) == 0) {
				for k, prod := range []*record{catalog.recs[1], catalog.recs[2]} {
					qty := float64(1 + g.rng.IntN(40))
					if i == 0 && k == 0 {
						qty = 25
					}
					d, _ := s.buildAddition(map[string]any{"product": map[string]any{"id": prod.id}, "billCustomer": "Billable",
						"quantity": qty, "effectiveDate": ag["startDate"]}, agRec, nil)
					d["_info"] = g.info()
					additions.insert(agRec.id, d)
				}
			}
		}
	}

	// A few existing tickets with notes.
	for i := 0; i < 6 && i < len(clients); i++ {
		c := clients[i]
		if del, _ := c.data["deletedFlag"].(bool); del {
			continue
		}
		board := boards.recs[i%4]
		sts := statuses.scope(board.id, true)
		st := sts[i%5]
		tps := types.scope(board.id, true)
		prio := priorities.recs[i%4]
		summaries := []string{"Suspicious login from new country", "Printer offline on 2nd floor",
			"Phishing email reported by user", "VPN tunnel flapping", "Malware quarantined on workstation",
			"Backup job failed"}
		info := g.info()
		data := map[string]any{"summary": summaries[i], "recordType": "ServiceTicket", "board": idName(board),
			"status":  map[string]any{"id": st.id, "name": st.data["name"], "sort": st.data["sortOrder"]},
			"company": companyRef(c), "type": idName(tps[i%4]),
			"priority": map[string]any{"id": prio.id, "name": prio.data["name"], "sort": prio.data["sortOrder"], "level": prio.data["level"]},
			"severity": severities[i%3], "impact": severities[(i+1)%3], "externalXRef": fmt.Sprintf("seed-%d", i+1),
			"contactName": "Front Desk", "closedFlag": st.data["closedStatus"], "_info": info}
		if closed, _ := st.data["closedStatus"].(bool); closed {
			data["closedDate"], data["closedBy"] = info["lastUpdated"], "admin1"
		}
		t := tickets.insert(0, data)
		for k, flag := range []string{"detailDescriptionFlag", "internalAnalysisFlag"} {
			nd := s.noteData(t.id, map[string]any{"text": fmt.Sprintf("Seeded note %d for %s.", k+1, summaries[i]), flag: true})
			nd["dateCreated"], nd["_info"] = info["dateEntered"], map[string]any{"lastUpdated": info["lastUpdated"], "updatedBy": "admin1"}
			nd["createdBy"] = "admin1"
			notes.insert(t.id, nd)
		}
	}
	s.seedDirectory(g, clients, catchall)
}

func (g *seeder) companyData(name, ident string, deleted, lead bool) map[string]any {
	c := cities[g.rng.IntN(len(cities))]
	country := map[string]any{"id": 1, "name": "United States"}
	if strings.HasSuffix(name, "GmbH") {
		country = map[string]any{"id": 2, "name": "Germany"}
	}
	status := map[string]any{"id": 1, "name": "Active"}
	if deleted {
		status = map[string]any{"id": 3, "name": "Inactive"}
	}
	typ := map[string]any{"id": 1, "name": "Client"}
	if lead {
		typ = map[string]any{"id": 4, "name": "Prospect"}
	}
	return map[string]any{
		"identifier": ident, "name": name, "status": status, "types": []any{typ},
		"addressLine1": fmt.Sprintf("%d %s", 100+g.rng.IntN(9800), streetNames[g.rng.IntN(len(streetNames))]),
		"city":         c.city, "state": c.state, "zip": c.zip, "country": country,
		"phoneNumber": fmt.Sprintf("555%07d", g.rng.IntN(10000000)),
		"website":     "www." + strings.ToLower(ident) + ".example",
		"deletedFlag": deleted, "leadFlag": lead,
		// Lean _info: page-serving benchmarks count every byte a client decodes.
		"_info": map[string]any{"lastUpdated": g.stamp(), "updatedBy": "admin1"},
	}
}

// addCompany seeds client company number i (0-based); every 12th is
// deleted and every 9th a lead. The caller adds its sites.
func (s *Server) addCompany(g *seeder, name string, i int) *record {
	return s.colls["companies"].insert(0, g.companyData(name, g.identifierFor(name), i%12 == 11, i%9 == 7))
}

func (s *Server) addSites(g *seeder, company *record, n int) {
	for j := 0; j < n; j++ {
		name := "Main"
		if j > 0 {
			name = "Branch Office"
		}
		s.colls["sites"].insert(company.id, map[string]any{"name": name,
			"addressLine1": company.data["addressLine1"], "city": company.data["city"],
			"stateReference": map[string]any{"id": 1, "identifier": company.data["state"]}, "zip": company.data["zip"],
			"country": company.data["country"], "phoneNumber": company.data["phoneNumber"],
			"primaryAddressFlag": j == 0, "defaultBillingFlag": j == 0, "defaultShippingFlag": j == 0,
			"defaultMailingFlag": j == 0, "inactiveFlag": false, "company": companyRef(company), "_info": g.info()})
	}
}

func (s *Server) agreementData(g *seeder, c, at *record, cancelled bool) map[string]any {
	start := seedBase.AddDate(0, -1-g.rng.IntN(30), 0)
	d := map[string]any{
		"name":    fmt.Sprintf("%s - %s", c.data["identifier"], at.data["name"]),
		"type":    idName(at),
		"company": companyRef(c), "contact": map[string]any{"id": 40000 + c.id%1000, "name": "Office Manager"},
		"agreementStatus": "Active", "cancelledFlag": false, "noEndingDateFlag": true,
		"startDate": fmtTime(start), "billingCycle": map[string]any{"id": 2, "name": "Monthly"},
		"billAmount": float64(100 * (1 + g.rng.IntN(30))), "applicationUnits": at.data["applicationUnits"],
		"invoicingCycle": "CalendarYear", "periodType": "Current", "billTime": "Billable",
		"billExpenses": "Billable", "billProducts": "Billable", "taxable": true, "_info": g.info(),
	}
	if cancelled {
		d["agreementStatus"], d["cancelledFlag"] = "Cancelled", true
		d["dateCancelled"] = fmtTime(start.AddDate(0, 6, 0))
		d["noEndingDateFlag"] = false
		d["endDate"] = d["dateCancelled"]
	}
	return d
}

// AddCompanies appends n more seeded companies (one site each), e.g. for
// paging benchmarks. Deterministic for a given seed and call sequence.
func (s *Server) AddCompanies(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.seedGen
	for i := 0; i < n; i++ {
		name := g.nextName()
		rec := s.addCompany(g, name, g.n-1)
		// Added now, so updated now: an incremental sync by lastUpdated
		// must find it, as it would a company created in ConnectWise.
		s.stampCompany(s.colls["companies"], rec, copyMap(rec.data))
		s.addSites(g, s.colls["companies"].get(rec.id), 1)
	}
}

// declareSchemas lists fields that a collection's records may lack (they
// are omitted when null, as ConnectWise omits nulls) so conditions,
// orderBy and fields= still recognise them.
func declareSchemas(c map[string]*collection) {
	ref := func(col *collection, names ...string) {
		for _, n := range names {
			col.declare(kindObject, n)
			col.declare(kindNumber, n+"/id")
			col.declare(kindString, n+"/name")
		}
	}
	t := c["tickets"]
	ref(t, "board", "status", "company", "site", "type", "subType", "priority", "agreement", "contact", "team",
		"owner", "source", "item", "serviceLocation", "workRole", "workType", "location", "department", "sla", "currency")
	t.declare(kindString, "company/identifier", "owner/identifier", "summary", "recordType", "severity", "impact",
		"externalXRef", "poNumber", "contactName", "contactPhoneNumber", "contactPhoneExtension",
		"contactEmailAddress", "closedBy", "_info/updatedBy", "_info/enteredBy")
	t.declare(kindNumber, "status/sort", "priority/sort", "budgetHours")
	t.declare(kindBool, "closedFlag")
	t.declare(kindDate, "closedDate", "requiredDate", "_info/lastUpdated", "_info/dateEntered")
	t.declare(kindArray, "customFields", "integratorTags")
	a := c["additions"]
	ref(a, "product")
	a.declare(kindString, "product/identifier", "serialNumber", "uom", "description", "invoiceDescription")
	a.declare(kindDate, "effectiveDate", "cancelledDate")
	ag := c["agreements"]
	ref(ag, "parentAgreement", "site")
	ag.declare(kindDate, "endDate", "dateCancelled")
	cat := c["catalog"]
	ref(cat, "manufacturer", "vendor")
	cat.declare(kindString, "manufacturerPartNumber", "vendorSku", "notes", "integrationXRef")
	cat.declare(kindNumber, "recurringRevenue", "recurringCost")
	co := c["companies"]
	co.declare(kindString, "addressLine2", "faxNumber", "deletedBy")
	co.declare(kindDate, "dateDeleted")
	n := c["notes"]
	ref(n, "contact")
}
