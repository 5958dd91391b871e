// Package ambient finds the OIDC identity token a CI platform or runtime
// already gives a job, so `chainctl auth login` and the credential helper
// work in CI with no stored secret.
//
// # Order
//
// Providers returns one small type per platform, always in this order, with
// no registration:
//
//  1. GitHub Actions
//  2. GitLab CI
//  3. Buildkite
//  4. CircleCI
//  5. Kubernetes projected service-account token
//  6. CHAINCTL_IDENTITY_TOKEN
//
// Detect takes the first provider whose environment is present. If that
// provider then fails, Detect returns its error as a *DetectedError and does
// not try the rest: a job that looks like GitHub Actions but cannot get a
// GitHub token is misconfigured, and logging in as some other identity would
// hide that. If nothing is detected, Detect returns ErrNone.
//
// # GitHub Actions
//
// Detected when ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN are set, which the runner does only when
// the workflow or job grants:
//
//	permissions:
//	  id-token: write
//
// The token is requested with the registry's service name as audience. The
// request URL must be https (plain http only on a loopback address, for
// tests), and redirects are not followed.
//
// # GitLab CI
//
// Declare an ID token in the job, with the registry's service name as
// audience:
//
//	job:
//	  id_tokens:
//	    CHAINCTL_GITLAB_ID_TOKEN:
//	      aud: registry.example.com
//
// Another variable name can be configured with WithGitLabVariable; it is
// checked before CHAINCTL_GITLAB_ID_TOKEN.
//
// # Buildkite
//
// Detected when BUILDKITE=true and buildkite-agent is on PATH. It runs
//
//	buildkite-agent oidc request-token --audience registry.example.com
//
// and needs no pipeline configuration.
//
// # CircleCI
//
// Reads CIRCLE_OIDC_TOKEN_V2, then CIRCLE_OIDC_TOKEN; CircleCI sets them in
// jobs that use a context. CircleCI fixes the audience to the organization
// id and it cannot be requested, so the registry identity used from
// CircleCI must accept the organization id as its audience, not the
// registry's service name.
//
// # Kubernetes
//
// Reads a projected service-account token from the path given by
// WithK8sTokenPath, else CHAINCTL_K8S_TOKEN_PATH, else
// /var/run/secrets/tokens/chainctl-token. Project it with the registry's
// service name as audience:
//
//	volumes:
//	  - name: chainctl-token
//	    projected:
//	      sources:
//	        - serviceAccountToken:
//	            path: chainctl-token
//	            audience: registry.example.com
//	            expirationSeconds: 3600
//
// and mount the volume at /var/run/secrets/tokens. The file is read on every
// call, so the kubelet's rotation is picked up. A path configured
// explicitly counts as detected even when the file is missing, so a broken
// mount is reported rather than skipped; the default path counts only when
// the file exists.
//
// # CHAINCTL_IDENTITY_TOKEN
//
// For anything else: the variable holds either the token itself (recognised
// by its JWT shape) or the path of a file holding it.
//
// # Limits
//
// Every token is trimmed and must be at most MaxTokenSize bytes of printable
// ASCII. HTTP requests and commands are bounded by DefaultTimeout (see
// WithTimeout). Tokens and request tokens never appear in errors, and the
// package neither prints nor logs. Env abstracts environment variables,
// files, commands and HTTP so that tests inject all of them; OSEnv is the
// real one.
package ambient
