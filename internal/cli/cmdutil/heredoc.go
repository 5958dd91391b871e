package cmdutil

import "strings"

// Heredoc removes the indentation common to the non-blank lines of s and
// its leading newline, so help text can be indented with the code around it.
func Heredoc(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		} else {
			lines[i] = strings.TrimLeft(l, " \t")
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\n") + "\n"
}

// Paragraphs joins help text parts, each through Heredoc, with one blank
// line between them: parts concatenated as they are run together.
func Paragraphs(parts ...string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strings.TrimRight(Heredoc(p), "\n")
	}
	return strings.Join(out, "\n\n") + "\n"
}

// Examples formats a command's Example text as cobra expects it: Heredoc,
// each line indented by two spaces, no trailing newline.
func Examples(s string) string {
	lines := strings.Split(strings.TrimRight(Heredoc(s), "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
