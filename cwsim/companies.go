package cwsim

import "fmt"

// EditCompany changes company id as a person editing it in ConnectWise
// would: the given fields are replaced and _info.lastUpdated moves to the
// server's clock, so an incremental sync by lastUpdated sees the change.
// Only fields of ConnectWise's Company model that the simulator keeps can
// be set; "id" and "_info" cannot.
func (s *Server) EditCompany(id int, fields map[string]any) error {
	return s.changeCompany(id, func(d map[string]any) error {
		for k, v := range fields {
			if !companyEditable[k] {
				return fmt.Errorf("cwsim: company field %q cannot be edited", k)
			}
			d[k] = deepCopy(v)
		}
		return nil
	})
}

// DeleteCompany deletes company id as ConnectWise does: softly. The
// record stays listed with deletedFlag true, dateDeleted and deletedBy
// set and _info.lastUpdated moved to now.
func (s *Server) DeleteCompany(id int) error {
	return s.changeCompany(id, func(d map[string]any) error {
		d["deletedFlag"] = true
		d["dateDeleted"] = fmtTime(s.now())
		d["deletedBy"] = "admin1"
		d["status"] = map[string]any{"id": 3, "name": "Inactive"}
		return nil
	})
}

// changeCompany lets edit change a copy of company id's data and
// publishes it, updated now.
func (s *Server) changeCompany(id int, edit func(d map[string]any) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.colls["companies"]
	old := c.get(id)
	if old == nil {
		return fmt.Errorf("cwsim: no company %d", id)
	}
	d := copyMap(old.data)
	if err := edit(d); err != nil {
		return err
	}
	s.stampCompany(c, old, d)
	return nil
}

// stampCompany publishes d as company old's new version, updated now
// (caller holds the write lock).
func (s *Server) stampCompany(c *collection, old *record, d map[string]any) {
	info, _ := d["_info"].(map[string]any)
	if info == nil {
		info = map[string]any{}
		d["_info"] = info
	}
	info["lastUpdated"] = fmtTime(s.now())
	info["updatedBy"] = "admin1"
	c.replace(old, d)
}

// companyEditable are the Company fields EditCompany may set: those of
// ConnectWise's model that seeded companies carry.
var companyEditable = map[string]bool{
	"identifier": true, "name": true, "status": true, "types": true, "addressLine1": true, "addressLine2": true,
	"city": true, "state": true, "zip": true, "country": true, "phoneNumber": true, "faxNumber": true,
	"website": true, "leadFlag": true,
}
