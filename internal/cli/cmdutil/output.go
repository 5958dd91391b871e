package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// OutputFormat is the value of --output. It implements pflag.Value, so an
// unknown format is refused while flags are parsed.
type OutputFormat string

// The output formats.
const (
	// OutputTable is for people: aligned, styled on a terminal.
	OutputTable OutputFormat = "table"
	// OutputJSON is for scripts: one JSON document on stdout.
	OutputJSON OutputFormat = "json"
)

// OutputFormats lists the accepted formats, for help text and completion.
var OutputFormats = []string{string(OutputTable), string(OutputJSON)}

// String implements pflag.Value.
func (o *OutputFormat) String() string { return string(*o) }

// Type implements pflag.Value; it names the value in usage ("--output format").
func (o *OutputFormat) Type() string { return "format" }

// Set implements pflag.Value.
func (o *OutputFormat) Set(s string) error {
	switch v := OutputFormat(strings.ToLower(s)); v {
	case OutputTable, OutputJSON:
		*o = v
		return nil
	}
	return fmt.Errorf("must be one of %s", strings.Join(OutputFormats, ", "))
}

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
