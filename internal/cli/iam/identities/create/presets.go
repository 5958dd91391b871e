package create

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/policy"
)

// presetFlags are the flags every preset has besides its own.
type presetFlags struct {
	id, name, audience string
	roles              []string
}

func (p *presetFlags) add(cmd *cobra.Command, idHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&p.id, "id", "", idHelp)
	fl.StringVar(&p.name, "name", "", "description for people (default: the repository or project path)")
	fl.StringVar(&p.audience, "audience", "", "value \"aud\" must contain (default: the registry's service name)")
	addRoleFlag(cmd, &p.roles)
}

// complete finishes a preset's identity from the common flags: the roles,
// the name, the id (derived from idPrefix and the name when not given)
// and the audience.
func (p *presetFlags) complete(id policy.Identity, idPrefix string) (policy.Identity, error) {
	bindings, err := ParseRoles(p.roles)
	if err != nil {
		return policy.Identity{}, err
	}
	id.Roles = bindings
	if p.name != "" {
		id.Name = p.name
	}
	id.ID = p.id
	if id.ID == "" {
		id.ID = DeriveID(idPrefix, id.Name)
	}
	id.Audience = p.audience
	return id, nil
}

func newCmdGitHub(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{}
	var p presetFlags
	var repository, repositoryID, ownerID, ref string
	cmd := &cobra.Command{
		Use:   "github --repository OWNER/REPO --repository-id ID --owner-id ID --role ROLE:PATTERN [flags]",
		Short: "Trust the GitHub Actions workflows of one repository",
		Long: cmdutil.Paragraphs(`
			Create an identity for the GitHub Actions workflows of one repository.

			It trusts tokens of https://token.actions.githubusercontent.com whose
			repository_owner_id and repository_id claims are GitHub's numeric ids, so a
			repository deleted and recreated under the same name, or an account that
			takes over a freed owner name, does not match. --ref (a full ref,
			refs/heads/main or refs/tags/v1) also pins the branch or tag. Find the ids with:

			  gh api repos/OWNER/REPO --jq '.id, .owner.id'

			The workflow needs "permissions: id-token: write" and must request a token
			for the registry's service name as its audience (or for --audience).
		`, `
			--id defaults to github-OWNER-REPO, in lower case. Who may create an identity, and
			what the registry refuses, is in "chainctl iam identities create --help".
		`, seeAlso),
		Example: cmdutil.Examples(`
			# The main branch of acme/app may push to acme/*
			$ chainctl iam identities create github --repository acme/app \
			    --repository-id 123456789 --owner-id 987654 --ref refs/heads/main \
			    --role pusher:acme/*
		`),
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&repository, "repository", "", "the repository, `OWNER/REPO` (required)")
	fl.StringVar(&repositoryID, "repository-id", "", "the repository's numeric `ID` (required)")
	fl.StringVar(&ownerID, "owner-id", "", "the owner's numeric `ID` (required)")
	fl.StringVar(&ref, "ref", "", "only workflows on this full `REF`, such as refs/heads/main")
	p.add(cmd, "identity id (default: github-OWNER-REPO)")
	return api.Command(f, cmd, opts, func([]string) error {
		id, err := policy.GitHubActions(repository, repositoryID, ownerID, ref)
		if err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		opts.Identity, err = p.complete(id, "github-")
		return err
	}, runF, createRun)
}

func newCmdGitLab(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{}
	var p presetFlags
	var projectPath, refType, ref, issuer string
	cmd := &cobra.Command{
		Use:   "gitlab --project-path GROUP/PROJECT --role ROLE:PATTERN [flags]",
		Short: "Trust the GitLab CI jobs of one project",
		Long: cmdutil.Paragraphs(`
			Create an identity for the GitLab CI/CD jobs of one project.

			It trusts tokens of https://gitlab.com (or --issuer, for a self-managed
			instance) whose project_path claim is --project-path and, if given, whose
			ref_type (branch or tag) and ref (a bare name, such as main) match. A project
			deleted and recreated at the same path matches too.

			The job must request an ID token whose "aud" is the registry's service name
			(or --audience), in the id_tokens section of .gitlab-ci.yml.
		`, `
			--id defaults to gitlab-GROUP-PROJECT, in lower case. Who may create an identity, and
			what the registry refuses, is in "chainctl iam identities create --help".
		`, seeAlso),
		Example: cmdutil.Examples(`
			# Jobs on the main branch of acme/app may push to acme/*
			$ chainctl iam identities create gitlab --project-path acme/app \
			    --ref-type branch --ref main --role pusher:acme/*

			# A self-managed GitLab
			$ chainctl iam identities create gitlab --issuer https://gitlab.example.com \
			    --project-path platform/images --role editor:platform/*
		`),
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&projectPath, "project-path", "", "the project, `GROUP/[SUBGROUP/...]PROJECT` (required)")
	fl.StringVar(&refType, "ref-type", "", "only jobs on a branch or a tag")
	fl.StringVar(&ref, "ref", "", "only jobs on this branch or tag `NAME`, such as main (needs --ref-type)")
	fl.StringVar(&issuer, "issuer", "", "the GitLab instance's `URL` (default "+policy.GitLabIssuer+")")
	_ = cmd.RegisterFlagCompletionFunc("ref-type", cobra.FixedCompletions([]string{"branch", "tag"}, cobra.ShellCompDirectiveNoFileComp))
	p.add(cmd, "identity id (default: gitlab-GROUP-PROJECT)")
	return api.Command(f, cmd, opts, func([]string) error {
		id, err := policy.GitLab(projectPath, refType, ref, issuer)
		if err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		opts.Identity, err = p.complete(id, "gitlab-")
		return err
	}, runF, createRun)
}
