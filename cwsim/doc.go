package cwsim

// Behaviour chosen where ConnectWise's documentation is silent, so clients
// know what they are tested against:
//
//   - GET /login/companyinfo/{unknown} answers 200 with every field null
//     (a client must check Codebase, not just the status).
//   - A missing or malformed Accept version is a 400 (code InvalidVersion),
//     although real servers fall back to the latest model: pinning a
//     version is what the developer guide asks for.
//   - 403 uses code "Forbidden" and names the function and action.
//   - Conditions errors use code "ApiFindCondition" ("x is not a recognized
//     name."), as seen from real servers; other bad parameters use
//     "InvalidRequest". Field names in conditions, orderBy and fields= are
//     case-sensitive; query parameter names and route literals are not.
//   - Null fields are omitted from JSON, as ConnectWise does; the
//     per-collection schema still knows them, so "closedDate = null" works.
//   - String comparison is case-insensitive and ignores trailing spaces
//     (SQL Server collation and padding). A missing field fails every
//     comparison except "= null", negated or not (SQL NULL logic).
//   - An unclosed "[" in a like pattern matches nothing.
//   - Query strings are form-decoded: an unencoded "+" is a space.
//   - PATCH with a nested path under a reference ("company/identifier") is
//     the documented "false 200": accepted, nothing changes.
//   - Moving a ticket to another board by PATCH resets a status/type/subType
//     the request did not name and the new board lacks; naming one of
//     another board is a 400.
//   - customFieldConditions is not simulated and answers 400 rather than
//     being silently ignored. childConditions must stay within one child
//     array (communicationItems/...), and one element must meet all of it.
//   - A ticket created with a contact and no automaticEmailContactFlag has
//     it on (a board's usual default: the contact is emailed).
//   - POST service/tickets/{id}/configurations takes a configuration of
//     the ticket's company once; a second attach is ObjectExists.
//   - "My" security levels allow the action (the API member owns what it
//     touches here).
