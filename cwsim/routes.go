package cwsim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError

type methodHandler struct {
	fn     handlerFunc
	action action
}

type route struct {
	segs     []string // literal segments, or "{id}"
	key      string
	function string
	methods  map[string]*methodHandler
}

func (rt *route) allowed() []string {
	var m []string
	for k := range rt.methods {
		m = append(m, k)
	}
	sort.Strings(m)
	return m
}

var routes []*route

func addRoute(pattern, function, method string, a action, fn handlerFunc) {
	for _, rt := range routes {
		if rt.key == pattern {
			rt.methods[method] = &methodHandler{fn: fn, action: a}
			return
		}
	}
	routes = append(routes, &route{segs: strings.Split(pattern, "/"), key: pattern, function: function,
		methods: map[string]*methodHandler{method: {fn: fn, action: a}}})
}

// addReadRoutes registers list, /count and /{id} for a collection.
// parent is the collection owning {id} in base ("" for top-level).
func addReadRoutes(base, coll, parent, function string) {
	addRoute(base, function, http.MethodGet, actInquire, listHandler(coll, parent))
	addRoute(base+"/count", function, http.MethodGet, actInquire, countHandler(coll, parent))
	addRoute(base+"/{id}", function, http.MethodGet, actInquire, getHandler(coll, parent))
}

func init() {
	addRoute("system/info", "", http.MethodGet, actInquire, (*Server).handleSystemInfo)
	addReadRoutes("system/mySecurity", "mySecurity", "", "")

	addReadRoutes("company/companies", "companies", "", FuncCompanyMaintenance)
	addReadRoutes("company/companies/{id}/sites", "sites", "companies", FuncCompanyMaintenance)

	addReadRoutes("service/boards", "boards", "", FuncTableSetup)
	addReadRoutes("service/boards/{id}/statuses", "statuses", "boards", FuncTableSetup)
	addReadRoutes("service/boards/{id}/types", "types", "boards", FuncTableSetup)
	addReadRoutes("service/boards/{id}/subtypes", "subtypes", "boards", FuncTableSetup)
	addReadRoutes("service/priorities", "priorities", "", FuncTableSetup)

	addReadRoutes("finance/agreements/types", "agreementTypes", "", FuncTableSetup)
	addReadRoutes("finance/agreements", "agreements", "", FuncAgreements)
	addReadRoutes("finance/agreements/{id}/additions", "additions", "agreements", FuncAgreements)
	addRoute("finance/agreements/{id}/additions", FuncAgreements, http.MethodPost, actAdd, (*Server).handleAdditionPost)
	addRoute("finance/agreements/{id}/additions/{id}", FuncAgreements, http.MethodPatch, actEdit, (*Server).handleAdditionPatch)

	addReadRoutes("procurement/catalog", "catalog", "", FuncProductCatalog)
	addRoute("procurement/catalog", FuncProductCatalog, http.MethodPost, actAdd, (*Server).handleCatalogPost)
	addReadRoutes("procurement/subcategories", "subcategories", "", FuncTableSetup)
	addReadRoutes("procurement/types", "productTypes", "", FuncTableSetup)

	addReadRoutes("service/tickets", "tickets", "", FuncServiceTickets)
	addRoute("service/tickets", FuncServiceTickets, http.MethodPost, actAdd, (*Server).handleTicketPost)
	addRoute("service/tickets/{id}", FuncServiceTickets, http.MethodPatch, actEdit, (*Server).handleTicketPatch)
	addRoute("service/tickets/search", FuncServiceTickets, http.MethodPost, actInquire, (*Server).handleTicketSearch)
	addReadRoutes("service/tickets/{id}/notes", "notes", "tickets", FuncServiceTickets)
	addRoute("service/tickets/{id}/notes", FuncServiceTickets, http.MethodPost, actAdd, (*Server).handleNotePost)
}

// matchRoute finds the route for a relative path (literal segments match
// case-insensitively, as IIS routing does; {id} needs a positive integer).
// h is nil when the route exists but not for this method.
func matchRoute(rel, method string) (*route, []int, *methodHandler) {
	if rel == "" {
		return nil, nil, nil
	}
	segs := strings.Split(rel, "/")
	for _, rt := range routes {
		if len(rt.segs) != len(segs) {
			continue
		}
		var ids []int
		ok := true
		for i, p := range rt.segs {
			if p == "{id}" {
				n, err := strconv.Atoi(segs[i])
				if err != nil || n <= 0 || segs[i][0] == '+' {
					ok = false
					break
				}
				ids = append(ids, n)
				continue
			}
			if !strings.EqualFold(p, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			h := rt.methods[method]
			if h == nil && method == http.MethodHead {
				h = rt.methods[http.MethodGet]
			}
			return rt, ids, h
		}
	}
	return nil, nil, nil
}
