"""The application layer: one function per use case, under every face (CLI, web, bulletins, API).

A face parses its input, builds an :class:`~gongwei.service.access.Actor` (a login from a request, or the
operator at the command line) and calls one function here; it gets back a typed result carrying codes and
names, and renders it (wording and file formats live in :mod:`gongwei.reports`). Everything a face must not
get wrong on its own happens here, once:

* **scope** — every read and write is limited to the actor's org subtree (:mod:`.access`); a unit outside it is
  refused with :class:`~gongwei.service.errors.Refused`, never silently emptied;
* **masking** — identity numbers, phones and birth dates are masked for roles that do not need them;
* **audit** — every view of personal data writes an ``AccessLog`` row with the people shown (:mod:`.audit`);
* **stored results** — indicators and QC tallies are read from the results store (snapshot × period ×
  rulebook version) before anything is computed (:mod:`.results`).

Modules: ``access`` (who asks, what they may see), ``audit``, ``snapshots`` (open or take one),
``results`` (the store), ``analysis`` (indicators, gaps, worklists, rosters), ``quality`` (QC scorecards and
findings, duplicates, merge, close). ADR 015 records why the layer looks like this.
"""
