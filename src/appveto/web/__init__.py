"""``appveto serve``: the security office's shared workspace (an HTTP adapter over the library).

* :mod:`access`: roles, permissions and the one table that decides who may do what;
* :mod:`audit`: the append-only, hash-chained audit trail;
* :mod:`accounts`: local accounts (argon2id), browser sessions, API tokens;
* :mod:`workflow`: the SP 800-163 vetting workflow (intake, testing, review,
  recommendation, decision), each step recorded with who and when;
* :mod:`jobs`: the background scan runner (the batch engine, in a child process);
* :mod:`app`: the FastAPI application (pages and the JSON API).
"""
