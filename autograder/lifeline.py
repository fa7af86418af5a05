"""A grading subprocess dies with the process that started it.

``cnn-course grade`` starts one ``nbgrader autograde`` process per submission
from a Dask worker or a local pool.  When that worker is killed (out of
memory, ``SIGKILL``, a lost machine), the nbgrader process would otherwise be
re-parented to PID 1 and go on grading: it would spend CPU nobody waits for
and could write its results into the course while the rerun grades the same
submission.  Linux's ``PR_SET_PDEATHSIG`` (prctl(2)) has the kernel send the
child ``SIGKILL`` when its parent dies; the sandboxed kernel below it already
dies with nbgrader (bubblewrap's ``--die-with-parent``).

The parent names itself in :data:`PARENT_ENV`; the child checks after arming
the signal that its parent is still that process, closing the window in which
the parent died before the signal was armed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_ENV = "CNN_COURSE_GRADER_PARENT"
_PR_SET_PDEATHSIG = 1


def parent_env() -> dict[str, str]:
    """The environment entry a parent passes to a child that must die with it."""
    return {PARENT_ENV: str(os.getpid())}


def die_with_parent(environ=os.environ) -> bool:
    """Arm ``SIGKILL`` on the parent's death if :data:`PARENT_ENV` names the parent.

    Returns True when armed.  Exits at once if the named parent is already gone.
    A no-op (False) off Linux or when the variable is absent.
    """
    expected = environ.get(PARENT_ENV)
    if not expected or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if str(os.getppid()) != expected:
        os._exit(1)  # the parent died before the signal was armed
    return True
