package eventexec

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/events"
)

// EnvPrefix starts the names of the variables that describe the event;
// any the listener's environment has are replaced.
const EnvPrefix = "CHAINCTL_EVENT_"

// environ is base without CHAINCTL_EVENT_* variables, plus ev's:
//
//	CHAINCTL_EVENT_TYPE        push or pull (else the CloudEvents type)
//	CHAINCTL_EVENT_KIND        manifest or blob (blob uploads are push events too)
//	CHAINCTL_EVENT_REPOSITORY  acme/app
//	CHAINCTL_EVENT_TAG         v1, or "" (a pull by digest)
//	CHAINCTL_EVENT_DIGEST      sha256:..., or "" (a failed request may have none)
//	CHAINCTL_EVENT_ID          the CloudEvents id, the same for every delivery
//	CHAINCTL_EVENT_SUBJECT     acme/app:v1 or acme/app@sha256:...
//	CHAINCTL_EVENT_ERROR       "" for a request that succeeded, else "404 MANIFEST_UNKNOWN"
//
// Every variable is set, empty when the event has no such field, so
// that none is inherited.
func environ(base []string, ev event.Event) []string {
	var d events.Data
	_ = json.Unmarshal(ev.Data(), &d) // Run decoded it already
	env := make([]string, 0, len(base)+8)
	for _, kv := range base {
		if !strings.HasPrefix(strings.ToUpper(kv), EnvPrefix) {
			env = append(env, kv)
		}
	}
	var failed string
	if e := d.Error; e != nil {
		failed = strconv.Itoa(e.Status) + " " + e.Code
	}
	for _, v := range [...]struct{ name, value string }{
		{"TYPE", events.ShortType(ev.Type())},
		{"KIND", d.Type},
		{"REPOSITORY", d.Repository},
		{"TAG", d.Tag},
		{"DIGEST", d.Digest},
		{"ID", ev.ID()},
		{"SUBJECT", ev.Subject()},
		{"ERROR", failed},
	} {
		env = append(env, EnvPrefix+v.name+"="+v.value)
	}
	return env
}
