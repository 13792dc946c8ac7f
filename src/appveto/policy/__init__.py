"""policy layer (see DESIGN.md): ban decisions as versioned YAML files.

Public API: :func:`load_policies` (folder -> :class:`PolicySet`, or :class:`PolicyError`
with every problem located), :func:`resolve` / :func:`resolve_all` (a decision as it
stands on a date), :func:`policy_json_schema`, :func:`lint`, :func:`timeline` and
:func:`diff_policies`. The model types live in :mod:`appveto.policy.model`.
"""

from appveto.policy.diff import diff_policies
from appveto.policy.lint import lint
from appveto.policy.load import load_policies
from appveto.policy.model import PolicySet, ResolvedDecision
from appveto.policy.resolve import resolve, resolve_all
from appveto.policy.schema import policy_json_schema
from appveto.policy.timeline import timeline

__all__ = [
    "PolicySet",
    "ResolvedDecision",
    "diff_policies",
    "lint",
    "load_policies",
    "policy_json_schema",
    "resolve",
    "resolve_all",
    "timeline",
]
