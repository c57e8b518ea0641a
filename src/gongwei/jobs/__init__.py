"""Background jobs: snapshot, indicator catalogue, QC evaluation, import and exports run by a Huey worker.

The :class:`~gongwei.jobs.models.Job` row is what a page shows (status, progress, step, result, output file);
:mod:`gongwei.service.jobs` starts jobs for an actor and runs them; :mod:`.tasks` is the thin Huey face the
worker executes; :mod:`.queue` holds the queue's storage. docs/adr/018-background-jobs.md.
"""
