package cwclient

import (
	"net/url"
	"strconv"
	"strings"
)

// The ticket's page in the ConnectWise PSA web UI. ConnectWise opens a
// record by "route": ConnectWise.aspx?routeTo=ServiceFV&recid=<ticket id>
// (ServiceFV is the service ticket screen), under the site's codebase, with
// companyName naming the PSA company the login is for. Not in the
// developer guide we have; it is the form used by integrations and
// browser extensions alike (see README, "Open it").
const ticketRoute = "ConnectWise.aspx?locale=en_US&routeTo=ServiceFV"

// TicketURL is the web address of a service ticket: site is the PSA
// site as configured (the UI host; an "api-" prefix is dropped), codebase
// the one company info names ("v2025_1/"; empty: "v4_6_release/", which
// every site serves or redirects), companyID the PSA company id of the
// login. It returns "" when the site does not parse or id ≤ 0.
func TicketURL(site, codebase, companyID string, ticketID int) string {
	s, err := ParseSite(site)
	if err != nil || ticketID <= 0 {
		return ""
	}
	host := s.Host
	if len(host) > 4 && strings.EqualFold(host[:4], "api-") {
		host = host[4:]
	}
	codebase = strings.Trim(codebase, "/")
	if codebase == "" || strings.ContainsAny(codebase, "?#\\ ") {
		codebase = "v4_6_release"
	}
	u := s.Scheme + "://" + host + "/" + url.PathEscape(codebase) + "/" + ticketRoute +
		"&recid=" + strconv.Itoa(ticketID)
	if companyID != "" {
		u += "&companyName=" + url.QueryEscape(companyID)
	}
	return u
}

// TicketURL is TicketURL for this client's site and company, with the
// codebase discovered so far ("" before the first call).
func (c *Client) TicketURL(ticketID int) string {
	c.mu.Lock()
	cb := c.codebase
	c.mu.Unlock()
	return TicketURL(c.site.String(), cb, c.cfg.CompanyID, ticketID)
}
