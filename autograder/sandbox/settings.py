"""The grading sandbox's settings, configured in one place: ``c.Sandbox.*``.

:class:`Sandbox` holds every setting a sandbox is built from (limits, binds,
environment allow-list, devices, uid, bubblewrap).  The kernel manager is a
:class:`Sandbox` (so ``c.Sandbox.*`` reaches every grading kernel) and the
one-shot sandboxes (model evaluation) read the same section through
``Sandbox(config=...)``; both build their :class:`~.command.SandboxSpec`
from it and their command with :func:`~.command.bwrap_command`.
"""

from __future__ import annotations

import os

from traitlets import Bool, Float, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from autograder.sandbox.command import (
    Limits,
    SandboxSpec,
    bwrap_usable,
    keras_dataset_cache,
    package_search_path,
    passed_env,
    readonly_sources,
)

__all__ = ["DEFAULT_ENV_PASSTHROUGH", "Sandbox", "default_sandbox_uid"]

DEFAULT_ENV_PASSTHROUGH = [
    "LANG", "LANGUAGE", "LC_*", "TZ", "TERM", "TF_CPP_*", "TF_ENABLE_*", "TF_FORCE_*", "TF_GPU_*",
    "TF_NUM_*", "TF_DETERMINISTIC_OPS", "TF_XLA_FLAGS", "TF_USE_LEGACY_KERAS", "KERAS_BACKEND", "CNN_COURSE_*",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "PYTHONHASHSEED", "PYTHONWARNINGS", "CUDA_VISIBLE_DEVICES", "JPY_SESSION_NAME",
    "PYDEVD_DISABLE_FILE_VALIDATION",
]

ONE_SHOT_PACKAGES = ("autograder",)
"""Packages a one-shot grader sandbox imports besides :attr:`Sandbox.packages` (never a kernel)."""


def default_sandbox_uid() -> int:
    """The host uid (and gid) sandboxes run as by default: ``$CNN_COURSE_SANDBOX_UID`` or nobody.

    Per-uid limits (the process limit) are shared by every sandbox of a uid;
    graders running side by side (parallel workers, parallel test processes)
    each use their own.
    """
    return int(os.environ.get("CNN_COURSE_SANDBOX_UID", "65534"))


class Sandbox(LoggingConfigurable):
    """Settings of every grading sandbox (kernels and one-shot commands)."""

    enabled = Bool(True, help="Run grading kernels inside the bubblewrap sandbox.").tag(config=True)
    allow_unsandboxed = Bool(
        False,
        help="When bubblewrap is unusable, run the kernel unsandboxed with a warning instead "
             "of refusing to start it.",
    ).tag(config=True)
    memory_limit_mib = Integer(
        8192, help="Address-space limit of every sandboxed process in MiB (prlimit --as); "
                   "0 for none.  TensorFlow reserves far more address space than it uses: "
                   "`import keras` needs about 1.6 GiB, training a small CNN 2.4-3.5 GiB "
                   "(2-64 threads); below that TensorFlow aborts the kernel.",
    ).tag(config=True)
    cpu_time_s = Integer(
        3600, help="CPU seconds of every sandboxed process, all its threads together "
                   "(prlimit --cpu); 0 for none.",
    ).tag(config=True)
    max_processes = Integer(
        256, help="Processes and threads of the sandbox's real uid (prlimit --nproc; counts the "
                  "whole uid on the host, see autograder.sandbox); 0 for none.",
    ).tag(config=True)
    max_file_size_mib = Integer(
        200, help="Largest file a sandboxed process may write, in MiB (prlimit --fsize); 0 for none.",
    ).tag(config=True)
    max_workdir_mib = Integer(
        200, help="Most a kernel's working directory may hold, in MiB: a watchdog polls its size "
                  "every workdir_poll_s and stops the sandbox when it grows past this, then deletes "
                  "the largest files written during the run until it fits; 0 for no limit.",
    ).tag(config=True)
    workdir_poll_s = Float(0.25, help="Seconds between two sizings of the working directory.").tag(config=True)
    tmpfs_size_mib = Integer(
        1024, help="Size of each private tmpfs (/tmp and /dev/shm) in MiB; they use host memory.",
    ).tag(config=True)
    readonly_paths = List(
        Unicode(), help="Extra host paths bound read-only at the same place (e.g. datasets).",
    ).tag(config=True)
    device_paths = List(
        Unicode(), help="Host device nodes to expose (e.g. /dev/nvidia0, /dev/nvidiactl, "
                        "/dev/nvidia-uvm for a GPU, with memory_limit_mib = 0 since CUDA reserves "
                        "huge address ranges); missing ones are skipped.",
    ).tag(config=True)
    packages = List(
        Unicode(), default_value=["course"],
        help="Importable packages whose folders (only) are bound read-only and put on the "
             "sandbox's PYTHONPATH, so sandboxed code imports them from where the grader does.",
    ).tag(config=True)
    env_passthrough = List(
        Unicode(), default_value=DEFAULT_ENV_PASSTHROUGH,
        help="Environment variables (fnmatch patterns) passed into the sandbox; all others "
             "are dropped.",
    ).tag(config=True)
    sandbox_uid = Integer(
        help="Host uid sandboxed code runs as when the grader is root (default: "
             "$CNN_COURSE_SANDBOX_UID, else 65534, nobody).",
    ).tag(config=True)
    sandbox_gid = Integer(
        help="Host gid sandboxed code runs as when the grader is root (default: the uid's value "
             "from $CNN_COURSE_SANDBOX_UID, else 65534, nogroup).",
    ).tag(config=True)
    ipc_dir = Unicode(
        "", help="Folder in which each kernel's private folder (connection file, IPC sockets) "
                 "is created; empty for the system temporary folder.",
    ).tag(config=True)
    bwrap_path = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)

    @default("sandbox_uid")
    def _default_uid(self) -> int:
        return default_sandbox_uid()

    @default("sandbox_gid")
    def _default_gid(self) -> int:
        return default_sandbox_uid()

    def limits(self, cpu_time_s: int | None = None) -> Limits:
        """The configured :class:`Limits` (``cpu_time_s`` overrides the CPU limit)."""
        return Limits(self.memory_limit_mib, self.cpu_time_s if cpu_time_s is None else cpu_time_s,
                      self.max_processes, self.max_file_size_mib)

    def usable(self) -> tuple[bool, str]:
        """:func:`~.command.bwrap_usable` for this bubblewrap and uid."""
        return bwrap_usable(self.bwrap_path, self.sandbox_uid, self.sandbox_gid)

    def sandbox_env(self, env: dict[str, str], fixed: dict[str, str], packages) -> dict[str, str]:
        """Allow-listed variables of ``env``, then ``fixed``, then the packages' ``PYTHONPATH``."""
        out = {**passed_env(env, self.env_passthrough), **fixed}
        search = package_search_path(packages)
        if search:
            out["PYTHONPATH"] = search
        else:
            out.pop("PYTHONPATH", None)
        return out

    def one_shot_spec(self, readonly: dict[str, str] | None = None, env: dict[str, str] | None = None,
                      cpu_time_s: int | None = None) -> SandboxSpec:
        """The spec of a one-shot grader command (model evaluation): ``/tmp`` is its only writable place.

        Raises ``RuntimeError`` when bubblewrap is unusable.
        """
        ok, why = self.usable()
        if not ok:
            raise RuntimeError(f"bubblewrap is unusable: {why}")
        packages = [*self.packages, *ONE_SHOT_PACKAGES]
        binds = [(p, p) for p in readonly_sources(packages, self.readonly_paths)]
        binds += sorted((readonly or {}).items())
        fixed = {"HOME": "/tmp", "TMPDIR": "/tmp", "KERAS_HOME": "/tmp/keras", "PYTHONNOUSERSITE": "1",
                 "MPLCONFIGDIR": "/tmp/matplotlib", "PATH": "/usr/local/bin:/usr/bin:/bin"}
        return SandboxSpec(
            self.sandbox_uid, self.sandbox_gid, limits=self.limits(cpu_time_s), readonly=binds,
            devices=list(self.device_paths), keras_cache=keras_dataset_cache(),
            env=self.sandbox_env(os.environ if env is None else env, fixed, packages), chdir="/tmp",
            tmpfs_size_mib=self.tmpfs_size_mib, bwrap=self.bwrap_path)
