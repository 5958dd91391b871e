package shared

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/policy"
)

// Flags are the flags that describe a new pull token, on `pull-token
// create` and on `configure-docker --pull-token`.
type Flags struct {
	Name         string
	Description  string
	Repositories []string
	TTL          string
}

// AddFlags registers --repository, --ttl, --name and --description on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Repositories, "repository", nil,
		"repository `PATTERN` the token may pull: team/app, team/* (everything under team/) or * (repeatable; at least one)")
	fs.StringVar(&f.TTL, "ttl", "", "lifetime of the token, a `DURATION` such as 720h or 30d (default: the registry's, 720h unless configured)")
	fs.StringVar(&f.Name, "name", "", "short `NAME` for lists, such as the cluster or farm that uses the token")
	fs.StringVar(&f.Description, "description", "", "longer `TEXT` for people")
}

// Changed reports whether any of the flags was given on fs.
func (f *Flags) Changed(fs *pflag.FlagSet) bool {
	for _, name := range []string{"repository", "ttl", "name", "description"} {
		if fs.Changed(name) {
			return true
		}
	}
	return false
}

// Request checks the flags and returns the request that creates the
// token. No --repository is a *cmdutil.HintError that shows the pattern
// syntax; an invalid pattern or TTL is a *cmdutil.FlagError. forFlag
// names the flag that asked for a token ("" for create), for the message.
func (f *Flags) Request(forFlag string) (CreateRequest, error) {
	if len(f.Repositories) == 0 {
		msg := "a pull token needs at least one --repository"
		if forFlag != "" {
			msg = "--repository is required with " + forFlag
		}
		return CreateRequest{}, &cmdutil.HintError{Err: errors.New(msg),
			Hint: "pass --repository PATTERN for each repository the token may pull: team/app, team/* (everything under team/) or * (everything)"}
	}
	var repos []string
	for _, r := range f.Repositories {
		for p := range strings.SplitSeq(r, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if err := policy.RepositoryPattern(p).Validate(); err != nil {
				return CreateRequest{}, cmdutil.FlagErrorf("--repository: %v", err)
			}
			repos = append(repos, p)
		}
	}
	if len(repos) == 0 {
		return CreateRequest{}, cmdutil.FlagErrorf("--repository: empty pattern")
	}
	ttl, err := ParseTTL(f.TTL)
	if err != nil {
		return CreateRequest{}, err
	}
	return CreateRequest{
		Name:         strings.TrimSpace(f.Name),
		Description:  strings.TrimSpace(f.Description),
		Repositories: repos,
		TTLSeconds:   int64(ttl / time.Second),
	}, nil
}

// ParseTTL reads --ttl: a Go duration (720h, 90m) or whole days (30d),
// positive and at least a second; "" is 0, the registry's default. It
// returns a *cmdutil.FlagError. The registry's maximum is checked there:
// it is the registry's configuration, not known here.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	bad := func() (time.Duration, error) {
		return 0, cmdutil.FlagErrorf("--ttl %q: want a positive duration such as 720h, 90m or 30d", s)
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n <= 0 || n > int64(time.Duration(1<<63-1)/(24*time.Hour)) {
			return bad()
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return bad()
		}
	}
	if d < time.Second {
		return bad()
	}
	return d, nil
}
