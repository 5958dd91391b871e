package version

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	buildinfo "github.com/chainctl/chainctl/internal/version"
)

func TestNewCmdVersion(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		output     cmdutil.OutputFormat
		wantOutput cmdutil.OutputFormat
		wantErr    bool
	}{
		{name: "no args", output: cmdutil.OutputTable, wantOutput: cmdutil.OutputTable},
		{name: "json from the global flag", output: cmdutil.OutputJSON, wantOutput: cmdutil.OutputJSON},
		{name: "extra argument", args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: tt.output}}
			var got *VersionOptions
			cmd := NewCmdVersion(f, func(o *VersionOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got.Output != tt.wantOutput {
				t.Errorf("Output = %q, want %q", got.Output, tt.wantOutput)
			}
			if got.Info.Version == "" {
				t.Errorf("Info.Version is empty")
			}
		})
	}
}

func Test_versionRun(t *testing.T) {
	info := buildinfo.Info{Version: "v1.2.3", Commit: "abc123", GoVersion: "go1.26.8"}
	tests := []struct {
		name     string
		info     buildinfo.Info
		output   cmdutil.OutputFormat
		tty      bool
		want     string
		wantANSI bool
	}{
		{
			name:   "table piped",
			info:   info,
			output: cmdutil.OutputTable,
			want:   "version  v1.2.3\ncommit   abc123\ngo       go1.26.8\n",
		},
		{
			name:   "unknown commit",
			info:   buildinfo.Info{Version: "dev", GoVersion: "go1.26.8"},
			output: cmdutil.OutputTable,
			want:   "version  dev\ncommit   unknown\ngo       go1.26.8\n",
		},
		{
			name:   "modified tree",
			info:   buildinfo.Info{Version: "dev", Commit: "abc", Modified: true, GoVersion: "go1.26.8"},
			output: cmdutil.OutputTable,
			want:   "version  dev\ncommit   abc (modified)\ngo       go1.26.8\n",
		},
		{
			name:     "table on a terminal is styled",
			info:     info,
			output:   cmdutil.OutputTable,
			tty:      true,
			wantANSI: true,
		},
		{
			name:   "json is plain even on a terminal",
			info:   buildinfo.Info{Version: "v1.2.3", GoVersion: "go1.26.8"},
			output: cmdutil.OutputJSON,
			tty:    true,
			want:   "{\n  \"version\": \"v1.2.3\",\n  \"commit\": \"\",\n  \"go_version\": \"go1.26.8\"\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			if err := versionRun(&VersionOptions{IO: ios, Output: tt.output, Info: tt.info}); err != nil {
				t.Fatalf("versionRun() = %v", err)
			}
			if tt.want != "" {
				if got := out.String(); got != tt.want {
					t.Errorf("versionRun() output = %q, want %q", got, tt.want)
				}
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.wantANSI {
				t.Errorf("versionRun() styled = %v, want %v: %q", got, tt.wantANSI, out)
			}
			if tt.output == cmdutil.OutputJSON {
				var v map[string]string
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Errorf("output is not JSON: %v", err)
				}
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errOut)
			}
		})
	}
}
