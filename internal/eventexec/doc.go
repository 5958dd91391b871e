// Package eventexec runs a command for each event a sink receives, as
// `chainctl events listen --exec` does: the event's JSON on the command's
// standard input and its fields in CHAINCTL_EVENT_* variables, one
// command at a time per repository in the order the events arrived, each
// event's command once for all of its deliveries, and a time limit that
// kills the command's whole process group.
//
// The registry delivers at least once and gives each attempt ten seconds;
// a command may take longer. So a Runner remembers events by CloudEvents
// id: a delivery of an event whose command is queued or running waits for
// that run, one whose command succeeded lately is answered at once, and
// one whose command failed runs it again.
package eventexec
