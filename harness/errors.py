"""The one exception type for mistakes a user can make and fix."""


class UserError(Exception):
    """A problem the user can fix: printed as one sentence, exit code 2, no traceback.

    The message should say what is wrong and what to do next.
    """

    exit_code = 2
