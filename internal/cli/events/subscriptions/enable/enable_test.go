package enable

import (
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

const subID = "sub-aaaaaaaaaaaaaaaaaaaa"

func Test_enableRun(t *testing.T) {
	path := "/api/v1/subscriptions/" + subID + "/enable"
	sub := `{"id":"` + subID + `","sink":"https://h.example.com/x","disabled":false}`
	t.Run("enabled", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "POST", Path: path, WantBody: `{}`, Status: 200, Body: sub})
		ios, _, out, errOut := iostreams.Test()
		if err := enableRun(t.Context(), &EnableOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), ID: subID}); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || errOut.String() != "✓ Subscription "+subID+" is enabled: events go to https://h.example.com/x\n" {
			t.Errorf("stdout %q, stderr %q", out, errOut)
		}
	})
	t.Run("json", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "POST", Path: path, Status: 200, Body: sub})
		ios, _, out, _ := iostreams.Test()
		if err := enableRun(t.Context(), &EnableOptions{Remote: reg.Remote(ios, cmdutil.OutputJSON), ID: subID}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"id": "`+subID+`"`) {
			t.Errorf("json = %s", out)
		}
	})
	t.Run("not found", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "POST", Path: path, Status: 404, Body: `{"error":"not_found","message":"no"}`})
		ios, _, _, _ := iostreams.Test()
		err := enableRun(t.Context(), &EnableOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), ID: subID})
		if err == nil || !strings.Contains(err.Error(), "no subscription "+subID) {
			t.Errorf("enableRun() = %v", err)
		}
	})
}
