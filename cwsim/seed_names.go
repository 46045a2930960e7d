package cwsim

// Curated client companies, used first and in this order. The tricky ones
// (quotes, &, +, [, %, _, apostrophes, umlauts) come early so even a small
// seed exercises a client's escaping.
var curatedCompanies = []string{
	"Acme Dental Group",
	"Northwind Logistics",
	`O"Brien & Sons+`,
	"Müller & Söhne GmbH",
	"[Bracket] Holdings",
	"50% Off Outlet",
	"Under_Score Ltd",
	"St. Mary's Family Clinic",
	"Contoso Pharmaceuticals",
	"Fabrikam Manufacturing",
	"Blue Ridge Credit Union",
	"Harbor View Law Partners",
	"Summit Architecture Studio",
	"Pinecrest Veterinary Hospital",
	"Riverside Public Library",
	"Granite State Insurance",
	"Lakeshore Property Management",
	"Cedar Valley School District",
	"Redwood Accounting LLP",
	"Evergreen Senior Living",
	"Ironclad Security Systems",
	"Coastal Marine Supply",
	"Tri-County Orthopedics",
	"Golden Gate Bakery Co.",
	"Silverline Trucking",
	"Brightside Pediatrics",
	"Keystone Engineering Group",
	"Oakridge Animal Hospital",
	"Starlight Event Rentals",
	"Copperfield Realty",
}

var (
	namePrefixes = []string{"Apex", "Beacon", "Cascade", "Delta", "Eagle", "Frontier", "Glacier", "Horizon",
		"Insight", "Juniper", "Kingsley", "Liberty", "Meridian", "Nova", "Orchard", "Pioneer", "Quantum",
		"Ridgeway", "Sterling", "Trinity", "Union", "Vanguard", "Westfield", "Yellowstone", "Zenith",
		"Atlas", "Bayside", "Crescent", "Dogwood", "Elmhurst", "Foxhall", "Greystone", "Hillcrest"}
	nameIndustries = []string{"Dental", "Logistics", "Medical", "Legal", "Construction", "Realty", "Insurance",
		"Accounting", "Engineering", "Manufacturing", "Pharmacy", "Veterinary", "Consulting", "Marketing",
		"Hospitality", "Automotive", "Plumbing", "Electric", "Financial", "Education"}
	nameSuffixes = []string{"Group", "LLC", "Inc.", "Partners", "Co.", "Associates", "Services", "Ltd", "Holdings", "Clinic"}

	streetNames = []string{"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Washington St", "Lake Rd",
		"Hill St", "Pine St", "Elm St", "Commerce Way", "Industrial Pkwy", "Market St", "Broadway"}
	cities = []struct{ city, state, zip string }{
		{"Tampa", "FL", "33602"}, {"Austin", "TX", "78701"}, {"Denver", "CO", "80202"}, {"Columbus", "OH", "43215"},
		{"Portland", "OR", "97204"}, {"Raleigh", "NC", "27601"}, {"Madison", "WI", "53703"}, {"Boise", "ID", "83702"},
		{"Albany", "NY", "12207"}, {"Phoenix", "AZ", "85004"}, {"Nashville", "TN", "37203"}, {"Omaha", "NE", "68102"},
	}
)
