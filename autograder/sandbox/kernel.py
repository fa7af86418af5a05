"""The sandboxed kernel manager and the nbgrader ``Execute`` step that uses it.

:class:`AsyncSandboxedKernelManager` (the one nbgrader and nbclient use)
starts each grading kernel in a bubblewrap sandbox built from the
``c.Sandbox.*`` settings (:mod:`.settings`) by the one command builder
(:mod:`.command`), watches its working directory's size (:mod:`.fs`) and
tears everything down when the kernel ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync
from nbgrader.preprocessors import Execute
from traitlets import List, Unicode

from autograder import compat
from autograder.sandbox.command import (
    HOST_PATH,
    MIB,
    SandboxSpec,
    bwrap_command,
    keras_dataset_cache,
    privileged,
    readonly_sources,
)
from autograder.sandbox.fs import (
    FolderWatch,
    folder_bytes,
    lend_tree,
    prune_folder,
    regular_files,
    restore_tree,
    sandbox_process_ids,
    within,
)
from autograder.sandbox.settings import Sandbox
from course.graded_data import GRADED_DATA_ENV

compat.require()  # the private library hooks overridden below exist

__all__ = ["GRADED_DATA_MOUNT", "AsyncSandboxedKernelManager", "SandboxedExecute", "SandboxedKernelManager"]

GRADED_DATA_MOUNT = "/tmp/graded-data"
"""Where a kernel sandbox sees the grader's graded-run data (``graded_data_dir``)."""


class _KernelBox:
    """Per-kernel state: private folder, lent working directory, bubblewrap's info pipe."""

    def __init__(self, private_dir: str, is_root: bool, uid: int, gid: int):
        self.private_dir = private_dir
        self.privileged = is_root
        self.uid, self.gid = uid, gid
        self.workdir: str | None = None
        self.lent: dict[str, tuple[int, int]] | None = None   # previous owners, when lent
        self.files_before: frozenset[str] = frozenset()
        self.watch: FolderWatch | None = None
        self.info_fd: int | None = None
        self.info: dict = {}
        self.command: list[str] = []

    def read_info(self, timeout: float = 10.0) -> dict:
        """bubblewrap's ``--info-fd`` JSON (``child-pid``, ``pid-namespace``...), once."""
        if self.info_fd is not None:
            data = b""
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([self.info_fd], [], [], deadline - time.monotonic())
                    chunk = os.read(self.info_fd, 65536) if ready else b""
                    if not chunk:
                        break
                    data += chunk
            finally:
                os.close(self.info_fd)
                self.info_fd = None
            with contextlib.suppress(ValueError):
                self.info = json.loads(data.decode() or "{}")
        return self.info


class SandboxedKernelManager(Sandbox, KernelManager):
    """A :class:`~jupyter_client.manager.KernelManager` whose kernels run in bubblewrap.

    The kernel command becomes ``prlimit LIMITS -- bwrap OPTIONS -- [setpriv
    ...] KERNEL_CMD`` (:func:`~.command.bwrap_command`); the transport is forced
    to ZeroMQ IPC sockets in a private folder bound into the sandbox (there is
    no network inside).  Its settings are those of :class:`~.settings.Sandbox`
    (``c.Sandbox.*``); see :mod:`autograder.sandbox` for what the sandbox
    allows.  With ``enabled = False`` this is a plain kernel manager.
    """

    withheld_paths = List(
        Unicode(), help="Host files and folders the kernel must not read (the grader's evaluation "
                        "data): each is masked by an empty file or folder at its own place and, "
                        "inside the grader's Keras cache, at the cache's place in the sandbox.  "
                        "Set per run by RobustExecute from its held_out_data table.",
    )
    graded_data_dir = Unicode(
        "", help="Host folder of graded-run data (training data and a stand-in test split, see "
                 "course.graded_data), bound read-only at GRADED_DATA_MOUNT; empty for none.",
    )

    _sandbox: _KernelBox | None = None
    stop_reason: str | None = None
    """Why the sandbox stopped the kernel itself (the disk limit), for the grader's message."""

    # ------------------------------------------------------------------ lifecycle

    def _decide_sandbox(self) -> bool:
        """Whether this start is sandboxed; refuse (or warn) when bubblewrap is unusable."""
        if not self.enabled:
            return False
        ok, why = self.usable()
        if ok:
            return True
        if self.allow_unsandboxed:
            self.log.warning("bubblewrap is unusable (%s): running the kernel WITHOUT a sandbox "
                             "because allow_unsandboxed is set", why)
            return False
        raise RuntimeError(
            f"Refusing to start an unsandboxed grading kernel: bubblewrap is unusable: {why}. "
            f"Fix that, or set c.{type(self).__name__}.allow_unsandboxed = True to grade without "
            f"a sandbox (untrusted code then runs with the grader's rights).")

    async def _async_pre_start_kernel(self, **kw):
        """Create the private folder and switch the transport to IPC sockets inside it."""
        if self._sandbox is None and self._decide_sandbox():
            is_root = privileged()
            private = tempfile.mkdtemp(prefix="kernel-sandbox-", dir=self.ipc_dir or None)
            if is_root:
                os.chown(private, self.sandbox_uid, self.sandbox_gid)
            self._sandbox = _KernelBox(private, is_root, self.sandbox_uid, self.sandbox_gid)
        if self._sandbox is not None:
            self.transport = "ipc"
            self.cache_ports = False
            self.ip = os.path.join(self._sandbox.private_dir, "ipc")
        try:
            kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        except BaseException:
            if self._sandbox is not None:
                self._teardown(self._sandbox)
            raise
        if self._sandbox is not None and self.kernel_spec is not None:
            # Signals to the process group reach bwrap only: interrupt by message.
            self.kernel_spec.interrupt_mode = "message"
        return kernel_cmd, kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        """Launch ``kernel_cmd`` wrapped in prlimit + bubblewrap."""
        if self._sandbox is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        box = self._sandbox
        pass_fds: tuple[int, ...] = ()
        try:
            cmd, kw = self._wrap(box, kernel_cmd, kw)
            pass_fds = kw["pass_fds"]
            self.log.debug("Sandboxed kernel: %s", shlex.join(cmd))
            await super()._async_launch_kernel(cmd, **kw)
        except BaseException:
            self._close(pass_fds)
            self._teardown(box)
            raise
        self._close(pass_fds)
        self._watch_folder(box)

    @staticmethod
    def _close(fds) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Clean up as usual, then make sure the sandbox is gone and give its folders back."""
        await super()._async_cleanup_resources(restart=restart)
        if self._sandbox is not None and not restart:
            self._teardown(self._sandbox)

    pre_start_kernel = run_sync(_async_pre_start_kernel)
    _launch_kernel = run_sync(_async_launch_kernel)
    cleanup_resources = run_sync(_async_cleanup_resources)

    def _watch_folder(self, box: _KernelBox) -> None:
        """Start the disk-limit watchdog on the working directory (``max_workdir_mib``)."""
        self.stop_reason = None
        if box.watch is not None:
            box.watch.stop()
        if self.max_workdir_mib > 0 and box.workdir:
            box.watch = FolderWatch(box.workdir, self.max_workdir_mib * MIB, self.workdir_poll_s,
                                     self._folder_exceeded)
            box.watch.start()

    def _folder_exceeded(self, size: int) -> None:
        """Watchdog callback: stop the whole sandbox at once; the files are pruned at teardown."""
        self.stop_reason = (f"its working folder grew to {size / MIB:.0f} MiB, past the sandbox's "
                            f"disk limit of {self.max_workdir_mib} MiB")
        self.log.error("sandbox stopped: %s", self.stop_reason)
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)

    # ------------------------------------------------------------------ introspection

    @property
    def sandboxed(self) -> bool:
        """Whether the current kernel runs inside the sandbox."""
        return self._sandbox is not None

    @property
    def sandbox_command(self) -> list[str]:
        """The full command line of the last sandboxed launch (empty if none)."""
        return list(self._sandbox.command) if self._sandbox else []

    @property
    def sandbox_info(self) -> dict:
        """bubblewrap's description of the running sandbox (``child-pid``, ``pid-namespace``...)."""
        return dict(self._sandbox.read_info()) if self._sandbox else {}

    def sandbox_pids(self) -> list[int]:
        """Host pids of every live process of the sandbox, bubblewrap included."""
        if self._sandbox is None:
            return []
        pids = []
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        if process is not None and process.poll() is None:
            pids.append(process.pid)
        namespace = self._sandbox.read_info().get("pid-namespace")
        if namespace:
            pids += [p for p in sandbox_process_ids(namespace) if p not in pids]
        return pids

    # ------------------------------------------------------------------ the sandbox

    def _readonly_sources(self) -> list[str]:
        """Python installation, virtual environment, package folders, extras (existing, deduplicated)."""
        for name in self.packages:
            if importlib.util.find_spec(name) is None:
                self.log.warning("sandbox: package %r is not importable here; not bound", name)
        return readonly_sources(self.packages, self.readonly_paths)

    @staticmethod
    def _check_workdir(workdir: str, readonly: list[str]) -> None:
        """Refuse a working directory whose read-write binding would expose too much.

        It must not contain a read-only source (the repository around ``course``,
        a home holding the Python installation), the grader's own working
        directory (nbgrader's course root) or the grader's home.
        """
        exposed = [p for p in [*readonly, os.getcwd(), str(Path.home()), "/"] if within(p, workdir)]
        if exposed:
            raise RuntimeError(f"refusing to run a sandboxed kernel in {workdir}: binding it "
                               f"read-write would expose {exposed}")

    def _kernel_env(self, env: dict[str, str], workdir: str, kernel_cmd: list[str]) -> dict[str, str]:
        """The kernel's environment: the allow-listed variables plus fixed sandbox settings."""
        bindir = os.path.dirname(kernel_cmd[0]) if os.path.isabs(kernel_cmd[0]) else ""
        fixed = {
            "HOME": workdir,
            "PATH": ":".join(p for p in (bindir, "/usr/local/bin", "/usr/bin", "/bin") if p),
            "TMPDIR": "/tmp",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "KERAS_HOME": "/tmp/keras",
            "IPYTHONDIR": "/tmp/ipython",
            "XDG_CACHE_HOME": "/tmp/cache",
            "XDG_CONFIG_HOME": "/tmp/config",
            "XDG_DATA_HOME": "/tmp/data",
            "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
            "PYTHONNOUSERSITE": "1",
            # The grader's pid means nothing in the sandbox's PID namespace, where the
            # kernel's parent is bubblewrap's PID 1: ipykernel then neither polls its
            # parent nor prints its "Ctrl-C will not work" banner.
            "JPY_PARENT_PID": "1",
        }
        out = self.sandbox_env(env, fixed, self.packages)
        out.pop(GRADED_DATA_ENV, None)
        if self.graded_data_dir:
            out[GRADED_DATA_ENV] = GRADED_DATA_MOUNT
        return out

    def _wrap(self, box: _KernelBox, kernel_cmd: list[str], kw: dict) -> tuple[list[str], dict]:
        """Build ``prlimit ... -- bwrap ... -- [setpriv ...] kernel_cmd`` and its Popen options."""
        kw = dict(kw)
        workdir = kw.get("cwd")
        if not workdir:
            workdir = os.path.join(box.private_dir, "work")
            os.makedirs(workdir, exist_ok=True)
        workdir = os.path.realpath(workdir)
        readonly = self._readonly_sources()
        self._check_workdir(workdir, readonly)
        if box.workdir is None:
            box.workdir, box.files_before = workdir, frozenset(regular_files(workdir))
        if box.privileged and box.lent is None:
            box.lent = lend_tree(workdir, box.uid, box.gid)

        # The connection file lives in root's runtime folder: give the kernel a copy.
        connection = os.path.join(box.private_dir, "connection.json")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(connection)
        fd = os.open(connection, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(Path(self.connection_file).read_bytes())
        if box.privileged:
            os.chown(connection, box.uid, box.gid)
        originals = {self.connection_file, os.path.realpath(self.connection_file)}
        inner = []
        for arg in kernel_cmd:
            for original in originals:
                arg = arg.replace(original, connection)
            inner.append(arg)

        readonly_binds = [(p, p) for p in readonly]
        if self.graded_data_dir:
            readonly_binds.append((self.graded_data_dir, GRADED_DATA_MOUNT))
        if box.info_fd is not None or box.info:  # a restart: the previous sandbox must be gone
            self._reap(box.read_info(timeout=1).get("pid-namespace"))
            box.info, box.info_fd = {}, None
        read_fd, write_fd = os.pipe()
        box.info_fd = read_fd
        spec = SandboxSpec(
            box.uid, box.gid, limits=self.limits(), readonly=readonly_binds,
            writable=[(workdir, workdir), (box.private_dir, box.private_dir)],
            devices=list(self.device_paths), masked=list(self.withheld_paths),
            private_dir=box.private_dir, keras_cache=keras_dataset_cache(),
            env=self._kernel_env(kw.get("env") or os.environ, workdir, inner), chdir=workdir,
            tmpfs_size_mib=self.tmpfs_size_mib, bwrap=self.bwrap_path, info_fd=write_fd,
            privileged=box.privileged)
        cmd = bwrap_command(spec, inner)
        box.command = cmd
        kw.update(cwd=workdir, env={"PATH": HOST_PATH, "LANG": "C.UTF-8"}, pass_fds=(write_fd,))
        return cmd, kw

    def _reap(self, namespace: int | None, timeout: float = 10) -> None:
        """Wait until no process of the PID namespace ``namespace`` is left, killing stragglers."""
        deadline = time.monotonic() + timeout
        while namespace and time.monotonic() < deadline:
            left = sandbox_process_ids(namespace)
            if not left:
                return
            for pid in left:  # bwrap's PID 1 is gone: these are being killed by the kernel
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        if namespace:
            self.log.error("sandbox processes %s survived their sandbox", sandbox_process_ids(namespace))

    def _teardown(self, box: _KernelBox) -> None:
        """Kill whatever is left of the sandbox, restore the lent folder, remove the private one.

        A working directory that went over the disk limit loses the largest files
        written during the run until it fits.
        """
        if box.watch is not None:
            box.watch.stop()
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self._reap(box.read_info(timeout=1).get("pid-namespace"))
        if box.workdir and self.max_workdir_mib > 0 and folder_bytes(box.workdir) > self.max_workdir_mib * MIB:
            for rel, size in prune_folder(box.workdir, self.max_workdir_mib * MIB, keep=box.files_before):
                self.log.error("deleted %s (%d bytes) written by the sandbox: over the disk limit", rel, size)
        if box.lent is not None:
            try:
                restore_tree(box.workdir, box.lent)
            except OSError as exc:
                self.log.error("could not give %s back to its owner: %s", box.workdir, exc)
            box.lent = None
        shutil.rmtree(box.private_dir, ignore_errors=True)
        if self._sandbox is box:
            self._sandbox = None


class AsyncSandboxedKernelManager(SandboxedKernelManager, AsyncKernelManager):
    """The asynchronous sandboxed kernel manager (what nbgrader and nbclient use by default)."""

    pre_start_kernel = SandboxedKernelManager._async_pre_start_kernel
    _launch_kernel = SandboxedKernelManager._async_launch_kernel
    cleanup_resources = SandboxedKernelManager._async_cleanup_resources


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` preprocessor, with kernels in the sandbox.

    Put it in place of ``Execute`` in ``c.Autograde.autograde_preprocessors``;
    ``c.Execute.*`` options (timeout, interrupt_on_timeout...) still apply.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", AsyncSandboxedKernelManager)
        super().__init__(*args, **kwargs)
