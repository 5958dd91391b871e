package serve

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chainctl/chainctl/internal/apiv1"
	"github.com/chainctl/chainctl/internal/atomicfile"
	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/oidc/devidp"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/server"
	"github.com/chainctl/chainctl/internal/store"
)

// devIdentityID names the identity --dev adds for its development user.
const devIdentityID = "dev"

// authStack is everything behind the registry's access checks.
type authStack struct {
	service *auth.Service
	issuer  *issuer.Issuer
	dev     *devidp.Provider
	routes  []server.Option
}

// buildAuth makes the registry's own issuer (keys in the metadata store),
// the verifier of upstream tokens (only the configured issuers), the
// development identity provider in --dev mode, and the token service
// that every registry route consults. externalURL is the registry's public
// base URL.
//
// The metadata store keeps the issuer's keys and the identities created
// through /api/v1/identities.
func buildAuth(ctx context.Context, cfg *config.Serve, externalURL string, meta store.Store, subs *events.Subscriptions, log *slog.Logger) (*authStack, error) {
	a := cfg.Auth
	keys, sealed, err := backend.SigningKeys(ctx, cfg, meta, log)
	if err != nil {
		return nil, err
	}
	iss, err := issuer.New(ctx, keys,
		issuer.WithIssuerURL(externalURL),
		issuer.WithTokenEndpoint(externalURL+"/oauth/token"),
		issuer.WithMaxTokenLifetime(max(a.MaxSessionTTL, a.AccessTokenTTL)),
		issuer.WithRotationAge(a.KeyRotation),
		issuer.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("start the token issuer: %w", err)
	}
	if sealed.ClearActive > 0 {
		// Whoever copied the database before holds those keys: retire
		// them. Tokens they signed keep verifying until they expire.
		kid, err := iss.Rotate(ctx)
		if err != nil {
			return nil, fmt.Errorf("retire signing keys that were stored in the clear: %w", err)
		}
		log.Info("rotated the signing key: the previous ones were stored in the clear", "kid", kid)
	}
	st := &authStack{issuer: iss}
	identities := slices.Clone(a.Identities)
	login := auth.LoginConfig{Issuer: a.Login.Issuer, ClientID: a.Login.ClientID}
	if cfg.Dev {
		st.dev, err = devidp.New(externalURL+"/dev-idp", devidp.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("start the development identity provider: %w", err)
		}
		identities = append(identities, policy.Identity{
			ID: devIdentityID, Name: "development user (--dev)",
			Issuer: st.dev.Issuer(), Subject: st.dev.User().Subject, Audience: st.dev.ClientID(),
			Roles: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{policy.PatternAll}}},
		})
		login = auth.LoginConfig{Issuer: st.dev.Issuer(), ClientID: st.dev.ClientID(), Scopes: st.dev.Scopes()}
		st.routes = append(st.routes, server.WithRoute("/dev-idp/", "dev-idp", st.dev.Handler()))
	}
	// Only the issuers of current identities (configured or created
	// through the API) are ever contacted: the service says which.
	for _, id := range identities {
		if len(id.IssuerKeys) == 0 {
			if err := upstream.ValidateIssuer(upstream.Issuer{URL: id.Issuer}); err != nil {
				return nil, fmt.Errorf("identity issuers: %w", err)
			}
		}
	}
	login.Service = a.Service
	login.TokenEndpoint = externalURL + "/token"
	login.TokenExchangeEndpoint = externalURL + "/oauth/token"
	svc, err := auth.NewService(
		auth.WithSigner(iss),
		auth.WithDiscovery(upstream.WithLogger(log)),
		auth.WithLoginConfig(login),
		auth.WithServiceName(a.Service),
		auth.WithRealm(externalURL+"/token"),
		auth.WithPublicRepositories(a.PublicRepositories...),
		auth.WithIdentities(identities...),
		auth.WithIdentityStore(meta),
		auth.WithPullTokens(meta, a.PullTokenMaxTTL),
		auth.WithTokenLifetimes(a.AccessTokenTTL, a.SessionTTL, a.MaxSessionTTL),
		auth.WithServiceLogger(log))
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if err := svc.RefreshIdentities(ctx); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if err := svc.RefreshPullTokens(ctx); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	st.service = svc
	for _, r := range svc.Routes() {
		st.routes = append(st.routes, server.WithRoute(r.Path, r.Name, r.Handler))
	}
	st.routes = append(st.routes, server.WithRoute(apiv1.Prefix, "api", apiv1.New(svc, apiv1.WithPullTokens(svc), apiv1.WithSubscriptions(subs),
		apiv1.WithEventLog(events.NewLog(meta)), apiv1.WithRealm(a.Service), apiv1.WithLogger(log))))
	st.routes = append(st.routes,
		server.WithRoute(issuer.DiscoveryPath, "oidc", iss.Handler()),
		server.WithRoute(issuer.JWKSPath, "oidc", iss.Handler()),
	)
	return st, nil
}

// rotateKeys rotates the signing key when it reaches its configured age and
// drops retired keys no token can still need, checked every minute (so a
// rotation on another replica is picked up soon), until ctx ends.
func rotateKeys(ctx context.Context, log *slog.Logger, iss *issuer.Issuer) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if rotated, err := iss.MaybeRotate(ctx); err != nil && ctx.Err() == nil {
			log.Warn("rotate signing keys", "error", err.Error())
		} else if rotated {
			log.Info("rotated the token signing key")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devSessionFile holds, in dev mode, a session token of the development
// user, so that docker, crane and oras can log in without a browser.
const devSessionFile = "dev-session-token"

// writeDevSession mints a session for the development user and writes it,
// owner-only, into dir: a secret goes to a 0600 file, never to the log.
func writeDevSession(ctx context.Context, st *authStack, dir string, ttl time.Duration) (string, error) {
	tok, err := st.service.MintSession(ctx, devIdentityID,
		&issuer.Actor{Issuer: st.dev.Issuer(), Subject: st.dev.User().Subject}, ttl)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, devSessionFile)
	return path, atomicfile.Write(path, []byte(tok+"\n"), 0o600, "")
}
