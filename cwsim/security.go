package cwsim

import (
	"net/http"
	"strings"
)

// Level is a security-role level for one action of a module function.
type Level string

const (
	None Level = "None"
	My   Level = "My"
	All  Level = "All"
)

// Security functions ("Module > Function") that guard the simulated
// endpoints, as named in a ConnectWise security role.
const (
	FuncCompanyMaintenance = "Companies > Company Maintenance" // companies, sites
	FuncServiceTickets     = "Service Desk > Service Tickets"  // tickets, notes
	FuncTableSetup         = "System > Table Setup"            // boards, statuses, types, subtypes, priorities, agreement types, procurement subcategories/types
	FuncAgreements         = "Finance > Agreements"            // agreements, additions
	FuncProductCatalog     = "Procurement > Product Catalog"   // catalog
)

type action uint8

const (
	actInquire action = iota
	actAdd
	actEdit
	actDelete
)

var actionNames = [...]string{"Inquire", "Add", "Edit", "Delete"}

type secEntry struct {
	id     int
	levels [4]Level // inquire, add, edit, delete
}

var moduleIdentifiers = map[string]string{
	"Companies": "Company", "Service Desk": "ServiceDesk", "System": "System",
	"Finance": "Finance", "Procurement": "Procurement",
}

func (s *Server) initSecurity() {
	s.security = map[string]*secEntry{}
	for i, fn := range []string{FuncCompanyMaintenance, FuncServiceTickets, FuncTableSetup, FuncAgreements, FuncProductCatalog,
		FuncContacts, FuncConfigurations} {
		s.security[fn] = &secEntry{id: i + 1, levels: [4]Level{All, All, All, All}}
		s.secOrder = append(s.secOrder, fn)
	}
}

// SetSecurity changes the API member's role for one function; GET
// system/mySecurity reflects it and the endpoints enforce it (403).
func (s *Server) SetSecurity(function string, inquire, add, edit, del Level) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.security[function]
	if e == nil {
		e = &secEntry{id: len(s.secOrder) + 1}
		s.security[function] = e
		s.secOrder = append(s.secOrder, function)
	}
	e.levels = [4]Level{inquire, add, edit, del}
	s.rebuildMySecurity()
}

// authorize: any level but None allows the action ("My" would restrict to
// the member's own records in ConnectWise; the API member owns everything
// it touches here).
func (s *Server) authorize(function string, a action) *apiError {
	if function == "" {
		return nil
	}
	s.mu.RLock()
	e := s.security[function]
	lvl := None
	if e != nil {
		lvl = e.levels[a]
	}
	s.mu.RUnlock()
	if lvl == My || lvl == All {
		return nil
	}
	return &apiError{status: http.StatusForbidden, code: "Forbidden",
		message: "You do not have " + actionNames[a] + " permission for " + function + ". Ask your administrator to update the API member's security role."}
}

// rebuildMySecurity regenerates the system/mySecurity records (caller holds mu).
func (s *Server) rebuildMySecurity() {
	c := newCollection("mySecurity", "MySecurity", "mySecurity", "", 1, false)
	for _, fn := range s.secOrder {
		e := s.security[fn]
		module, function, ok := strings.Cut(fn, " > ")
		if !ok {
			module, function = "", fn
		}
		modID := moduleIdentifiers[module]
		if modID == "" {
			modID = strings.ReplaceAll(module, " ", "")
		}
		c.nextID = e.id
		c.insert(0, map[string]any{
			"moduleIdentifier":          modID,
			"moduleName":                module,
			"moduleDescription":         module,
			"moduleFunctionIdentifier":  strings.ReplaceAll(function, " ", "_"),
			"moduleFunctionName":        function,
			"moduleFunctionDescription": function,
			"inquireLevel":              string(e.levels[actInquire]),
			"addLevel":                  string(e.levels[actAdd]),
			"editLevel":                 string(e.levels[actEdit]),
			"deleteLevel":               string(e.levels[actDelete]),
			"myAllFlag":                 true,
			"reportFlag":                false,
			"restrictFlag":              false,
			"customFlag":                false,
			"sortOrder":                 e.id,
			"member":                    apiMemberRef(),
			"_info":                     map[string]any{"lastUpdated": fmtTime(seedBase), "updatedBy": "admin1"},
		})
	}
	// ids must stay ascending for paging; secOrder is in id order already.
	s.colls["mySecurity"] = c
}

func apiMemberRef() map[string]any {
	return map[string]any{"id": apiMemberID, "identifier": apiMemberIdentifier, "name": "cwbridge API"}
}

const (
	apiMemberID         = 175
	apiMemberIdentifier = "cwbridgeapi"
)
