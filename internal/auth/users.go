package auth

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// User is a person who may sign in, as both faces and the CLI show them: never the hash.
type User struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Role        Role       `json:"role"`
	Disabled    bool       `json:"disabled"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

func userFromRow(r db.User) User {
	return User{ID: r.ID, Email: r.Email, Role: Role(r.Role), Disabled: r.DisabledAt != nil,
		DisabledAt: utcPtr(r.DisabledAt), LastLoginAt: utcPtr(r.LastLoginAt), CreatedAt: r.CreatedAt.UTC()}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// UserInput creates a user.
type UserInput struct {
	Email    string `json:"email"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

func normalizeEmail(s string) string { return strings.TrimSpace(s) }

func validEmail(f *apperr.Fields, field, email string) {
	switch {
	case !f.Text(field, email):
	case email == "":
		f.Add(field, "is required")
	case len(email) > 254:
		f.Add(field, "must be at most 254 characters")
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || a.Name != "" {
			f.Add(field, "must be an email address like ada@example.com")
		}
	}
}

// ValidatePassword checks a new password's length (the only rule NIST SP 800-63B keeps).
func ValidatePassword(f *apperr.Fields, field, password string) {
	switch n := len([]rune(password)); {
	case !f.Text(field, password):
	case n < MinPasswordLen:
		f.Add(field, "must be at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		f.Add(field, "must be at most %d bytes", MaxPasswordLen)
	}
}

// CreateUser adds a user (admins only).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	if _, err := require(ctx, Admin); err != nil {
		return User{}, err
	}
	email := normalizeEmail(in.Email)
	var f apperr.Fields
	validEmail(&f, "email", email)
	role, ok := ParseRole(in.Role)
	if !ok {
		f.Add("role", "must be one of admin, operator, viewer")
	}
	ValidatePassword(&f, "password", in.Password)
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(ctx, in.Password, s.params)
	if err != nil {
		return User{}, apperr.Wrap(err, "cannot hash the password")
	}
	var out User
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.CreateUser(ctx, db.CreateUserParams{Email: email, PasswordHash: hash, Role: string(role)})
		if err != nil {
			return err
		}
		out = userFromRow(row)
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindUser, EntityID: row.ID, EntityName: row.Email,
			Changes: map[string]any{"email": row.Email, "role": row.Role, "password": "(set)"}})
	})
	if db.IsUniqueViolation(err) {
		return User{}, &apperr.Error{Code: apperr.Conflict, Message: "a user with this email already exists",
			Fields: []apperr.FieldError{{Field: "email", Message: "is already used by another user"}}, Err: err}
	}
	return out, db.Translate(err, "user")
}

// ListUsers lists every user (admins only).
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	if _, err := require(ctx, Admin); err != nil {
		return nil, err
	}
	rows, err := s.q.ListUsers(ctx)
	if err != nil {
		return nil, db.Translate(err, "user")
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = userFromRow(r)
	}
	return out, nil
}

// GetUser returns one user (admins, or the user themselves).
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	p, ok := FromContext(ctx)
	if !ok || (p.UserID != id && !p.Role.AtLeast(Admin)) {
		return User{}, apperr.E(apperr.NotFound, "user not found")
	}
	row, err := s.q.GetUser(ctx, id)
	return userFromRow(row), db.Translate(err, "user")
}

// UserByEmail finds a user by email, case-insensitively (admins only).
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	if _, err := require(ctx, Admin); err != nil {
		return User{}, err
	}
	row, err := s.q.GetUserByEmail(ctx, normalizeEmail(email))
	if err != nil {
		return User{}, db.Translate(err, "user")
	}
	return userFromRow(row), nil
}

// UserPatch changes some of a user's settings; nil fields are kept.
type UserPatch struct {
	Role     *string `json:"role,omitempty" doc:"admin, operator or viewer"`
	Disabled *bool   `json:"disabled,omitempty" doc:"true signs the user out everywhere and stops their tokens"`
	Password *string `json:"password,omitempty" doc:"A new password (at least 12 characters); write-only. Ends the user's console sessions; their API tokens keep working"`
}

// SetRole changes a user's role (admins only).
func (s *Service) SetRole(ctx context.Context, id int64, role string) (User, error) {
	return s.UpdateUser(ctx, id, UserPatch{Role: &role})
}

// SetDisabled disables (or re-enables) a user (admins only). A disabled user's sessions
// and tokens stop working at their next request.
func (s *Service) SetDisabled(ctx context.Context, id int64, disabled bool) (User, error) {
	return s.UpdateUser(ctx, id, UserPatch{Disabled: &disabled})
}

// UpdateUser applies a patch (admins only), all of it or nothing: every field is
// validated before anything is written, and the writes share one transaction. The last
// active admin can be neither demoted nor disabled, so Rosetta is never left without
// someone who can manage users.
func (s *Service) UpdateUser(ctx context.Context, id int64, in UserPatch) (User, error) {
	if _, err := require(ctx, Admin); err != nil {
		return User{}, err
	}
	var f apperr.Fields
	var role Role
	if in.Role != nil {
		var ok bool
		if role, ok = ParseRole(*in.Role); !ok {
			f.Add("role", "must be one of admin, operator, viewer")
		}
	}
	if in.Password != nil {
		ValidatePassword(&f, "password", *in.Password)
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	var hash string
	if in.Password != nil {
		var err error
		if hash, err = HashPassword(ctx, *in.Password, s.params); err != nil {
			return User{}, apperr.Wrap(err, "cannot hash the password")
		}
	}
	var out User
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		admins, err := q.LockActiveAdmins(ctx)
		if err != nil {
			return err
		}
		cur, err := q.GetUserForUpdate(ctx, id)
		if err != nil {
			return err
		}
		row, changes := cur, map[string]any{}
		wasDisabled := cur.DisabledAt != nil
		finalRole, finalDisabled := Role(cur.Role), wasDisabled
		if in.Role != nil {
			finalRole = role
		}
		if in.Disabled != nil {
			finalDisabled = *in.Disabled
		}
		activeAdminBefore := cur.Role == string(Admin) && !wasDisabled
		activeAdminAfter := finalRole == Admin && !finalDisabled
		if activeAdminBefore && !activeAdminAfter && len(admins) <= 1 {
			return apperr.E(apperr.Conflict, "%s is the only active admin; make someone else an admin first", cur.Email)
		}
		if in.Role != nil && string(role) != row.Role {
			if row, err = q.SetUserRole(ctx, db.SetUserRoleParams{ID: id, Role: string(role)}); err != nil {
				return err
			}
			changes["role"] = map[string]any{"from": cur.Role, "to": row.Role}
		}
		if in.Disabled != nil && *in.Disabled != wasDisabled {
			if row, err = q.SetUserDisabled(ctx, db.SetUserDisabledParams{ID: id, Disabled: *in.Disabled}); err != nil {
				return err
			}
			changes["disabled"] = map[string]any{"from": wasDisabled, "to": *in.Disabled}
		}
		if in.Password != nil {
			if row, err = q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: id, PasswordHash: hash}); err != nil {
				return err
			}
			changes["password"] = "(changed)"
		}
		out = userFromRow(row)
		if len(changes) == 0 {
			return nil
		}
		action := "update"
		if _, only := changes["disabled"]; only && len(changes) == 1 {
			action = map[bool]string{true: "disable", false: "enable"}[*in.Disabled]
		}
		return s.record(ctx, tx, AuditEvent{Action: action, EntityKind: KindUser, EntityID: id, EntityName: row.Email, Changes: changes})
	})
	if err == nil {
		// A new role or a disabled owner applies to the user's tokens on this instance
		// at once (other instances: within the token cache's TTL).
		s.tokens.evictUser(id)
		s.sessionUsers.evictUser(id)
	}
	return out, db.Translate(err, "user")
}

// SetPassword replaces a user's password (admins, or the user themselves). Every console
// session of the user ends (see SessionPrincipal); their API tokens keep working.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) error {
	p, ok := FromContext(ctx)
	if !ok || (p.UserID != id && !p.Role.AtLeast(Admin)) {
		return apperr.E(apperr.NotFound, "user not found")
	}
	var f apperr.Fields
	ValidatePassword(&f, "password", password)
	if err := f.Err(); err != nil {
		return err
	}
	_, err := s.setPassword(ctx, id, password)
	return err
}

// ChangeOwnPassword replaces the signed-in user's password after checking the current
// one, and returns the user's new session epoch: the caller keeps its own session by
// storing it, while every other session of the user ends.
func (s *Service) ChangeOwnPassword(ctx context.Context, current, password string) (epoch int64, err error) {
	p, ok := FromContext(ctx)
	if !ok || p.UserID == 0 {
		return 0, apperr.E(apperr.Unauthorized, "sign in first")
	}
	var f apperr.Fields
	if f.Text("current_password", current) {
		row, err := s.q.GetUser(ctx, p.UserID)
		if err != nil {
			return 0, db.Translate(err, "user")
		}
		ok := false
		if len(current) <= MaxPasswordLen {
			if ok, err = VerifyPassword(ctx, current, row.PasswordHash); err != nil {
				return 0, apperr.Wrap(err, "cannot verify the password of user %d", row.ID)
			}
		}
		if !ok {
			f.Add("current_password", "is not your current password")
		}
	}
	ValidatePassword(&f, "password", password)
	if err := f.Err(); err != nil {
		return 0, err
	}
	row, err := s.setPassword(ctx, p.UserID, password)
	return row.SessionEpoch, err
}

func (s *Service) setPassword(ctx context.Context, id int64, password string) (db.User, error) {
	hash, err := HashPassword(ctx, password, s.params)
	if err != nil {
		return db.User{}, apperr.Wrap(err, "cannot hash the password")
	}
	var out db.User
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: id, PasswordHash: hash})
		if err != nil {
			return err
		}
		out = row
		return s.record(ctx, tx, AuditEvent{Action: "update", EntityKind: KindUser, EntityID: id, EntityName: row.Email,
			Changes: map[string]any{"password": "(changed)"}})
	})
	if err == nil {
		// The epoch moved on: sessions signed in before end at once on this instance.
		s.sessionUsers.evictUser(id)
	}
	return out, db.Translate(err, "user")
}

// FirstAdminEmail is the account development creates on an empty database.
const FirstAdminEmail = "admin@localhost"

// EnsureFirstAdmin creates FirstAdminEmail as an admin with a generated password when
// there are no users at all, and returns that password (shown once, never stored in
// clear). created is false when users already exist, including when another instance
// won the race to create the first one.
func (s *Service) EnsureFirstAdmin(ctx context.Context) (email, password string, created bool, err error) {
	n, err := s.q.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", "", false, db.Translate(err, "user")
	}
	password = GeneratePassword()
	hash, err := HashPassword(ctx, password, s.params)
	if err != nil {
		return "", "", false, apperr.Wrap(err, "cannot hash the password")
	}
	ctx = WithPrincipal(ctx, Principal{Email: "first-run", Role: Admin})
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.CreateFirstUser(ctx, db.CreateFirstUserParams{Email: FirstAdminEmail, PasswordHash: hash, Role: string(Admin)})
		if err != nil {
			return err
		}
		created = true
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindUser, EntityID: row.ID, EntityName: row.Email,
			Changes: map[string]any{"email": row.Email, "role": row.Role, "password": "(generated)"}})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, db.Translate(err, "user")
	}
	return FirstAdminEmail, password, created, nil
}

// CountUsers is how many users exist (first-run decides from it).
func (s *Service) CountUsers(ctx context.Context) (int64, error) {
	n, err := s.q.CountUsers(ctx)
	return n, db.Translate(err, "user")
}
