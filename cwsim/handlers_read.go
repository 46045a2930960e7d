package cwsim

import (
	"net/http"
	"net/url"
	"strconv"
)

func listHandler(coll, parent string) handlerFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
		return s.serveList(w, r, rc, coll, parent, nil)
	}
}

// scopeFor returns the records a list runs over; for a child collection
// the parent must exist. Caller holds s.mu.
func (s *Server) scopeFor(c *collection, parent string, rc *reqCtx) ([]*record, *apiError) {
	if parent == "" {
		return c.recs, nil
	}
	pc := s.colls[parent]
	if pc.get(rc.ids[0]) == nil {
		return nil, errRecordNotFound(pc, rc.ids[0])
	}
	return c.scope(rc.ids[0], true), nil
}

// serveList answers a list (or search) request. Records are selected under
// the read lock; their cached encodings are immutable, so writing them out
// happens after the lock is released.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, rc *reqCtx, coll, parent string, conds *string) *apiError {
	s.mu.RLock()
	c := s.colls[coll]
	scope, e := s.scopeFor(c, parent, rc)
	if e != nil {
		s.mu.RUnlock()
		return e
	}
	lq, e := parseListQuery(r, c, conds)
	if e != nil {
		s.mu.RUnlock()
		return e
	}
	pp := partsPool.Get().(*[][]byte)
	parts, link := lq.selectPage(r, scope, (*pp)[:0])
	s.mu.RUnlock()
	if link != "" {
		w.Header().Set("Link", link)
	}
	s.writeArray(w, rc, parts)
	clear(parts)
	*pp = parts[:0]
	partsPool.Put(pp)
	return nil
}

func countHandler(coll, parent string) handlerFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return errBadRequest("InvalidRequest", "The query string is malformed: "+err.Error())
		}
		s.mu.RLock()
		c := s.colls[coll]
		scope, e := s.scopeFor(c, parent, rc)
		if e != nil {
			s.mu.RUnlock()
			return e
		}
		cond, e := parseConditionsParam(q, nil, c.schema)
		if e != nil {
			s.mu.RUnlock()
			return e
		}
		child, e := parseChildConditions(q, c)
		if e != nil {
			s.mu.RUnlock()
			return e
		}
		lq := &listQuery{cond: cond, child: child}
		n := 0
		for _, rec := range scope {
			if lq.matches(rec) {
				n++
			}
		}
		s.mu.RUnlock()
		s.writeJSON(w, rc, http.StatusOK, []byte(`{"count":`+strconv.Itoa(n)+`}`))
		return nil
	}
}

func getHandler(coll, parent string) handlerFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
		id := rc.ids[len(rc.ids)-1]
		s.mu.RLock()
		c := s.colls[coll]
		if _, e := s.scopeFor(c, parent, rc); e != nil {
			s.mu.RUnlock()
			return e
		}
		rec := c.get(id)
		if rec == nil || (parent != "" && rec.parent != rc.ids[0]) {
			s.mu.RUnlock()
			return errRecordNotFound(c, id)
		}
		s.mu.RUnlock()
		s.writeJSON(w, rc, http.StatusOK, encodeWithFields(r, rec))
		return nil
	}
}

// encodeWithFields applies fields= to a single-record answer, parsing it
// only when the record has no cached projection for it.
func encodeWithFields(r *http.Request, rec *record) []byte {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if v, ok := fieldsParam(q); ok {
		return rec.projection(v, nil)
	}
	return rec.enc
}

func (s *Server) handleSystemInfo(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	info := map[string]any{
		"version":                   "v" + s.opts.Version + "." + versionBuild(s.opts.Version),
		"isCloud":                   false,
		"serverTimeZone":            "Eastern Standard Time",
		"cloudRegion":               "NA",
		"maxWorkFlowRecordsAllowed": 1000,
		"licenseBits": []any{
			map[string]any{"name": "ServiceDesk", "activeFlag": true},
			map[string]any{"name": "Finance", "activeFlag": true},
			map[string]any{"name": "Procurement", "activeFlag": true},
		},
	}
	s.writeJSON(w, rc, http.StatusOK, appendJSON(nil, info))
	return nil
}
