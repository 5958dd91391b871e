// Package events is the `chainctl events` command group: subscriptions to
// a registry's push and pull events, and a receiver of them.
package events

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/deliveries"
	"github.com/chainctl/chainctl/internal/cli/events/list"
	"github.com/chainctl/chainctl/internal/cli/events/listen"
	"github.com/chainctl/chainctl/internal/cli/events/redeliver"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions"
	"github.com/chainctl/chainctl/internal/cli/events/summary"
)

// NewCmdEvents returns `chainctl events` and its subcommands.
func NewCmdEvents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events <command>",
		Short: "Registry events: the audit log of pushes and pulls, webhooks, and a receiver to try them",
		Long: cmdutil.Heredoc(`
			The registry makes an event of every push and every pull of a manifest (of
			blobs too, with events.blob_pulls), succeeded or failed, and POSTs it to the
			URLs subscribed to the repository ("chainctl events subscriptions create").

			THE EVENT
			A delivery is one CloudEvent 1.0 in binary content mode:
			  ce-specversion  1.0
			  ce-id           the event's id, the same in every attempt to deliver it
			  ce-source       the registry's URL
			  ce-type         dev.chainctl.registry.push.v1 or dev.chainctl.registry.pull.v1
			  ce-subject      repository:tag, or repository@digest
			  ce-time         when the registry served the request
			  Content-Type    application/json
			and its data is the body: {"repository", "tag", "digest", "media_type",
			"type" (manifest or blob), "method", "when", "remote_addr", "user_agent",
			"actor": {"identities", "issuer", "subject", "pull_token", "anonymous"},
			"previous" (the digest a push moved the tag from), "error" (a failed
			request's "status", "code" and "message")}.

			DELIVERY
			At least once. A sink takes an event by answering 2xx. Any other answer, or
			none, and the registry tries again with growing backoff for about a day; the
			event then counts as failed. An answer of 410 Gone disables the subscription.
			So a sink may see an event twice (deduplicate on ce-id), and a retried event
			after later ones (order by ce-time). "chainctl events subscriptions list"
			shows each subscription's pending and failed events and its last error.

			SIGNATURE
			Each delivery carries "Authorization: Bearer <JWT>", signed ES256 by the
			registry's own OIDC issuer, with the claims
			  iss     the registry's issuer: its URL
			  aud     the sink URL, exactly as subscribed
			  sub     subscription:<id>
			  digest  sha256:<hex> of the request body
			  iat     when it was signed; exp a few minutes later
			A receiver verifies a delivery without chainctl, with any JOSE library:
			  1. fetch <registry>/.well-known/openid-configuration, and the JWKS at its
			     jwks_uri; fetch the JWKS again (not more than every few seconds) when a
			     token names a "kid" it does not hold: the registry rotates its keys;
			  2. accept alg ES256 only, and the key the token's "kid" names; check that
			     iss is the document's "issuer", aud the sink's own URL, and exp and iat
			     hold (a minute of leeway);
			  3. hash the body's exact bytes: "digest" must be their sha256;
			  4. then parse the event; the ce-* headers are not signed, so check
			     ce-source against iss and ce-subject against the data.
			Answer 401 to a delivery that fails, without acting on it.

			"chainctl events listen" is such a receiver, for this machine, scripts and
			tests: it verifies each delivery and prints the event.

			THE LOG
			The registry keeps every event for events.retention (7 days by default).
			"chainctl events list" queries it (who pulled what, when, from where) and
			"chainctl events summary" counts it; an owner sees the events of the
			repositories it owns. "chainctl registry history REPO:TAG" shows where a tag
			has pointed.
		`),
		Example: cmdutil.Examples(`
			# Who pulled acme/app:v1 in the last week?
			$ chainctl events list --repository acme/app --tag v1 --type pull --since 7d

			# Deliver the pushes and pulls of acme/* to a webhook
			$ chainctl events subscriptions create https://hooks.example.com/registry --repository 'acme/*'

			# Watch events on this machine (the registry in --dev accepts a loopback sink)
			$ chainctl events listen --addr 127.0.0.1:8080
			$ chainctl events subscriptions create http://127.0.0.1:8080/ --repository 'acme/*'
		`),
	}
	cmd.AddCommand(list.NewCmdList(f, nil), summary.NewCmdSummary(f, nil))
	cmd.AddCommand(subscriptions.NewCmdSubscriptions(f))
	cmd.AddCommand(deliveries.NewCmdDeliveries(f, nil), redeliver.NewCmdRedeliver(f, nil))
	cmd.AddCommand(listen.NewCmdListen(f, nil))
	return cmd
}
