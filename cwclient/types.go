package cwclient

import "time"

// Ref is ConnectWise's reference object ({"id":…, "name":…}). Identifier
// is set for companies and members. On create, send only ID (or
// Identifier for a company).
type Ref struct {
	ID         int    `json:"id,omitempty"`
	Identifier string `json:"identifier,omitempty"`
	Name       string `json:"name,omitempty"`
}

// Info is the _info block; only the fields we use.
type Info struct {
	LastUpdated time.Time `json:"lastUpdated"`
	UpdatedBy   string    `json:"updatedBy,omitempty"`
}

// SystemInfo is GET system/info.
type SystemInfo struct {
	Version        string `json:"version"`
	IsCloud        bool   `json:"isCloud"`
	ServerTimeZone string `json:"serverTimeZone"`
	CloudRegion    string `json:"cloudRegion"`
}

// Security levels of a role function.
const (
	LevelNone = "None"
	LevelMy   = "My"
	LevelAll  = "All"
)

// MySecurity is one row of GET system/mySecurity.
type MySecurity struct {
	ID                       int    `json:"id"`
	ModuleIdentifier         string `json:"moduleIdentifier"`
	ModuleName               string `json:"moduleName"`
	ModuleFunctionName       string `json:"moduleFunctionName"`
	ModuleFunctionIdentifier string `json:"moduleFunctionIdentifier"`
	AddLevel                 string `json:"addLevel"`
	EditLevel                string `json:"editLevel"`
	DeleteLevel              string `json:"deleteLevel"`
	InquireLevel             string `json:"inquireLevel"`
}

// Company is a ConnectWise company.
type Company struct {
	ID          int    `json:"id"`
	Identifier  string `json:"identifier"`
	Name        string `json:"name"`
	Status      *Ref   `json:"status,omitempty"`
	Types       []Ref  `json:"types,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
	Website     string `json:"website,omitempty"`
	DeletedFlag bool   `json:"deletedFlag"`
	Info        *Info  `json:"_info,omitempty"`
}

// CompanySite is a company's site (address).
type CompanySite struct {
	ID                 int    `json:"id"`
	Name               string `json:"name"`
	City               string `json:"city,omitempty"`
	PrimaryAddressFlag bool   `json:"primaryAddressFlag"`
	InactiveFlag       bool   `json:"inactiveFlag"`
}

// Board is a service board.
type Board struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	InactiveFlag bool   `json:"inactiveFlag"`
	ProjectFlag  bool   `json:"projectFlag"`
}

// BoardStatus is a status of one board. Note ConnectWise spells its
// inactive flag "inactive" here, not "inactiveFlag".
type BoardStatus struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	Board        *Ref   `json:"board,omitempty"`
	SortOrder    int    `json:"sortOrder"`
	Inactive     bool   `json:"inactive"`
	ClosedStatus bool   `json:"closedStatus"`
	DefaultFlag  bool   `json:"defaultFlag"`
}

// BoardType is a ticket type of one board.
type BoardType struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	Board        *Ref   `json:"board,omitempty"`
	InactiveFlag bool   `json:"inactiveFlag"`
	DefaultFlag  bool   `json:"defaultFlag"`
}

// BoardSubType is a ticket subtype of one board.
type BoardSubType struct {
	ID                 int    `json:"id"`
	Name               string `json:"name"`
	Board              *Ref   `json:"board,omitempty"`
	InactiveFlag       bool   `json:"inactiveFlag"`
	TypeAssociationIDs []int  `json:"typeAssociationIds"`
	AddAllTypesFlag    bool   `json:"addAllTypesFlag"`
}

// Priority is a service priority.
type Priority struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	SortOrder   int    `json:"sortOrder"`
	DefaultFlag bool   `json:"defaultFlag"`
	Level       string `json:"level,omitempty"`
}

// AgreementType is a finance agreement type.
type AgreementType struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	DefaultFlag  bool   `json:"defaultFlag"`
	InactiveFlag bool   `json:"inactiveFlag"`
}

// Agreement is a company's agreement.
type Agreement struct {
	ID              int    `json:"id"`
	Name            string `json:"name"`
	Type            *Ref   `json:"type,omitempty"`
	Company         *Ref   `json:"company,omitempty"`
	AgreementStatus string `json:"agreementStatus,omitempty"` // Active|Cancelled|Expired|Inactive
	CancelledFlag   bool   `json:"cancelledFlag"`
}

// Billing choices of an addition.
const (
	BillCustomerBillable  = "Billable"
	BillCustomerDoNotBill = "DoNotBill"
	BillCustomerNoCharge  = "NoCharge"
)

// Addition is an agreement addition (a billed product line).
type Addition struct {
	ID            int        `json:"id,omitempty"`
	Product       *Ref       `json:"product,omitempty"`
	Quantity      float64    `json:"quantity"`
	BillCustomer  string     `json:"billCustomer,omitempty"`
	Description   string     `json:"description,omitempty"`
	EffectiveDate *time.Time `json:"effectiveDate,omitempty"`
	CancelledDate *time.Time `json:"cancelledDate,omitempty"`
	AgreementID   int        `json:"agreementId,omitempty"`
}

// ConnectWise's CatalogItem limits (the published model's maxLength).
const (
	MaxCatalogIdentifier  = 75
	MaxCatalogDescription = 60
)

// CatalogItem is a procurement catalog product.
type CatalogItem struct {
	ID                  int    `json:"id,omitempty"`
	Identifier          string `json:"identifier"`
	Description         string `json:"description"`
	CustomerDescription string `json:"customerDescription"`
	Subcategory         *Ref   `json:"subcategory,omitempty"`
	Type                *Ref   `json:"type,omitempty"`
	InactiveFlag        bool   `json:"inactiveFlag"`
}

// ProductSubCategory and ProductType are catalog lookup tables.
type ProductSubCategory struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	Category     *Ref   `json:"category,omitempty"`
	InactiveFlag bool   `json:"inactiveFlag"`
	DefaultFlag  bool   `json:"defaultFlag"`
}

type ProductType struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	InactiveFlag bool   `json:"inactiveFlag"`
	DefaultFlag  bool   `json:"defaultFlag"`
}

// Ticket is a service ticket. The Initial* fields exist only on create:
// ConnectWise turns them into the first notes and never returns them.
type Ticket struct {
	ID           int    `json:"id,omitempty"`
	Summary      string `json:"summary"`
	RecordType   string `json:"recordType,omitempty"`
	Company      *Ref   `json:"company,omitempty"`
	Board        *Ref   `json:"board,omitempty"`
	Status       *Ref   `json:"status,omitempty"`
	Type         *Ref   `json:"type,omitempty"`
	SubType      *Ref   `json:"subType,omitempty"`
	Priority     *Ref   `json:"priority,omitempty"`
	Severity     string `json:"severity,omitempty"` // Low|Medium|High
	Impact       string `json:"impact,omitempty"`
	ExternalXRef string `json:"externalXRef,omitempty"`
	Contact      *Ref   `json:"contact,omitempty"`
	// The email switches are pointers so false is sent, not left out:
	// left out, the board's defaults apply, and those may email the
	// contact (an end user) about a security incident.
	AutomaticEmailContactFlag *bool      `json:"automaticEmailContactFlag,omitempty"`
	AutomaticEmailCcFlag      *bool      `json:"automaticEmailCcFlag,omitempty"`
	ClosedFlag                bool       `json:"closedFlag,omitempty"`
	ClosedDate                *time.Time `json:"closedDate,omitempty"`
	Info                      *Info      `json:"_info,omitempty"`

	InitialDescription      string `json:"initialDescription,omitempty"`
	InitialInternalAnalysis string `json:"initialInternalAnalysis,omitempty"`
	InitialResolution       string `json:"initialResolution,omitempty"`
}

// Note is a ticket note. At least one of the three display flags must be
// true or ConnectWise rejects it.
type Note struct {
	ID                    int        `json:"id,omitempty"`
	TicketID              int        `json:"ticketId,omitempty"`
	Text                  string     `json:"text"`
	DetailDescriptionFlag bool       `json:"detailDescriptionFlag"`
	InternalAnalysisFlag  bool       `json:"internalAnalysisFlag"`
	ResolutionFlag        bool       `json:"resolutionFlag"`
	DateCreated           *time.Time `json:"dateCreated,omitempty"`
	CreatedBy             string     `json:"createdBy,omitempty"`
	Info                  *Info      `json:"_info,omitempty"`
}

// PatchOp is one JSON-Patch-like operation; PATCH bodies are arrays.
type PatchOp struct {
	Op    string `json:"op"` // add|replace|remove
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Replace is the common PATCH operation.
func Replace(path string, value any) PatchOp { return PatchOp{Op: "replace", Path: path, Value: value} }
