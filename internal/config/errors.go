package config

import (
	"fmt"
	"strings"
)

// Errors is every problem found in a configuration, reported together so
// that one run names them all, rather than one per attempt to start.
type Errors []error

// Error lists the problems, one a line after the first when there are
// several.
func (e Errors) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e))
	for _, err := range e {
		b.WriteString("\n  - ")
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n    "))
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e Errors) Unwrap() []error { return e }

// add appends err, unless it is nil; an Errors is flattened into e.
func (e *Errors) add(err error) {
	if many, ok := err.(Errors); ok {
		*e = append(*e, many...)
	} else if err != nil {
		*e = append(*e, err)
	}
}

// err is nil when there is no problem, else e.
func (e Errors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
