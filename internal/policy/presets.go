package policy

import (
	"fmt"
	"strings"
)

// GitHubActions returns an identity for the GitHub Actions workflows of
// one repository, as "chainctl iam identities create github" makes it:
// issuer GitHubActionsIssuer, and claims repository_owner_id and
// repository_id equal to the numeric ids, so that a repository deleted and
// recreated under the same name (or an account that takes over a freed
// owner name) does not match, and, if ref is set, ref equal to it (a full
// ref: refs/heads/main, refs/tags/v1). The subject is not matched because
// GitHub's sub changes with the job's environment and the owner's subject
// template, while these claims are always present.
//
// repository ("OWNER/REPO") becomes the Name; the caller sets ID and
// Roles. The audience is left to the registry's default, which the
// workflow must request (core.getIDToken(<service>)).
func GitHubActions(repository, repositoryID, ownerID, ref string) (Identity, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || !validGitHubName(owner, false) || !validGitHubName(repo, true) {
		return Identity{}, fmt.Errorf("%w: repository %q: want OWNER/REPO", ErrInvalidIdentity, repository)
	}
	if !validNumericID(repositoryID) {
		return Identity{}, fmt.Errorf("%w: repository id %q: want the numeric id (gh api repos/%s --jq .id)", ErrInvalidIdentity, repositoryID, repository)
	}
	if !validNumericID(ownerID) {
		return Identity{}, fmt.Errorf("%w: owner id %q: want the numeric id (gh api users/%s --jq .id)", ErrInvalidIdentity, ownerID, owner)
	}
	if ref != "" && !strings.HasPrefix(ref, "refs/") {
		return Identity{}, fmt.Errorf("%w: ref %q: want a full ref such as refs/heads/%s", ErrInvalidIdentity, ref, ref)
	}
	id := Identity{
		Name:   repository,
		Issuer: GitHubActionsIssuer,
		Claims: []ClaimMatch{
			{Name: "repository_owner_id", Value: ownerID},
			{Name: "repository_id", Value: repositoryID},
		},
	}
	if ref != "" {
		id.Claims = append(id.Claims, ClaimMatch{Name: "ref", Value: ref})
	}
	return id, nil
}

// GitLab returns an identity for the CI jobs of one GitLab project, as
// "chainctl iam identities create gitlab" makes it: claims project_path
// and, if set, ref_type ("branch" or "tag") and ref (a bare name: main,
// v1.0). issuer defaults to GitLabIssuer; a self-managed instance gives
// its URL. project_path is a name, so a project recreated at the same path
// matches; add a project_id claim to rule that out.
//
// projectPath becomes the Name; the caller sets ID and Roles.
func GitLab(projectPath, refType, ref, issuer string) (Identity, error) {
	if issuer == "" {
		issuer = GitLabIssuer
	}
	if !validGitLabPath(projectPath) {
		return Identity{}, fmt.Errorf("%w: project path %q: want GROUP/[SUBGROUP/...]PROJECT", ErrInvalidIdentity, projectPath)
	}
	switch {
	case refType != "" && refType != "branch" && refType != "tag":
		return Identity{}, fmt.Errorf("%w: ref type %q: want branch or tag", ErrInvalidIdentity, refType)
	case ref != "" && refType == "":
		return Identity{}, fmt.Errorf("%w: ref %q needs a ref type (branch or tag)", ErrInvalidIdentity, ref)
	case strings.HasPrefix(ref, "refs/"):
		return Identity{}, fmt.Errorf("%w: ref %q: GitLab's ref claim is the bare name, e.g. %s", ErrInvalidIdentity, ref, ref[strings.LastIndexByte(ref, '/')+1:])
	}
	id := Identity{
		Name:   projectPath,
		Issuer: issuer,
		Claims: []ClaimMatch{{Name: "project_path", Value: projectPath}},
	}
	if refType != "" {
		id.Claims = append(id.Claims, ClaimMatch{Name: "ref_type", Value: refType})
	}
	if ref != "" {
		id.Claims = append(id.Claims, ClaimMatch{Name: "ref", Value: ref})
	}
	return id, nil
}

// validGitHubName checks an owner (letters, digits, inner single '-', at
// most 39) or, with repo set, a repository name (letters, digits, '.', '_',
// '-', at most 100, not "." or "..").
func validGitHubName(s string, repo bool) bool {
	if s == "" || !repo && len(s) > 39 || repo && (len(s) > 100 || s == "." || s == "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' ||
			repo && (c == '.' || c == '_')
		if !ok {
			return false
		}
	}
	return repo || s[0] != '-' && s[len(s)-1] != '-' && !strings.Contains(s, "--")
}

// validNumericID checks a decimal id without sign or leading zero: the
// claim holds it in that form, so "0123" could never match.
func validNumericID(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validGitLabPath checks a project path: at least two components of
// letters, digits, '.', '_', '-'.
func validGitLabPath(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(s) > 255 {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
