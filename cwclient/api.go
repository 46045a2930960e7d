package cwclient

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
)

// Typed calls, one per ConnectWise endpoint the product uses. Lists are
// iterators (see List); Collect turns one into a slice.

func (c *Client) SystemInfo(ctx context.Context) (SystemInfo, error) {
	var out SystemInfo
	return out, c.getJSON(ctx, "system/info", nil, &out)
}

func (c *Client) MySecurity(ctx context.Context) ([]MySecurity, error) {
	return Collect(List[MySecurity](ctx, c, "system/mySecurity", Query{}))
}

// Companies lists companies; use Query.Fields to fetch only what you show.
func (c *Client) Companies(ctx context.Context, q Query) iter.Seq2[Company, error] {
	return List[Company](ctx, c, "company/companies", q)
}

// SearchCompanies finds companies whose name or identifier contains text.
func (c *Client) SearchCompanies(ctx context.Context, text string, q Query) iter.Seq2[Company, error] {
	q.Conditions = And(q.Conditions, Or(Contains("name", text), Contains("identifier", text)))
	return c.Companies(ctx, q)
}

func (c *Client) Company(ctx context.Context, id int) (Company, error) {
	var out Company
	return out, c.getJSON(ctx, "company/companies/"+strconv.Itoa(id), nil, &out)
}

// CompanyByIdentifier returns the company with that identifier, or a
// KindNotFound error.
func (c *Client) CompanyByIdentifier(ctx context.Context, identifier string) (Company, error) {
	for co, err := range c.Companies(ctx, Query{Conditions: Eq("identifier", identifier), PageSize: 2}) {
		return co, err
	}
	return Company{}, &Error{Kind: KindNotFound, Method: http.MethodGet, Path: "company/companies",
		Message: fmt.Sprintf("no company with identifier %q", identifier)}
}

func (c *Client) CompanySites(ctx context.Context, companyID int) iter.Seq2[CompanySite, error] {
	return List[CompanySite](ctx, c, "company/companies/"+strconv.Itoa(companyID)+"/sites", Query{})
}

// ServiceBoards lists active, non-project boards: where tickets can go.
func (c *Client) ServiceBoards(ctx context.Context) ([]Board, error) {
	return Collect(List[Board](ctx, c, "service/boards", Query{Conditions: And(Eq("inactiveFlag", false), Eq("projectFlag", false))}))
}

func (c *Client) BoardStatuses(ctx context.Context, boardID int) ([]BoardStatus, error) {
	return Collect(List[BoardStatus](ctx, c, boardPath(boardID, "statuses"), Query{}))
}

func (c *Client) BoardTypes(ctx context.Context, boardID int) ([]BoardType, error) {
	return Collect(List[BoardType](ctx, c, boardPath(boardID, "types"), Query{}))
}

func (c *Client) BoardSubTypes(ctx context.Context, boardID int) ([]BoardSubType, error) {
	return Collect(List[BoardSubType](ctx, c, boardPath(boardID, "subtypes"), Query{}))
}

func boardPath(id int, sub string) string { return "service/boards/" + strconv.Itoa(id) + "/" + sub }

func (c *Client) Priorities(ctx context.Context) ([]Priority, error) {
	return Collect(List[Priority](ctx, c, "service/priorities", Query{}))
}

func (c *Client) AgreementTypes(ctx context.Context) ([]AgreementType, error) {
	return Collect(List[AgreementType](ctx, c, "finance/agreements/types", Query{}))
}

// CompanyAgreements lists a company's agreements (all statuses; callers
// decide whether a cancelled one is offered).
func (c *Client) CompanyAgreements(ctx context.Context, companyID int) ([]Agreement, error) {
	return Collect(List[Agreement](ctx, c, "finance/agreements", Query{Conditions: Eq("company/id", companyID)}))
}

func (c *Client) Agreement(ctx context.Context, id int) (Agreement, error) {
	var out Agreement
	return out, c.getJSON(ctx, "finance/agreements/"+strconv.Itoa(id), nil, &out)
}

func additionsPath(agreementID int) string {
	return "finance/agreements/" + strconv.Itoa(agreementID) + "/additions"
}

// Additions lists an agreement's additions matching q.
func (c *Client) Additions(ctx context.Context, agreementID int, q Query) ([]Addition, error) {
	return Collect(List[Addition](ctx, c, additionsPath(agreementID), q))
}

// CreateAddition adds a product line to an agreement. Like every POST it
// is not retried when its outcome is unknown: list the additions before
// creating again.
func (c *Client) CreateAddition(ctx context.Context, agreementID int, a Addition) (Addition, error) {
	return create(ctx, c, additionsPath(agreementID), a, func(x Addition) int { return x.ID })
}

// SetAdditionQuantity patches an addition's quantity.
func (c *Client) SetAdditionQuantity(ctx context.Context, agreementID, additionID int, qty float64) (Addition, error) {
	var out Addition
	err := c.patch(ctx, additionsPath(agreementID)+"/"+strconv.Itoa(additionID), []PatchOp{Replace("quantity", qty)}, &out)
	return out, err
}

func (c *Client) CatalogItems(ctx context.Context, q Query) iter.Seq2[CatalogItem, error] {
	return List[CatalogItem](ctx, c, "procurement/catalog", q)
}

// CreateCatalogItem creates a product; ConnectWise rejects a duplicate
// identifier with a validation error (code ObjectExists).
func (c *Client) CreateCatalogItem(ctx context.Context, item CatalogItem) (CatalogItem, error) {
	return create(ctx, c, "procurement/catalog", item, func(x CatalogItem) int { return x.ID })
}

func (c *Client) ProductSubCategories(ctx context.Context) ([]ProductSubCategory, error) {
	// The spec's list path keeps its trailing slash.
	return Collect(List[ProductSubCategory](ctx, c, "procurement/subcategories/", Query{}))
}

func (c *Client) ProductTypes(ctx context.Context) ([]ProductType, error) {
	return Collect(List[ProductType](ctx, c, "procurement/types", Query{}))
}

// CreateTicket posts a ticket. When the answer is lost it returns a
// KindOutcomeUnknown error instead of retrying: search by externalXRef
// (TicketsByXRef) before creating again.
func (c *Client) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	return create(ctx, c, "service/tickets", t, func(x Ticket) int { return x.ID })
}

func (c *Client) Ticket(ctx context.Context, id int) (Ticket, error) {
	var out Ticket
	return out, c.getJSON(ctx, "service/tickets/"+strconv.Itoa(id), nil, &out)
}

func (c *Client) Tickets(ctx context.Context, q Query) iter.Seq2[Ticket, error] {
	return List[Ticket](ctx, c, "service/tickets", q)
}

// TicketsByXRef finds tickets carrying an external reference.
func (c *Client) TicketsByXRef(ctx context.Context, xref string) ([]Ticket, error) {
	return Collect(c.Tickets(ctx, Query{Conditions: Eq("externalXRef", xref)}))
}

// PatchTicket applies ops and returns the updated ticket.
func (c *Client) PatchTicket(ctx context.Context, id int, ops ...PatchOp) (Ticket, error) {
	var out Ticket
	return out, c.patch(ctx, "service/tickets/"+strconv.Itoa(id), ops, &out)
}

func (c *Client) patch(ctx context.Context, path string, ops []PatchOp, out any) error {
	// Replace operations set absolute values, so repeating one is safe.
	idem := true
	for _, op := range ops {
		if op.Op != "replace" {
			idem = false
		}
	}
	return c.call(ctx, request{method: http.MethodPatch, path: path, body: ops, idempotent: idem}, out)
}

func notesPath(ticketID int) string { return "service/tickets/" + strconv.Itoa(ticketID) + "/notes" }

// TicketNotes lists a ticket's notes matching q.
func (c *Client) TicketNotes(ctx context.Context, ticketID int, q Query) ([]Note, error) {
	return Collect(List[Note](ctx, c, notesPath(ticketID), q))
}

// AddNote posts a note; it must have a display flag set.
func (c *Client) AddNote(ctx context.Context, ticketID int, n Note) (Note, error) {
	if !n.DetailDescriptionFlag && !n.InternalAnalysisFlag && !n.ResolutionFlag {
		return Note{}, &Error{Kind: KindConfig, Method: http.MethodPost, Path: notesPath(ticketID),
			Message: "a note needs detailDescriptionFlag, internalAnalysisFlag or resolutionFlag"}
	}
	return create(ctx, c, notesPath(ticketID), n, func(x Note) int { return x.ID })
}
