package listen

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
)

// filter selects the events listen handles, by --type, --repository and
// --kind; the zero filter selects all.
type filter struct {
	types []string // "push", "pull"; none is all
	repos []policy.RepositoryPattern
	kinds []string // events.KindManifest, events.KindBlob; none is all
}

// parseFilter reads --type and --repository: comma-separated or repeated,
// the same values as `events subscriptions create` takes.
func parseFilter(types, repos, kinds []string) (filter, error) {
	var f filter
	var err error
	if f.types, err = shared.ParseTypes(types); err != nil {
		return filter{}, err
	}
	for _, v := range repos {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if err := policy.RepositoryPattern(p).Validate(); err != nil {
				return filter{}, cmdutil.FlagErrorf("--repository: %v", err)
			}
			f.repos = append(f.repos, policy.RepositoryPattern(p))
		}
	}
	for _, v := range kinds {
		for k := range strings.SplitSeq(v, ",") {
			switch k = strings.TrimSpace(k); k {
			case "":
			case events.KindManifest, events.KindBlob:
				if !slices.Contains(f.kinds, k) {
					f.kinds = append(f.kinds, k)
				}
			default:
				return filter{}, cmdutil.FlagErrorf("--kind %q: want manifest or blob", k)
			}
		}
	}
	return f, nil
}

// match reports whether ev is one to handle.
func (f filter) match(ev event.Event) bool {
	if len(f.types) > 0 && !slices.Contains(f.types, events.ShortType(ev.Type())) {
		return false
	}
	if len(f.repos) == 0 && len(f.kinds) == 0 {
		return true
	}
	var d events.Data
	_ = json.Unmarshal(ev.Data(), &d) // Verify decoded it already
	if len(f.kinds) > 0 && !slices.Contains(f.kinds, d.Type) {
		return false
	}
	return len(f.repos) == 0 || slices.ContainsFunc(f.repos, func(p policy.RepositoryPattern) bool { return p.Match(d.Repository) })
}
