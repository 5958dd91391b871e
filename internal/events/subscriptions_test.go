package events_test

import (
	"testing"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
)

func TestSubscriptionSinksRefused(t *testing.T) {
	st := openStore(t)
	subs := events.NewSubscriptions(st, false)
	owner := events.Owner{ID: "alice", Bindings: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"acme/*"}}}}
	create := func(sink string, repos ...string) error {
		if len(repos) == 0 {
			repos = []string{"acme/*"}
		}
		_, err := subs.Create(t.Context(), owner, events.SubscriptionRequest{Sink: sink, Repositories: repos})
		return err
	}
	for _, sink := range []string{
		"http://hooks.example.com/x",         // not https
		"https://127.0.0.1/x",                // loopback
		"https://[::1]/x",                    // loopback, IPv6
		"https://[::ffff:127.0.0.1]/x",       // loopback, IPv4-mapped
		"https://2130706433/x",               // loopback as one number
		"https://0x7f.1/x",                   // loopback in hex, shortened
		"https://017700000001/x",             // loopback in octal
		"https://localhost/x",                // a loopback name
		"https://a.localhost/x",              // a loopback name
		"https://169.254.169.254/latest",     // cloud metadata (link-local)
		"https://10.0.0.1/x",                 // private
		"https://192.168.1.1/x",              // private
		"https://100.64.0.1/x",               // CGNAT
		"https://100.100.100.200/x",          // CGNAT metadata
		"https://[fd00::1]/x",                // unique local
		"https://[fe80::1]/x",                // link-local, IPv6
		"https://224.0.0.1/x",                // multicast
		"https://0.0.0.0/x",                  // unspecified
		"https://user:pw@hooks.example.com/", // user info
		"ftp://hooks.example.com/",
		"hooks.example.com/x",
		"",
	} {
		if err := create(sink); refusal(err) != events.KindInvalid {
			t.Errorf("sink %q: %v, want refused as invalid", sink, err)
		}
	}
	if err := create("https://hooks.example.com/registry"); err != nil {
		t.Errorf("a public https sink: %v", err)
	}
	if err := create("https://hooks.example.com/registry", "other/*"); refusal(err) != events.KindForbidden {
		t.Errorf("a subscription outside the caller's repositories: %v, want forbidden", err)
	}
	// In --dev, loopback receivers (chainctl events listen) are allowed,
	// other private addresses still not.
	subs.AllowLoopbackSinks()
	if err := create("http://127.0.0.1:8080/"); err != nil {
		t.Errorf("a loopback sink in dev: %v", err)
	}
	if err := create("http://10.0.0.1:8080/"); err == nil {
		t.Error("a private sink in dev was accepted")
	}
}
