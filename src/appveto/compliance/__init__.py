"""compliance layer (see DESIGN.md): policies x directory x inventory x scans -> statuses.

Public API (import from the modules; this package stays light):

* :func:`appveto.compliance.evaluate.evaluate` -> :class:`~appveto.compliance.model.Evaluation`
* :func:`appveto.compliance.impact.impact` / :func:`~appveto.compliance.impact.impact_of`
  -> :class:`~appveto.compliance.impact.Impact` (a draft decision, before adoption)
* :func:`appveto.compliance.explain.explain` -> :class:`~appveto.compliance.explain.Explanation`
* :func:`appveto.compliance.notices.build_notices`, :func:`~appveto.compliance.notices.notice_markdown`,
  :func:`~appveto.compliance.notices.notice_email`

The fleet is read through :class:`~appveto.compliance.model.FleetView`;
:class:`appveto.fleet.queries.StoreFleet` adapts a store. See docs/compliance.md.
"""
