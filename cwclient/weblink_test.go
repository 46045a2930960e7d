package cwclient

import "testing"

func TestTicketURL(t *testing.T) {
	for _, tc := range []struct {
		site, codebase, company string
		id                      int
		want                    string
	}{
		{"na.myconnectwise.net", "v2025_1/", "mycompany", 5012,
			"https://na.myconnectwise.net/v2025_1/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=5012&companyName=mycompany"},
		{"api-eu.myconnectwise.net", "", "My Co&1", 7,
			"https://eu.myconnectwise.net/v4_6_release/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=7&companyName=My+Co%261"},
		{"https://cw.example.com:8443", "v4_6_release/", "", 3,
			"https://cw.example.com:8443/v4_6_release/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=3"},
		{"http://127.0.0.1:9000", "v2025_8/", "sim", 1,
			"http://127.0.0.1:9000/v2025_8/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=1&companyName=sim"},
		{"na.myconnectwise.net", "v2025_1/", "c", 0, ""},
		{"not a site/", "", "c", 1, ""},
	} {
		if got := TicketURL(tc.site, tc.codebase, tc.company, tc.id); got != tc.want {
			t.Errorf("TicketURL(%q, %q, %q, %d) = %q, want %q", tc.site, tc.codebase, tc.company, tc.id, got, tc.want)
		}
	}
}
