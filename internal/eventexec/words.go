package eventexec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrShellSyntax is wrapped by Split's errors for text that a shell would
// treat specially (pipes, redirections, variables, globs...) and that
// Split, which runs no shell, would otherwise pass on literally.
var ErrShellSyntax = errors.New("shell syntax without a shell")

// Split breaks a command line into words the way a POSIX shell splits a
// simple command, and does nothing else a shell does: no variables, no
// globs, no pipes or redirections, no command substitution.
//
// Words are separated by unquoted blanks (space, tab, newline). Within a
// word, 'single quotes' keep everything literally; "double quotes" keep
// everything but a backslash before one of \ " $ ` (which stands for that
// character) or before a newline (which is removed); outside quotes a
// backslash keeps the next character literally ("\ " is a space inside a
// word). Quotes may start and end inside a word (a'b c'd is one word),
// and "" is an empty word.
//
// Characters a shell would act on are refused rather than passed on, so
// that a command line never means one thing to its author and another
// here: unquoted | & ; < > ( ) * ? [ and #, ~ at the start of a word, and
// $ or ` unless single-quoted or escaped. Such errors wrap ErrShellSyntax;
// quote the character, or run a shell explicitly (sh -c '...'). An
// unterminated quote or a trailing backslash is an error too. An empty or
// blank line is nil words and no error.
func Split(line string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool // a word has started, perhaps empty ("")
	)
	end := func() {
		if inWord {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			end()
		case c == '\\':
			if i+1 == len(rs) {
				return nil, errors.New("command ends with a backslash")
			}
			i++
			if rs[i] != '\n' { // backslash-newline continues the line
				word.WriteRune(rs[i])
				inWord = true
			}
		case c == '\'':
			j := indexRune(rs, i+1, '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(string(rs[i+1 : j]))
			inWord, i = true, j
		case c == '"':
			j, err := doubleQuoted(rs, i+1, &word)
			if err != nil {
				return nil, err
			}
			inWord, i = true, j
		default:
			if err := special(c, !inWord); err != nil {
				return nil, err
			}
			word.WriteRune(c)
			inWord = true
		}
	}
	end()
	return words, nil
}

// doubleQuoted reads a double-quoted string from rs[i:] (after the
// opening quote) into w, and returns the index of the closing quote.
func doubleQuoted(rs []rune, i int, w *strings.Builder) (int, error) {
	for ; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(rs) {
				switch n := rs[i+1]; n {
				case '\\', '"', '$', '`':
					w.WriteRune(n)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			w.WriteRune(c)
		case '$', '`':
			return 0, fmt.Errorf("%w: %q expands in a shell, even in double quotes: escape it (\\%c), single-quote it, or run sh -c", ErrShellSyntax, c, c)
		default:
			w.WriteRune(c)
		}
	}
	return 0, errors.New("unterminated double quote")
}

// special refuses an unquoted character a shell would act on; first is
// whether it starts a word.
func special(c rune, first bool) error {
	var what string
	switch {
	case strings.ContainsRune("|&;<>()", c):
		what = "is a shell operator"
	case c == '$' || c == '`':
		what = "expands in a shell"
	case strings.ContainsRune("*?[", c):
		what = "is a shell glob"
	case first && c == '#':
		what = "starts a shell comment"
	case first && c == '~':
		what = "is a shell home directory"
	default:
		return nil
	}
	return fmt.Errorf("%w: unquoted %q %s: quote it, or run a shell explicitly (sh -c '...')", ErrShellSyntax, c, what)
}

func indexRune(rs []rune, from int, c rune) int {
	for j := from; j < len(rs); j++ {
		if rs[j] == c {
			return j
		}
	}
	return -1
}
