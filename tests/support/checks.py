"""The pass/fail bookkeeping every Python test suite of Chronicle shares.

A suite calls check() once per thing it checks, in order, and finish() at
the end:

    check("the feed is dense", positions == list(range(1, n + 1)), str(positions))
    ...
    finish()

check() prints one line per check, "ok   WHAT" or "FAIL WHAT" (a failure's
DETAIL follows, indented, one line per line), and counts it. finish() prints
the line scripts/test.sh reads, "RESULT passed=N failed=M", and exits 1 if
anything failed (0 otherwise). counts() gives the numbers so far, for a
suite's own summary line.

A suite finds this module through a sys.path entry for tests/support built
from its own file's place, so it works both under scripts/test.sh and when
run by hand (python tests/feed/run.py ...).
"""

import sys

_passed = 0
_failed = 0


def check(what, ok, detail=""):
    """Counts one check and prints its line; DETAIL is printed only if it failed.
    Returns whether it passed."""
    global _passed, _failed
    if ok:
        _passed += 1
        print(f"ok   {what}", flush=True)
    else:
        _failed += 1
        print(f"FAIL {what}", flush=True)
        for line in str(detail).splitlines():
            print(f"     {line}", flush=True)
    return bool(ok)


def counts():
    """(passed, failed) so far."""
    return _passed, _failed


def finish():
    """Prints "RESULT passed=N failed=M" and exits: 1 if any check failed, else 0."""
    print(f"RESULT passed={_passed} failed={_failed}", flush=True)
    sys.exit(1 if _failed else 0)
