"""Errors the user can fix: any layer raises them with one Chinese sentence, every face shows that sentence.

The command line prints the message and exits with code 2 (no traceback); the web application will show it
on the page. A bug is any other exception and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a missing prerequisite, described in one Chinese sentence naming the thing and the rule."""


class DatabaseMissing(UserError):
    """The command needs a database and there is none where gongwei looked."""
