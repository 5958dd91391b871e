package iostreams

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles renders text for one stream. When the stream is not a terminal
// every method returns its argument unchanged, so piped output stays plain
// and byte-for-byte predictable.
type Styles struct {
	enabled bool

	bold, faint, success, warning, failure, code lipgloss.Style
}

func newStyles(w io.Writer, enabled bool) *Styles {
	if !enabled {
		return &Styles{}
	}
	r := lipgloss.NewRenderer(w)
	// Only the 16 basic ANSI colours are used, so they follow the user's
	// terminal theme; fixing the profile also means lipgloss never queries
	// the terminal (for its background colour, say) behind our back.
	r.SetColorProfile(termenv.ANSI)
	return &Styles{
		enabled: true,
		bold:    r.NewStyle().Bold(true),
		faint:   r.NewStyle().Faint(true),
		success: r.NewStyle().Foreground(lipgloss.Color("2")),
		warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		failure: r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		code:    r.NewStyle().Foreground(lipgloss.Color("6")),
	}
}

// Enabled reports whether the styles emit escape sequences.
func (s *Styles) Enabled() bool { return s.enabled }

func (s *Styles) render(st lipgloss.Style, text string) string {
	if !s.enabled {
		return text
	}
	return st.Render(text)
}

// Bold emphasises text, such as the keys of a key/value listing.
func (s *Styles) Bold(text string) string { return s.render(s.bold, text) }

// Faint de-emphasises text, such as secondary details.
func (s *Styles) Faint(text string) string { return s.render(s.faint, text) }

// Success marks something that worked (green).
func (s *Styles) Success(text string) string { return s.render(s.success, text) }

// Warning marks something that needs attention (yellow).
func (s *Styles) Warning(text string) string { return s.render(s.warning, text) }

// Error marks a failure (bold red).
func (s *Styles) Error(text string) string { return s.render(s.failure, text) }

// Code marks a command, path or URL the user may copy (cyan).
func (s *Styles) Code(text string) string { return s.render(s.code, text) }
