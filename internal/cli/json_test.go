package cli

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/cli/auth/login"
	"github.com/chainctl/chainctl/internal/cli/auth/logout"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/revoke"
	ptshared "github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/auth/status"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	subdelete "github.com/chainctl/chainctl/internal/cli/events/subscriptions/delete"
	iddelete "github.com/chainctl/chainctl/internal/cli/iam/identities/delete"
	idshared "github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
	"github.com/chainctl/chainctl/internal/cli/registry/fsck"
	"github.com/chainctl/chainctl/internal/cli/registry/gc"
	"github.com/chainctl/chainctl/internal/cli/registry/history"
	"github.com/chainctl/chainctl/internal/cli/registry/keys"
	"github.com/chainctl/chainctl/internal/cli/version"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/events"
)

// jsonOutputs names, for every command that supports -o json, values of
// the types its JSON is made of (for API commands, the types the server
// encodes and the CLI passes through). A command that starts to support
// -o json must be added here, so its field names get checked.
var jsonOutputs = map[string][]any{
	"chainctl version":                      {version.JSON{}},
	"chainctl config get":                   {map[string]string{config.UserKeyRegistry: ""}},
	"chainctl config set":                   {map[string]string{config.UserKeyRegistry: ""}},
	"chainctl auth login":                   {login.JSON{}},
	"chainctl auth logout":                  {logout.JSON{}},
	"chainctl auth status":                  {status.JSON{Docker: &status.StoredJSON{}}, []status.JSON{{}}},
	"chainctl auth pull-token create":       {auth.PullTokenView{}, map[string]string{"registry": ""}},
	"chainctl auth pull-token list":         {[]auth.PullTokenView{{}}, []ptshared.PullToken{{}}},
	"chainctl auth pull-token revoke":       {[]map[string]any{{"id": "", revoke.JSONField: true, "error": ""}}},
	"chainctl registry gc":                  {gc.JSON{}},
	"chainctl registry fsck":                {fsck.JSON{Corrupt: []fsck.CorruptJSON{{}}}},
	"chainctl registry keys rotate":         {keys.RotateJSON{}},
	"chainctl iam identities create":        {idshared.Identity{}},
	"chainctl iam identities create github": {idshared.Identity{}},
	"chainctl iam identities create gitlab": {idshared.Identity{}},
	"chainctl iam identities list":          {[]idshared.Identity{{}}},
	"chainctl iam identities describe":      {idshared.Identity{}},
	"chainctl iam identities delete":        {iddelete.JSON{}},
	"chainctl iam identities test":          {idshared.TestResult{Results: []idshared.MatchResult{{Failures: []idshared.MatchFailure{{}}}}}},
	"chainctl events listen":                {events.Data{Error: &events.Error{}}},
	"chainctl events subscriptions create":  {events.SubscriptionView{}},
	"chainctl events subscriptions list":    {[]events.SubscriptionView{{}}},
	"chainctl events subscriptions delete":  {[]map[string]any{{"id": "", subdelete.JSONField: true, "error": ""}}},
	"chainctl events subscriptions enable":  {events.SubscriptionView{}},
	"chainctl events deliveries":            {[]events.DeliveryView{{}}},
	"chainctl events redeliver":             {events.RedeliverResult{}},
	"chainctl events list":                  {events.EventView{}},
	"chainctl events summary":               {events.Summary{Repositories: []events.SummaryRow{{}}, Failures: []events.FailureCount{{}}}},
	"chainctl registry history":             {history.History{History: []events.TagMove{{}}}},
}

// snakeCase is a JSON field name as the API writes them: "logged_in",
// "blob_links", "go_version".
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestJSONFieldStyle walks the command tree: every command that supports
// -o json writes snake_case field names (checked on its types' struct tags
// and on their encoding), and every other command refuses -o json.
func TestJSONFieldStyle(t *testing.T) {
	f, _, _ := testFactory(false)
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if cmdutil.IsGroup(c) {
			return
		}
		path := c.CommandPath()
		t.Run(path, func(t *testing.T) {
			err := cmdutil.CheckOutput(c, cmdutil.OutputJSON)
			if !cmdutil.SupportsJSON(c) {
				if err == nil || !strings.Contains(err.Error(), "does not support --output json") {
					t.Errorf("CheckOutput(%s, json) = %v, want a refusal", path, err)
				}
				return
			}
			if err != nil {
				t.Errorf("CheckOutput(%s, json) = %v", path, err)
			}
			samples, ok := jsonOutputs[path]
			if !ok {
				t.Fatalf("%s supports -o json but is not in jsonOutputs", path)
			}
			seen[path] = true
			for _, v := range samples {
				for _, bad := range nonSnakeFields(reflect.TypeOf(v), reflect.TypeOf(v).String(), map[reflect.Type]bool{}) {
					t.Errorf("%s: JSON field %s is not snake_case", path, bad)
				}
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				var doc any
				if err := json.Unmarshal(b, &doc); err != nil {
					t.Fatal(err)
				}
				for _, bad := range nonSnakeKeys(doc, "") {
					t.Errorf("%s: JSON key %s is not snake_case", path, bad)
				}
			}
		})
	}
	walk(NewCmdRoot(f))
	for path := range jsonOutputs {
		if !seen[path] {
			t.Errorf("jsonOutputs names %q, which is not a command that supports -o json", path)
		}
	}
}

// nonSnakeFields returns the JSON names in t's struct tags (through
// pointers, slices, maps and embedded structs) that are not snake_case.
func nonSnakeFields(t reflect.Type, where string, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var bad []string
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && sf.Anonymous {
			bad = append(bad, nonSnakeFields(sf.Type, where, seen)...)
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if !snakeCase.MatchString(name) {
			bad = append(bad, where+"."+name)
		}
		bad = append(bad, nonSnakeFields(sf.Type, where+"."+name, seen)...)
	}
	return bad
}

// nonSnakeKeys returns the object keys in a decoded JSON document that are
// not snake_case.
func nonSnakeKeys(doc any, where string) []string {
	var bad []string
	switch v := doc.(type) {
	case map[string]any:
		for k, e := range v {
			if !snakeCase.MatchString(k) {
				bad = append(bad, where+"."+k)
			}
			bad = append(bad, nonSnakeKeys(e, where+"."+k)...)
		}
	case []any:
		for _, e := range v {
			bad = append(bad, nonSnakeKeys(e, where+"[]")...)
		}
	}
	return bad
}

// TestOutputJSONRefused: a command without JSON output refuses -o json
// before doing anything, with exit 1 and a JSON error.
func TestOutputJSONRefused(t *testing.T) {
	for _, args := range [][]string{
		{"auth", "token", "-o", "json"},
		{"completion", "bash", "-o", "json"},
		{"auth", "configure-docker", "--registry", "r.example.com", "-o", "json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, out, errOut := testFactory(false)
			if got := Run(t.Context(), f, args); got != ExitError {
				t.Errorf("Run(%q) = %d, want %d", args, got, ExitError)
			}
			if out.Len() != 0 {
				t.Errorf("Run(%q) stdout = %q, want nothing", args, out)
			}
			var r errorReport
			if err := json.Unmarshal(errOut.Bytes(), &r); err != nil || !strings.HasSuffix(r.Error, "does not support --output json") {
				t.Errorf("Run(%q) stderr = %q, want a JSON refusal", args, errOut)
			}
		})
	}
}
