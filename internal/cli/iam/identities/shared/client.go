// Package shared is what the `chainctl iam identities` commands share: the
// /api/v1/identities API as typed calls on an api.Client, the wording of
// its errors, and the printing of identities.
package shared

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/policy"
)

// Identity is an identity as the API returns it: the rule, where it comes
// from ("config" for the server's configuration file, "api" for one made
// through the API), and, for API identities, when and by whom it was made.
type Identity struct {
	policy.Identity
	Source string `json:"source,omitempty"`
	// Created is an RFC 3339 time; it is kept as text so that an
	// identity without one (from the configuration) still decodes.
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// TestResult is the answer of POST /api/v1/identities/test: the token's
// issuer and subject, Error if the token could not be verified, and one
// result per identity.
type TestResult struct {
	Issuer  string        `json:"issuer"`
	Subject string        `json:"subject"`
	Error   string        `json:"error,omitempty"`
	Results []MatchResult `json:"results"`
}

// MatchResult says whether the token matched one identity and, if not,
// which checks failed.
type MatchResult struct {
	ID       string         `json:"id"`
	Name     string         `json:"name,omitempty"`
	Matched  bool           `json:"matched"`
	Failures []MatchFailure `json:"failures,omitempty"`
}

// MatchFailure is one check an identity made that the token failed.
type MatchFailure struct {
	Check  string `json:"check,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Claim  string `json:"claim,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ListIdentities returns every identity the caller may see.
func ListIdentities(ctx context.Context, c *api.Client) ([]Identity, error) {
	var resp struct {
		Identities []Identity `json:"identities"`
	}
	if err := c.Do(ctx, http.MethodGet, "identities", nil, &resp); err != nil {
		return nil, err
	}
	return resp.Identities, nil
}

// GetIdentity returns the identity id; the error is an *api.Error with
// Status 404 if there is none.
func GetIdentity(ctx context.Context, c *api.Client, id string) (*Identity, error) {
	var out Identity
	if err := c.Do(ctx, http.MethodGet, api.Path("identities", id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateIdentity stores id and returns it as stored.
func CreateIdentity(ctx context.Context, c *api.Client, id policy.Identity) (*Identity, error) {
	var out Identity
	if err := c.Do(ctx, http.MethodPost, "identities", id, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteIdentity removes the identity id.
func DeleteIdentity(ctx context.Context, c *api.Client, id string) error {
	return c.Do(ctx, http.MethodDelete, api.Path("identities", id), nil, nil)
}

// TestToken asks which identities accept the upstream ID token idToken.
func TestToken(ctx context.Context, c *api.Client, idToken string) (*TestResult, error) {
	var out TestResult
	body := struct {
		Token string `json:"token"`
	}{idToken}
	if err := c.Do(ctx, http.MethodPost, "identities/test", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MapError is api.MapError worded for identities: a 403 says owners
// manage identities, and a 404 for id (when id is not "") names it.
func MapError(err error, id string) error {
	text := api.ErrorText{Forbidden: "managing identities needs the owner role on every repository the identity's roles name"}
	if id != "" {
		text.NotFound = fmt.Sprintf("no identity %q", id)
	}
	return api.MapError(err, text)
}
