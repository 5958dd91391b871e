package shared

import (
	"fmt"
	"strings"

	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/policy"
)

// PrintIdentity writes every field of id as aligned key/value lines, the
// keys bold on a terminal. Claims and role bindings get a line each.
func PrintIdentity(ios *iostreams.IOStreams, id *Identity) error {
	type row struct{ key, value string }
	rows := []row{{"id", id.ID}, {"name", id.Name}, {"issuer", id.Issuer}}
	if len(id.IssuerKeys) > 0 {
		rows = append(rows, row{"issuer keys", "static JWKS (the issuer is never fetched)"})
	} else {
		rows = append(rows, row{"issuer keys", "discovered from the issuer"})
	}
	if id.Subject != "" {
		rows = append(rows, row{"subject", id.Subject})
	}
	if id.SubjectPattern != "" {
		rows = append(rows, row{"subject pattern", id.SubjectPattern})
	}
	aud := id.Audience
	if aud == "" {
		aud = "(the registry's service name)"
	}
	rows = append(rows, row{"audience", aud})
	for i, c := range id.Claims {
		k := ""
		if i == 0 {
			k = "claims"
		}
		rows = append(rows, row{k, ClaimString(c)})
	}
	if id.AllowAnySubject {
		rows = append(rows, row{"any subject", "yes: every principal of the issuer matches"})
	}
	for i, b := range id.Roles {
		k := ""
		if i == 0 {
			k = "roles"
		}
		rows = append(rows, row{k, RoleString(b)})
	}
	for _, r := range []row{{"source", id.Source}, {"created", id.Created}, {"created by", id.CreatedBy}} {
		if r.value != "" {
			rows = append(rows, r)
		}
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.key))
	}
	st := ios.OutStyles()
	for _, r := range rows {
		// Pad before styling: escape sequences would throw the width off.
		if _, err := fmt.Fprintf(ios.Out, "%s  %s\n", st.Bold(fmt.Sprintf("%-*s", width, r.key)), r.value); err != nil {
			return err
		}
	}
	return nil
}

// ClaimString writes a claim condition as name=value or name~pattern.
func ClaimString(c policy.ClaimMatch) string {
	if c.Pattern != "" {
		return c.Name + "~" + c.Pattern
	}
	return c.Name + "=" + c.Value
}

// RoleString writes a role binding as ROLE:PATTERN[,PATTERN...], the
// syntax of --role.
func RoleString(b policy.RoleBinding) string {
	pats := make([]string, len(b.Repositories))
	for i, p := range b.Repositories {
		pats[i] = string(p)
	}
	return string(b.Role) + ":" + strings.Join(pats, ",")
}

// Principal summarises who an identity accepts: the subject, the subject
// pattern (prefixed "~"), else its claim conditions, else "(any)".
func Principal(id policy.Identity) string {
	switch {
	case id.Subject != "":
		return id.Subject
	case id.SubjectPattern != "":
		return "~" + id.SubjectPattern
	case len(id.Claims) > 0:
		parts := make([]string, len(id.Claims))
		for i, c := range id.Claims {
			parts[i] = ClaimString(c)
		}
		return strings.Join(parts, " ")
	}
	return "(any)"
}
