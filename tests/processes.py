"""Child processes that Ctrl-C reaches, however the test run was started."""

import signal


def ctrl_c_reaches_it() -> None:
    """A ``preexec_fn``: a shell starts background jobs (``make test &``, CI runners) with
    SIGINT ignored, children inherit that, and Python then installs no KeyboardInterrupt
    handler. The tests that press Ctrl-C restore the default, as a terminal would have it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
