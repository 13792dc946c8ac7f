"""policy layer (see DESIGN.md): ban decisions as versioned YAML files.

Public API: :func:`load_policies` (folder -> :class:`PolicySet` or :class:`PolicyError`
with every problem located), :func:`resolve` / :func:`resolve_all` (a decision as it
stands on a date), :func:`policy_json_schema`, :func:`lint`, :func:`diff_policies`,
:func:`timeline`. Import the submodules directly for the model types.
"""
