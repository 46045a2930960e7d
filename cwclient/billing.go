package cwclient

import (
	"context"
	"strings"
)

// agreementsPerCall bounds the ids of one "id in (…)" condition so the URL
// stays well under ConnectWise's ~2000-character limit.
const agreementsPerCall = 150

// AgreementsByID fetches the agreements with these ids, in as few calls as
// the URL length allows. An id ConnectWise does not know is simply absent.
func (c *Client) AgreementsByID(ctx context.Context, ids []int) ([]Agreement, error) {
	var out []Agreement
	for start := 0; start < len(ids); start += agreementsPerCall {
		chunk := ids[start:min(start+agreementsPerCall, len(ids))]
		got, err := Collect(List[Agreement](ctx, c, "finance/agreements", Query{Conditions: InInts("id", chunk),
			Fields: []string{"id", "name", "type", "company", "agreementStatus", "cancelledFlag"}}))
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// ActiveAdditions lists an agreement's additions that are not cancelled,
// of the given catalog items only (all items when none are given): the one
// list call a usage sync makes per agreement.
func (c *Client) ActiveAdditions(ctx context.Context, agreementID int, itemIDs []int) ([]Addition, error) {
	cond := IsNull("cancelledDate")
	if len(itemIDs) > 0 {
		cond = And(cond, InInts("product/id", itemIDs))
	}
	return c.Additions(ctx, agreementID, Query{Conditions: cond})
}

// CatalogItemByIdentifier returns the catalog items whose identifier is s
// (ConnectWise compares case-insensitively; at most one is expected).
func (c *Client) CatalogItemByIdentifier(ctx context.Context, s string) ([]CatalogItem, error) {
	items, err := Collect(c.CatalogItems(ctx, Query{Conditions: Eq("identifier", strings.TrimSpace(s)), PageSize: 10}))
	return items, err
}
