"""What the application layer refuses, by kind, so each face can answer in its own way.

``BadRequest`` → exit code 2 at the command line, 400 on the web; ``NotFound`` → 404; ``Refused`` → 403.
Every message is one Chinese sentence naming what was wrong.
"""

from __future__ import annotations

from gongwei.errors import UserError


class ServiceError(UserError):
    """A request the application layer will not carry out; ``str(exc)`` is the message for the user."""


class BadRequest(ServiceError):
    """Malformed input: a bad period, an unknown indicator or rule, a missing output file name."""


class NotFound(ServiceError):
    """A unit, resident, snapshot or finding that does not exist."""


class Refused(ServiceError):
    """Something outside the actor's scope or role (the org subtree, separation of duties)."""


class NotReady(ServiceError):
    """Results a page would show have not been computed yet for this snapshot and period (a job computes them)."""
