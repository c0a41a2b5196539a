package api

import (
	"context"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// AccessHandlers serve who-am-I, API tokens and users over the same auth service the
// console and the CLI use; the service enforces who may do what (an admin manages
// everyone's tokens and all users, anyone else only their own tokens).
type AccessHandlers struct {
	Auth *auth.Service
}

// Me is the principal a request acts as.
type Me struct {
	UserID  int64     `json:"user_id"`
	Email   string    `json:"email"`
	Role    auth.Role `json:"role" enum:"admin,operator,viewer"`
	TokenID *int64    `json:"token_id,omitempty" doc:"Set when the request authenticated with an API token"`
}

func (h *AccessHandlers) Me(ctx context.Context, _ *struct{}) (*Body[Me], error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, apperr.E(apperr.Unauthorized, "sign in first")
	}
	return &Body[Me]{Me{UserID: p.UserID, Email: p.Email, Role: p.Role, TokenID: p.TokenID}}, nil
}

// page cuts a short, fully loaded list (users, tokens) to the list convention shared
// with the catalog, so clients page every collection the same way (an absent limit is
// the catalog's default).
func page[T any](all []T, q PageQuery) catalog.Page[T] {
	limit, offset := int(q.Limit), q.Offset
	if limit == 0 {
		limit = catalog.DefaultLimit
	}
	items := all[min(offset, len(all)):]
	items = items[:min(limit, len(items))]
	return catalog.Page[T]{Items: items, Total: int64(len(all)), Limit: limit, Offset: offset}
}

// ---- tokens

type TokenListInput struct {
	PageQuery
	UserID int64 `query:"user_id" minimum:"1" doc:"Admins: only this user's tokens (others always see only their own)"`
}

func (h *AccessHandlers) ListTokens(ctx context.Context, in *TokenListInput) (*Body[catalog.Page[auth.Token]], error) {
	toks, err := h.Auth.ListTokens(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	return &Body[catalog.Page[auth.Token]]{page(toks, in.PageQuery)}, nil
}

// TokenCreate is the body of POST /tokens.
type TokenCreate struct {
	Name    string `json:"name" maxLength:"100" doc:"What the token is for"`
	Expires string `json:"expires,omitempty" doc:"Lifetime such as 30d, 12h or never (the default)" example:"90d"`
	UserID  int64  `json:"user_id,omitempty" doc:"Admins: create the token for this user (default: yourself)"`
}

// TokenCreated carries the secret, the one time it is ever shown; caches must not keep it.
type TokenCreated struct {
	CacheControl string `header:"Cache-Control"`
	Body         auth.NewToken
}

func (h *AccessHandlers) CreateToken(ctx context.Context, in *Body[TokenCreate]) (*TokenCreated, error) {
	tok, err := h.Auth.CreateToken(ctx, auth.TokenInput{UserID: in.Body.UserID, Name: in.Body.Name, Expires: in.Body.Expires})
	if err != nil {
		return nil, err
	}
	return &TokenCreated{CacheControl: "no-store", Body: tok}, nil
}

func (h *AccessHandlers) RevokeToken(ctx context.Context, in *IDPath) (*struct{}, error) {
	_, err := h.Auth.RevokeToken(ctx, in.ID)
	return nil, err
}

// ---- users (admins)

func (h *AccessHandlers) ListUsers(ctx context.Context, in *PageQuery) (*Body[catalog.Page[auth.User]], error) {
	users, err := h.Auth.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	return &Body[catalog.Page[auth.User]]{page(users, *in)}, nil
}

func (h *AccessHandlers) GetUser(ctx context.Context, in *IDPath) (*Body[auth.User], error) {
	return body(h.Auth.GetUser(ctx, in.ID))
}

func (h *AccessHandlers) CreateUser(ctx context.Context, in *Body[auth.UserInput]) (*Created[auth.User], error) {
	u, err := h.Auth.CreateUser(ctx, in.Body)
	return created("users", u.ID, u, err)
}

type UserPatchInput struct {
	IDPath
	Body auth.UserPatch
}

func (h *AccessHandlers) UpdateUser(ctx context.Context, in *UserPatchInput) (*Body[auth.User], error) {
	return body(h.Auth.UpdateUser(ctx, in.ID, in.Body))
}
