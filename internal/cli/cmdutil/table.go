package cmdutil

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chainctl/chainctl/internal/iostreams"
)

// WriteTable writes rows under header as columns two spaces apart. On a
// terminal the header is bold; piped output is plain text.
func WriteTable(w io.Writer, st *iostreams.Styles, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string, style func(string) string) error {
		var b strings.Builder
		for i, c := range cells {
			if i == len(cells)-1 {
				b.WriteString(style(c)) // no trailing spaces
				break
			}
			b.WriteString(style(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))))
			b.WriteString("  ")
		}
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String())
		return err
	}
	if err := line(header, st.Bold); err != nil {
		return err
	}
	for _, r := range rows {
		if err := line(r, func(s string) string { return s }); err != nil {
			return err
		}
	}
	return nil
}

// OneLine keeps text from a registry or a sink in one table cell or line,
// and the terminal in its state, whatever it holds: control characters
// (escape sequences included) become spaces, and runs of spaces one.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
}
