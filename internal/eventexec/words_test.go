package eventexec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    []string
		wantErr string // "" for none; "shell" for ErrShellSyntax
	}{
		{name: "empty", line: "", want: nil},
		{name: "blank", line: " \t\n ", want: nil},
		{name: "words", line: "  deploy  --env\tprod\n now ", want: []string{"deploy", "--env", "prod", "now"}},
		{name: "single quotes", line: `echo 'a  b' '$HOME|*' 'it''s'`, want: []string{"echo", "a  b", "$HOME|*", "its"}},
		{name: "double quotes", line: `echo "a  'b'" "x\"y" "\\" "\$x" "\a" "\` + "`" + `"`, want: []string{"echo", "a  'b'", `x"y`, `\`, "$x", `\a`, "`"}},
		{name: "quotes inside a word", line: `a'b c'd"e f"g`, want: []string{"ab cde fg"}},
		{name: "empty words", line: `x "" '' y`, want: []string{"x", "", "", "y"}},
		{name: "backslash", line: `a\ b \$HOME \| c\\d`, want: []string{"a b", "$HOME", "|", `c\d`}},
		{name: "backslash newline", line: "a \\\nb \"c\\\nd\"", want: []string{"a", "b", "cd"}},
		{name: "sh -c", line: `sh -c 'echo "$CHAINCTL_EVENT_TAG" | tee -a log'`, want: []string{"sh", "-c", `echo "$CHAINCTL_EVENT_TAG" | tee -a log`}},
		{name: "sh -c in double quotes, as --help shows it", line: `sh -c "deploy \"\$CHAINCTL_EVENT_TAG\""`, want: []string{"sh", "-c", `deploy "$CHAINCTL_EVENT_TAG"`}},
		{name: "hash and tilde inside a word", line: "a#b x~y", want: []string{"a#b", "x~y"}},
		{name: "unicode", line: `écho "naïve café"`, want: []string{"écho", "naïve café"}},
		{name: "pipe", line: "a | b", wantErr: "shell"},
		{name: "pipe in a word", line: "a|b", wantErr: "shell"},
		{name: "and", line: "a && b", wantErr: "shell"},
		{name: "semicolon", line: "a; b", wantErr: "shell"},
		{name: "redirection", line: "a > out", wantErr: "shell"},
		{name: "subshell", line: "(a)", wantErr: "shell"},
		{name: "variable", line: "echo $HOME", wantErr: "shell"},
		{name: "variable in double quotes", line: `echo "$HOME"`, wantErr: "shell"},
		{name: "backquote", line: "echo `id`", wantErr: "shell"},
		{name: "glob", line: "rm *.tmp", wantErr: "shell"},
		{name: "question mark", line: "ls a?", wantErr: "shell"},
		{name: "bracket", line: "ls [ab]", wantErr: "shell"},
		{name: "comment", line: "deploy # now", wantErr: "shell"},
		{name: "tilde", line: "~/bin/deploy", wantErr: "shell"},
		{name: "unterminated single quote", line: "echo 'a", wantErr: "unterminated single quote"},
		{name: "unterminated double quote", line: `echo "a`, wantErr: "unterminated double quote"},
		{name: "escaped closing quote", line: `echo "a\"`, wantErr: "unterminated double quote"},
		{name: "trailing backslash", line: `echo a\`, wantErr: "ends with a backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.line)
			switch {
			case tt.wantErr == "shell":
				if !errors.Is(err, ErrShellSyntax) || !strings.Contains(err.Error(), "sh -c") {
					t.Errorf("Split(%q) = %q, %v, want an ErrShellSyntax pointing to sh -c", tt.line, got, err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Split(%q) = %q, %v, want an error with %q", tt.line, got, err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("Split(%q) = %v", tt.line, err)
			case !slices.Equal(got, tt.want):
				t.Errorf("Split(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}
