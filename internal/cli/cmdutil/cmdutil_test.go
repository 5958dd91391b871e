package cmdutil

import (
	"errors"
	"testing"

	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestOutputFormatSet(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    OutputFormat
		wantErr bool
	}{
		{name: "table", in: "table", want: OutputTable},
		{name: "json", in: "json", want: OutputJSON},
		{name: "case-insensitive", in: "JSON", want: OutputJSON},
		{name: "unknown", in: "yaml", want: OutputTable, wantErr: true},
		{name: "empty", in: "", want: OutputTable, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := OutputTable
			err := o.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Errorf("Set(%q) = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if o != tt.want {
				t.Errorf("after Set(%q) value = %q, want %q", tt.in, o, tt.want)
			}
		})
	}
}

func TestHeredoc(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "tabs", in: "\n\t\tone\n\t\t  two\n\n\t\tthree\n\t", want: "one\n  two\n\nthree\n"},
		{name: "flush", in: "a\nb", want: "a\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Heredoc(tt.in); got != tt.want {
				t.Errorf("Heredoc(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExamples(t *testing.T) {
	in := "\n\t\t# comment\n\t\t$ chainctl version\n\n\t\t$ chainctl help\n\t"
	want := "  # comment\n  $ chainctl version\n\n  $ chainctl help"
	if got := Examples(in); got != want {
		t.Errorf("Examples(%q) = %q, want %q", in, got, want)
	}
}

func TestErrorsUnwrap(t *testing.T) {
	base := errors.New("base")
	tests := []struct {
		name string
		err  error
	}{
		{name: "flag", err: &FlagError{Err: base}},
		{name: "hint", err: &HintError{Err: base, Hint: "h"}},
		{name: "auth", err: &AuthError{Err: base}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, base) || tt.err.Error() != "base" {
				t.Errorf("%T: Is(base) = %v, Error() = %q", tt.err, errors.Is(tt.err, base), tt.err)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	err := WriteTable(out, ios.OutStyles(), []string{"ID", "NAME"}, [][]string{{"pt-1", "ci"}, {"pt-22", "é"}})
	want := "ID     NAME\npt-1   ci\npt-22  é\n"
	if err != nil || out.String() != want {
		t.Errorf("WriteTable() = %v, output %q, want %q", err, out, want)
	}
}

func TestParagraphs(t *testing.T) {
	got := Paragraphs(`
		First paragraph,
		two lines.
	`, "\n\tSecond.", `
		Third.

		Fourth.
	`)
	want := "First paragraph,\ntwo lines.\n\nSecond.\n\nThird.\n\nFourth.\n"
	if got != want {
		t.Errorf("Paragraphs() = %q, want %q", got, want)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 30: "3.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
