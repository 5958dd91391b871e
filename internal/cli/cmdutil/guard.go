package cmdutil

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// UnknownCommandError is a word where a subcommand of Parent was expected
// that names none of them: "chainctl registry srve". Suggestions are the
// full paths of the commands the user probably meant.
type UnknownCommandError struct {
	Parent      string // the command path the word followed, "chainctl registry"
	Name        string // the word, "srve"
	Suggestions []string
}

func (e *UnknownCommandError) Error() string {
	return fmt.Sprintf("unknown command %q for %q", e.Name, e.Parent)
}

// Guard holds every command of root's tree to the same rules for wrong
// input. Call it once, after the tree is built.
//
//   - A command that only groups subcommands (one with no Run of its own)
//     refuses what is not one of its subcommands, at any depth, with an
//     *UnknownCommandError: cobra would print its help and exit 0, so that
//     a typo in a CI step or a service unit looked like success. Run
//     alone, it still prints its help.
//   - A wrong number of arguments (cobra.ExactArgs and the like) is a
//     *FlagError, as a wrong flag is, so both are reported the same way.
func Guard(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return &FlagError{Err: err}
				}
				return nil
			}
		}
		if !c.Runnable() && c.HasSubCommands() {
			if c.SuggestionsMinimumDistance <= 0 {
				c.SuggestionsMinimumDistance = 2 // what cobra uses for the root
			}
			c.Args = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return nil
				}
				return NewUnknownCommandError(cmd, args[0])
			}
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			setAnnotation(c, groupAnnotation)
			// A group has no flags of its own, so in "chainctl auth
			// configure-dokcer --registry x" the flag fails to parse
			// before the word is looked at; the word is the mistake.
			c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
				if cmd.Flags().NArg() > 0 {
					return NewUnknownCommandError(cmd, cmd.Flags().Arg(0))
				}
				return &FlagError{Err: err}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// Being runnable now, a group's usage would show "chainctl auth
	// <command> [flags]" above "chainctl auth [command]".
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}",
		`{{if and .Runnable (ne (index .Annotations "`+groupAnnotation+`") "true")}}`, 1))
}

// NewUnknownCommandError describes name, given where a subcommand of
// parent was expected. It suggests parent's subcommands whose names are
// close to name (cobra's Levenshtein distance or prefix rule, and their
// SuggestFor words), then every command elsewhere in the tree whose name
// or alias is name exactly: "chainctl login" suggests "chainctl auth
// login", "chainctl serve" "chainctl registry serve".
func NewUnknownCommandError(parent *cobra.Command, name string) *UnknownCommandError {
	e := &UnknownCommandError{Parent: parent.CommandPath(), Name: name}
	for _, s := range parent.SuggestionsFor(name) {
		e.Suggestions = appendNew(e.Suggestions, parent.CommandPath()+" "+s)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			if strings.EqualFold(sub.Name(), name) || slices.ContainsFunc(sub.Aliases, func(a string) bool { return strings.EqualFold(a, name) }) {
				e.Suggestions = appendNew(e.Suggestions, sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(parent.Root())
	return e
}

// groupAnnotation marks the commands Guard made print their help.
const groupAnnotation = "chainctl/group"

// IsGroup reports whether c only groups subcommands: run alone, it prints
// its help (see Guard).
func IsGroup(c *cobra.Command) bool { return c.Annotations[groupAnnotation] != "" }

func setAnnotation(c *cobra.Command, key string) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[key] = "true"
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
