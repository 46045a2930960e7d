package testutil

import (
	"fmt"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

var (
	prefixes   = []string{"Acme", "Northwind", "Blue Ridge", "Cedar", "Harbor", "Summit", "Pioneer", "Lakeside", "Granite", "Maple", "Silver", "Oak Valley", "Riverbend", "Keystone", "Evergreen", "Bright"}
	industries = []string{"Dental", "Logistics", "Law", "Clinic", "Foods", "Builders", "Accounting", "Realty", "Motors", "Labs", "Insurance", "Energy", "Schools", "Hotels"}
	suffixes   = []string{"Group", "LLC", "Inc", "Partners", "Co", "Ltd", "Associates", "Holdings"}
)

// Companies makes n deterministic companies with unique ids and
// identifiers, shaped like a real MSP's ConnectWise.
func Companies(n int) []storage.Company {
	out := make([]storage.Company, n)
	for i := range out {
		name := fmt.Sprintf("%s %s %s", prefixes[i%len(prefixes)], industries[(i/len(prefixes))%len(industries)], suffixes[(i/7)%len(suffixes)])
		if i >= len(prefixes)*len(industries) {
			name = fmt.Sprintf("%s %d", name, i)
		}
		out[i] = storage.Company{ID: 19301 + i, Identifier: fmt.Sprintf("C%05d", i), Name: name,
			LastUpdated: Clock.Add(-time.Duration(i) * time.Minute)}
	}
	return out
}

// Sim starts a simulator on loopback for the test.
func Sim(t testing.TB, companies int) *cwsim.Server {
	t.Helper()
	s := cwsim.New(cwsim.Options{Companies: companies})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Connect stores the simulator's credentials as the connection.
func Connect(t testing.TB, st *storage.Store, s *cwsim.Server) {
	t.Helper()
	cr := s.Credentials()
	err := st.SetConnection("test", storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"})
	if err != nil {
		t.Fatal(err)
	}
}
