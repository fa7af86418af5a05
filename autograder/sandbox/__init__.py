"""Run grading kernels inside a bubblewrap sandbox.

nbgrader executes every submitted notebook in a Jupyter kernel on the
grader's machine.  :class:`SandboxedKernelManager` (and its asynchronous
twin :class:`AsyncSandboxedKernelManager`, the one to give nbgrader) starts
that kernel inside `bubblewrap <https://github.com/containers/bubblewrap>`_
under resource limits, so that a submission is just an untrusted program
with a private view of the machine.  In ``nbgrader_config.py``, use
:class:`SandboxedExecute` (or its subclass
:class:`autograder.execute.RobustExecute`, which the course uses) instead of
nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``, and set the
sandbox's settings in one place, ``c.Sandbox.memory_limit_mib = ...`` etc.
(:class:`~autograder.sandbox.settings.Sandbox`): they apply to the kernels and
to the one-shot sandboxes that evaluate saved models alike.
(``c.Execute.kernel_manager_class = ...`` alone does **not** work with
nbgrader 0.9.6: ``Execute.__init__`` passes ``kernel_manager_class=
AsyncKernelManager`` as a constructor argument, which traitlets lets win over
the configuration.)

Threat model
------------
The adversary is a student who controls the code of a submitted notebook
and wants more points than they earned, to read what they must not (the
instructor's ``source/`` solutions, hidden tests, reference records in
``.grading/``, ``gradebook.db``, other students' submissions, the grader's
home directory and credentials), to tamper with the grading (rewrite the
course package, the Python installation, the gradebook), to reach the
network (exfiltrate, download answers), or to take the machine down (memory,
processes, CPU, disk).  The probe protocol (see ``README.md``) already makes
the *score* independent of what runs in the kernel; the sandbox protects
everything else on the grading machine.  Inside the sandbox the kernel:

* sees a filesystem built from an **allow-list**, everything else is absent:
  ``/usr`` (with ``/bin``, ``/lib``... mirrored as on the host) and a few
  files of ``/etc`` read-only; the Python installation (``sys.base_prefix``)
  and the virtual environment (``sys.prefix``) read-only at their own paths;
  only the *folders* of the packages students import (``course``), not the
  repository around them; a fresh ``/proc`` (own PID namespace), a minimal
  ``/dev``, private size-limited tmpfs ``/tmp`` and ``/dev/shm``; the working
  directory of the notebook (nbgrader's ``autograded/STUDENT/ASSIGNMENT/``)
  read-write; and a private folder holding the connection file and the ZeroMQ
  IPC sockets through which the grader talks to the kernel;
* has no network at all (own network namespace with only a loopback that
  leads nowhere), own IPC, UTS and cgroup namespaces, and a new terminal
  session (no ``TIOCSTI`` injection into the grader's terminal);
* holds no privilege: when the grader runs as root the kernel runs as the
  unprivileged host user :attr:`~.settings.Sandbox.sandbox_uid`
  (``nobody``) with no capabilities, an empty bounding set and
  ``no_new_privs`` (all mounts are also ``nosuid``); otherwise it runs as the
  grader's own user inside a user namespace, with every capability dropped
  and further user namespaces disabled;
* gets a clean environment (an allow-list of variables, see
  :attr:`~.settings.Sandbox.env_passthrough`), ``HOME`` set to the
  working directory and caches (Matplotlib, Keras, IPython) in ``/tmp``;
* runs under ``prlimit``: address space, CPU seconds, processes (threads
  count) and file size are limited, core dumps are off;
* dies with the grader (``--die-with-parent``) and, being PID 1's child in its
  own PID namespace, takes every process it started with it when it is shut
  down or killed.

Disk: ``/tmp`` and ``/dev/shm`` are size-limited tmpfs; each file is
limited by ``max_file_size_mib``; the working directory as a whole by
``max_workdir_mib``, enforced by a watchdog thread that sizes it every
``workdir_poll_s`` and kills the sandbox when it is over (a fast writer can
overshoot by what it writes in one interval); the largest files written
during the run are then deleted until the folder fits, and
:attr:`SandboxedKernelManager.stop_reason` says why the kernel died.

Not covered: a kernel or bubblewrap vulnerability (the sandboxed process
can still create user namespaces when the grader runs as root, as any
unprivileged user can, which widens the kernel attack surface), a real disk
quota (filesystem quotas would need the grader's filesystem set up for
them), side channels, and what the student writes into their own working
directory within the limits (nbgrader collects that folder anyway).
Limits are per process: memory is an ``RLIMIT_AS`` (virtual address space)
limit, not a cgroup.

Root and ``RLIMIT_NPROC``: the kernel never enforces ``RLIMIT_NPROC`` for
processes whose real uid is host root, user namespace or not.  That is why,
when the grader is root, the kernel is not merely *mapped* to ``nobody``
(bubblewrap's ``--uid``) but really runs as host uid ``sandbox_uid``: the
sandbox is assembled by bubblewrap as root (so it can bind the Python
installation from root's private home), then ``setpriv`` drops to that uid
just before the kernel starts.  The working directory is lent to that uid
(``chown``) for the run and given back (previous owners restored, set-id
bits cleared) once every sandboxed process is dead.  ``max_processes``
counts all processes *and threads* of the real uid on the host, i.e. of all
sandboxes running at the same time under ``sandbox_uid`` (nbgrader grades
one notebook at a time), or of the grader's own user when the grader is not
root.

Interrupts are sent as ``interrupt_request`` messages (the kernel is in its
own session, out of reach of the grader's process-group signals), and the
kernel sees ``JPY_PARENT_PID=1``: its parent really is bubblewrap's PID 1.

Use :class:`AsyncSandboxedKernelManager` with nbclient and nbgrader: with a
blocking manager, nbclient waits forever on a kernel that died (e.g. one
that TensorFlow aborted because a thread could not be created under the
memory limit) instead of raising ``DeadKernelError``.
Modules: :mod:`.settings` (the configurable settings), :mod:`.command` (the
sandbox specification and the one bubblewrap command builder),
:mod:`.oneshot` (one-shot commands), :mod:`.kernel` (the kernel manager and
the ``Execute`` step), :mod:`.fs` (filesystem, disk watchdog and process
helpers).
"""

from autograder.sandbox.command import (
    MIB,
    Limits,
    SandboxSpec,
    bwrap_command,
    bwrap_usable,
    keras_dataset_cache,
    mask_args,
    readonly_sources,
)
from autograder.sandbox.fs import folder_bytes, prune_folder, sandbox_process_ids
from autograder.sandbox.kernel import (
    GRADED_DATA_MOUNT,
    AsyncSandboxedKernelManager,
    SandboxedExecute,
    SandboxedKernelManager,
)
from autograder.sandbox.oneshot import sandbox_command
from autograder.sandbox.settings import DEFAULT_ENV_PASSTHROUGH, Sandbox, default_sandbox_uid

__all__ = [
    "DEFAULT_ENV_PASSTHROUGH",
    "GRADED_DATA_MOUNT",
    "MIB",
    "AsyncSandboxedKernelManager",
    "Limits",
    "Sandbox",
    "SandboxSpec",
    "SandboxedExecute",
    "SandboxedKernelManager",
    "bwrap_command",
    "bwrap_usable",
    "default_sandbox_uid",
    "folder_bytes",
    "keras_dataset_cache",
    "mask_args",
    "prune_folder",
    "readonly_sources",
    "sandbox_command",
    "sandbox_process_ids",
]
