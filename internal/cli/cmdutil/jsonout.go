package cmdutil

import (
	"github.com/spf13/cobra"
)

// jsonAnnotation marks the commands that honour --output json.
const jsonAnnotation = "chainctl/json"

// SupportJSON declares that cmd prints one JSON document on stdout with
// --output json. Every other command refuses the flag (see CheckOutput),
// rather than accept it and print something a script cannot parse.
func SupportJSON(cmd *cobra.Command) *cobra.Command {
	setAnnotation(cmd, jsonAnnotation)
	return cmd
}

// SupportsJSON reports whether SupportJSON was called for cmd.
func SupportsJSON(cmd *cobra.Command) bool { return cmd.Annotations[jsonAnnotation] != "" }

// CheckOutput refuses --output json for a command that does not support
// it. A group printing its help is left alone.
func CheckOutput(cmd *cobra.Command, o OutputFormat) error {
	if o != OutputJSON || SupportsJSON(cmd) || IsGroup(cmd) {
		return nil
	}
	return FlagErrorf("%s does not support --output json", cmd.CommandPath())
}
