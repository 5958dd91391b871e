package iostreams

import (
	"fmt"
	"strings"
	"testing"
)

func TestStyles(t *testing.T) {
	tests := []struct {
		name      string
		tty       bool
		noColor   bool
		wantStyle bool
	}{
		{name: "piped output is plain", tty: false, wantStyle: false},
		{name: "terminal output is styled", tty: true, wantStyle: true},
		{name: "NO_COLOR on a terminal is plain", tty: true, noColor: true, wantStyle: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := Test()
			ios.SetStdoutTTY(tt.tty)
			ios.SetStderrTTY(tt.tty)
			ios.SetNoColor(tt.noColor)

			for _, st := range []*Styles{ios.OutStyles(), ios.ErrStyles()} {
				if st.Enabled() != tt.wantStyle {
					t.Errorf("Enabled() = %v, want %v", st.Enabled(), tt.wantStyle)
				}
				for _, f := range []func(string) string{st.Bold, st.Faint, st.Success, st.Warning, st.Error, st.Code} {
					got := f("text")
					styled := strings.Contains(got, "\x1b[")
					if styled != tt.wantStyle {
						t.Errorf("style(%q) = %q, styled %v, want %v", "text", got, styled, tt.wantStyle)
					}
					if !strings.Contains(got, "text") {
						t.Errorf("style(%q) = %q, lost the text", "text", got)
					}
				}
			}
			fmt.Fprint(ios.Out, "o")
			fmt.Fprint(ios.ErrOut, "e")
			if out.String() != "o" || errOut.String() != "e" {
				t.Errorf("buffers = %q, %q, want %q, %q", out, errOut, "o", "e")
			}
		})
	}
}

func TestCanPrompt(t *testing.T) {
	tests := []struct {
		name          string
		stdin, stdout bool
		want          bool
	}{
		{name: "both terminals", stdin: true, stdout: true, want: true},
		{name: "stdin piped", stdin: false, stdout: true, want: false},
		{name: "stdout piped", stdin: true, stdout: false, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetStdinTTY(tt.stdin)
			ios.SetStdoutTTY(tt.stdout)
			if got := ios.CanPrompt(); got != tt.want {
				t.Errorf("CanPrompt() = %v, want %v", got, tt.want)
			}
		})
	}
}
