package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// GetV2 GETs /v2/path (path relative and escaped) from the registry,
// with an access token for scopes that the registry's token endpoint
// gives the client's session token, and decodes the JSON answer into
// out. A refused session is an error wrapping session.ErrUnauthorized;
// an error answer is an *Error holding the first OCI error's code and
// message.
func (c *Client) GetV2(ctx context.Context, path string, scopes []string, out any) error {
	tok, _, err := session.AccessToken(ctx, c.base, tokencache.Entry{Kind: tokencache.KindSession, Token: c.token}, scopes,
		session.WithHTTPClient(c.http))
	if err != nil {
		return err
	}
	name := "GET /v2/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/"+path, nil)
	if err != nil {
		return scrub(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	status, data, err := c.send(req, name)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		apiErr := &Error{Status: status}
		var e struct {
			Errors []struct{ Code, Message string } `json:"errors"`
		}
		if json.Unmarshal(data, &e) == nil && len(e.Errors) > 0 {
			apiErr.Code, apiErr.Message = e.Errors[0].Code, e.Errors[0].Message
		}
		return apiErr
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", name, err)
	}
	return nil
}

// IsUnauthorized reports whether err is the registry refusing the
// session (an expired or revoked one).
func IsUnauthorized(err error) bool { return errors.Is(err, session.ErrUnauthorized) }
