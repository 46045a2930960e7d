package cwclient

import (
	"context"
	"iter"
	"strconv"
)

// Contact is a company contact (only the fields the engine asks for).
type Contact struct {
	ID                 int                 `json:"id"`
	FirstName          string              `json:"firstName,omitempty"`
	LastName           string              `json:"lastName,omitempty"`
	Company            *Ref                `json:"company,omitempty"`
	InactiveFlag       bool                `json:"inactiveFlag,omitempty"`
	CommunicationItems []CommunicationItem `json:"communicationItems,omitempty"`
}

// CommunicationItem is one of a contact's emails or phone numbers
// (ContactCommunicationItem); CommunicationType is "Email", "Phone", ...
type CommunicationItem struct {
	ID                int    `json:"id,omitempty"`
	Type              *Ref   `json:"type,omitempty"`
	Value             string `json:"value,omitempty"`
	CommunicationType string `json:"communicationType,omitempty"`
	DefaultFlag       bool   `json:"defaultFlag,omitempty"`
}

// Emails lists the contact's email addresses.
func (c Contact) Emails() []string {
	var out []string
	for _, it := range c.CommunicationItems {
		if it.CommunicationType == "Email" && it.Value != "" {
			out = append(out, it.Value)
		}
	}
	return out
}

// Name is "First Last".
func (c Contact) Name() string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

// Configuration is a company configuration (CompanyConfiguration): a
// device or other asset, e.g. the workstation an RMM keeps in ConnectWise.
type Configuration struct {
	ID               int    `json:"id"`
	Name             string `json:"name,omitempty"`
	DeviceIdentifier string `json:"deviceIdentifier,omitempty"`
	Company          *Ref   `json:"company,omitempty"`
	ActiveFlag       bool   `json:"activeFlag,omitempty"`
}

// ConfigurationRef is what a ticket's configurations list holds
// (ConfigurationReference).
type ConfigurationRef struct {
	ID               int    `json:"id,omitempty"`
	DeviceIdentifier string `json:"deviceIdentifier,omitempty"`
}

// contactFields and configurationFields are what the engine reads: a
// company's whole directory stays small in transfer and in memory.
var (
	contactFields       = []string{"id", "firstName", "lastName", "communicationItems/value", "communicationItems/communicationType"}
	configurationFields = []string{"id", "name", "deviceIdentifier"}
)

// CompanyContacts lists a company's active contacts (by company
// identifier), with their names and communication items.
func (c *Client) CompanyContacts(ctx context.Context, companyIdentifier string) iter.Seq2[Contact, error] {
	return List[Contact](ctx, c, "company/contacts", Query{
		Conditions: And(Eq("company/identifier", companyIdentifier), Eq("inactiveFlag", false)),
		Fields:     contactFields,
	})
}

// ContactsByEmail finds a company's active contacts having email as an
// Email communication item (childConditions: the same item must match).
func (c *Client) ContactsByEmail(ctx context.Context, companyIdentifier, email string) ([]Contact, error) {
	return Collect(List[Contact](ctx, c, "company/contacts", Query{
		Conditions:      And(Eq("company/identifier", companyIdentifier), Eq("inactiveFlag", false)),
		ChildConditions: And(Eq("communicationItems/value", email), Eq("communicationItems/communicationType", "Email")),
		Fields:          contactFields,
		PageSize:        10,
	}))
}

// ContactsByName finds a company's active contacts with that exact first
// and last name.
func (c *Client) ContactsByName(ctx context.Context, companyIdentifier, first, last string) ([]Contact, error) {
	return Collect(List[Contact](ctx, c, "company/contacts", Query{
		Conditions: And(Eq("company/identifier", companyIdentifier), Eq("inactiveFlag", false),
			Eq("firstName", first), Eq("lastName", last)),
		Fields:   contactFields,
		PageSize: 10,
	}))
}

// CompanyConfigurations lists a company's active configurations.
func (c *Client) CompanyConfigurations(ctx context.Context, companyIdentifier string) iter.Seq2[Configuration, error] {
	return List[Configuration](ctx, c, "company/configurations", Query{
		Conditions: And(Eq("company/identifier", companyIdentifier), Eq("activeFlag", true)),
		Fields:     configurationFields,
	})
}

func ticketConfigurationsPath(ticketID int) string {
	return "service/tickets/" + strconv.Itoa(ticketID) + "/configurations"
}

// TicketConfigurations lists the configurations attached to a ticket.
func (c *Client) TicketConfigurations(ctx context.Context, ticketID int) ([]ConfigurationRef, error) {
	return Collect(List[ConfigurationRef](ctx, c, ticketConfigurationsPath(ticketID), Query{}))
}

// AttachConfiguration attaches a configuration to a ticket. Like every
// POST it is not retried when its outcome is unknown: list the ticket's
// configurations before attaching again.
func (c *Client) AttachConfiguration(ctx context.Context, ticketID, configurationID int) (ConfigurationRef, error) {
	return create(ctx, c, ticketConfigurationsPath(ticketID), ConfigurationRef{ID: configurationID},
		func(x ConfigurationRef) int { return x.ID })
}
