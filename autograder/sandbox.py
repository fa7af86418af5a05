"""Run grading kernels inside a bubblewrap sandbox.

nbgrader executes every submitted notebook in a Jupyter kernel on the
grader's machine.  :class:`SandboxedKernelManager` (and its asynchronous
twin :class:`AsyncSandboxedKernelManager`, the one to give nbgrader) starts
that kernel inside `bubblewrap <https://github.com/containers/bubblewrap>`_
under resource limits, so that a submission is just an untrusted program
with a private view of the machine.  In ``nbgrader_config.py``, use
:class:`SandboxedExecute` (or its subclass
:class:`autograder.execute.RobustExecute`, which the course uses) instead of
nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``, and tune the limits with
``c.SandboxedKernelManager.memory_limit_mb = ...`` etc.
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
  unprivileged host user :attr:`~SandboxedKernelManager.sandbox_uid`
  (``nobody``) with no capabilities, an empty bounding set and
  ``no_new_privs`` (all mounts are also ``nosuid``); otherwise it runs as the
  grader's own user inside a user namespace, with every capability dropped
  and further user namespaces disabled;
* gets a clean environment (an allow-list of variables, see
  :attr:`~SandboxedKernelManager.env_passthrough`), ``HOME`` set to the
  working directory and caches (Matplotlib, Keras, IPython) in ``/tmp``;
* runs under ``prlimit``: address space, CPU seconds, processes (threads
  count) and file size are limited, core dumps are off;
* dies with the grader (``--die-with-parent``) and, being PID 1's child in its
  own PID namespace, takes every process it started with it when it is shut
  down or killed.

Disk: ``/tmp`` and ``/dev/shm`` are size-limited tmpfs; each file is
limited by ``max_file_size_mb``; the working directory as a whole by
``max_workdir_mb``, enforced by a watchdog thread that sizes it every
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
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import importlib.util
import json
import os
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode, default

from course.graded_data import GRADED_DATA_ENV

__all__ = [
    "AsyncSandboxedKernelManager",
    "SandboxedExecute",
    "SandboxedKernelManager",
    "bwrap_usable",
    "mask_args",
    "readonly_sources",
    "sandbox_command",
    "sandbox_process_ids",
]

MIB = 1024 * 1024

GRADED_DATA_MOUNT = "/tmp/graded-data"
"""Where a kernel sandbox sees the grader's graded-run data (``graded_data_dir``)."""

ETC_ALLOW = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "host.conf",
    "hosts", "gai.conf", "protocols", "services", "localtime", "timezone", "locale.alias",
    "mime.types", "ssl/certs", "ssl/openssl.cnf", "alternatives", "fonts", "matplotlibrc",
    "os-release",
)
"""Entries of ``/etc`` bound read-only into the sandbox when they exist."""

ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
"""Top-level entries mirrored from the host: symlinks stay symlinks, folders are bound."""

DEFAULT_ENV_PASSTHROUGH = [
    "LANG", "LANGUAGE", "LC_*", "TZ", "TERM", "TF_CPP_*", "TF_ENABLE_*", "TF_FORCE_*", "TF_GPU_*",
    "TF_NUM_*", "TF_DETERMINISTIC_OPS", "TF_XLA_FLAGS", "TF_USE_LEGACY_KERAS", "KERAS_BACKEND", "CNN_COURSE_*",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "PYTHONHASHSEED", "PYTHONWARNINGS", "CUDA_VISIBLE_DEVICES", "JPY_SESSION_NAME",
    "PYDEVD_DISABLE_FILE_VALIDATION",
]

_HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _privileged() -> bool:
    """Whether this process is root (then the kernel runs as ``sandbox_uid``)."""
    return os.geteuid() == 0


@functools.lru_cache(maxsize=8)
def _bwrap_options(bwrap: str) -> frozenset[str]:
    """The long options this bubblewrap accepts (from ``bwrap --help``)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30,
                              check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(word for word in text.split() if word.startswith("--"))


def _namespace_args(privileged: bool, bwrap: str = "bwrap") -> list[str]:
    """bubblewrap namespace and privilege options for the grader's identity.

    As root, bubblewrap builds the sandbox without a user namespace (so that
    ``setpriv`` can then become a real unprivileged host uid); otherwise
    ``--unshare-all`` creates a user namespace, and further ones are disabled
    where bubblewrap supports it (0.8+).
    """
    if privileged:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try"]
    args = ["--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
    if "--disable-userns" in _bwrap_options(bwrap):
        args.append("--disable-userns")
    return args


def _setpriv_args(uid: int, gid: int) -> list[str]:
    """Drop from root to ``uid:gid`` for good: no groups, capabilities or new privileges."""
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
            "--bounding-set=-all", "--inh-caps=-all", "--"]


def _system_args() -> list[str]:
    """Read-only ``/usr``, the top-level links/folders and the ``/etc`` allow-list."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_LINKS:
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    made = {"/etc"}
    args += ["--dir", "/etc"]
    for name in ETC_ALLOW:
        path = Path("/etc", name)
        if path.exists():
            if str(path.parent) not in made:
                args += ["--dir", str(path.parent)]
                made.add(str(path.parent))
            args += ["--ro-bind", str(path), str(path)]
    return args


@functools.lru_cache(maxsize=8)
def _bwrap_usable(bwrap: str, privileged: bool, uid: int, gid: int) -> tuple[bool, str]:
    tools = [bwrap, "prlimit"] + (["setpriv"] if privileged else [])
    for tool in tools:
        if shutil.which(tool) is None:
            package = "bubblewrap" if tool == bwrap else "util-linux"
            return False, f"`{tool}` was not found on PATH (install the Debian package {package})"
    inner = _setpriv_args(uid, gid) if privileged else []
    bwrap = shutil.which(bwrap)
    cmd = [bwrap, *_namespace_args(privileged, bwrap), "--die-with-parent", "--new-session",
           *_system_args(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--clearenv",
           "--", *inner, "/usr/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False,
                              env={"PATH": _HOST_PATH})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`{shlex.join(cmd)}` could not run: {exc}"
    if proc.returncode != 0:
        why = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        hint = ("" if privileged else " (unprivileged user namespaces may be disabled: check "
                "`sysctl kernel.unprivileged_userns_clone user.max_user_namespaces "
                "kernel.apparmor_restrict_unprivileged_userns`)")
        return False, f"a test sandbox failed: {why}{hint}"
    return True, "bubblewrap works" + (f" (kernels run as uid {uid})" if privileged else "")


def bwrap_usable(bwrap: str = "bwrap", uid: int = 65534, gid: int = 65534) -> tuple[bool, str]:
    """Try a real sandbox (``bwrap <namespaces> ... true``); return ``(ok, why)``.

    ``why`` explains a failure in one sentence (missing tool, namespaces
    refused...).  As root the test also drops to ``uid:gid`` with ``setpriv``,
    exactly like a grading kernel.  The answer is cached per process.
    """
    return _bwrap_usable(bwrap, _privileged(), uid, gid)


def _ancestors(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``."""
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _pid_namespace(pid: int | str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def _alive(pid: int | str) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def sandbox_process_ids(pid_namespace: int) -> list[int]:
    """Host pids of the live (non-zombie) processes in the PID namespace ``pid_namespace``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _pid_namespace(entry) == pid_namespace and _alive(entry):
            pids.append(int(entry))
    return pids


def _owner(st: os.stat_result) -> tuple[int, int]:
    return st.st_uid, st.st_gid


def _lend_tree(root: str, uid: int, gid: int) -> dict[str, tuple[int, int]]:
    """``chown -R`` ``root`` to ``uid:gid`` without following links; return previous owners."""
    owners = {".": _owner(os.lstat(root))}
    os.chown(root, uid, gid, follow_symlinks=False)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            owners[os.path.normpath(os.path.join(rel, name))] = _owner(st)
            os.chown(name, uid, gid, dir_fd=dirfd, follow_symlinks=False)
    return owners


def _restore_tree(root: str, owners: dict[str, tuple[int, int]]) -> None:
    """Give a lent tree back: recorded owners, new entries to the root's owner, set-id bits off.

    Unknown files with several hard links are left alone (they may be links to
    files outside the tree).
    """
    default = owners.get(".", (0, 0))
    os.chown(root, *default, follow_symlinks=False)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            key = os.path.normpath(os.path.join(rel, name))
            try:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                if key not in owners and stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    os.chmod(name, stat.S_IMODE(st.st_mode) & ~0o6000, dir_fd=dirfd)
                os.chown(name, *owners.get(key, default), dir_fd=dirfd, follow_symlinks=False)
            except FileNotFoundError:
                continue


def _regular_files(root: str) -> dict[str, os.stat_result]:
    """Regular files under ``root`` by relative path (links not followed, hard links once)."""
    files, seen = {}, set()
    for dirpath, _, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            try:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                files[os.path.normpath(os.path.join(rel, name))] = st
    return files


def folder_bytes(root: str | Path) -> int:
    """Total size in bytes of the regular files under ``root``."""
    return sum(st.st_size for st in _regular_files(str(root)).values())


def prune_folder(root: str | Path, max_bytes: float, keep=()) -> list[tuple[str, int]]:
    """Delete the largest files under ``root`` until it holds at most ``max_bytes``.

    Files whose relative path is in ``keep`` are never deleted.  Returns the
    deleted files as ``(relative path, size)``, largest first.
    """
    files = _regular_files(str(root))
    total = sum(st.st_size for st in files.values())
    deleted = []
    for rel, st in sorted(files.items(), key=lambda item: -item[1].st_size):
        if total <= max_bytes:
            break
        if rel in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, rel))
        total -= st.st_size
        deleted.append((rel, st.st_size))
    return deleted


class _FolderWatch(threading.Thread):
    """Polls the size of a folder; calls ``on_exceed(size)`` once it passes ``limit`` bytes."""

    def __init__(self, folder: str, limit: int, interval: float, on_exceed):
        super().__init__(name=f"folder-watch {folder}", daemon=True)
        self.folder, self.limit, self.interval, self.on_exceed = folder, limit, interval, on_exceed
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                size = folder_bytes(self.folder)
            except OSError:
                continue
            if size > self.limit:
                self.on_exceed(size)
                return

    def stop(self) -> None:
        """End the polling (the thread exits within one interval)."""
        self._done.set()


def default_sandbox_uid() -> int:
    """The host uid (and gid) sandboxes run as by default: ``$CNN_COURSE_SANDBOX_UID`` or nobody.

    Per-uid limits (the process limit) are shared by every sandbox of a uid;
    graders running side by side (parallel workers, parallel test processes)
    each use their own.
    """
    return int(os.environ.get("CNN_COURSE_SANDBOX_UID", "65534"))


def readonly_sources(packages=("course",), extra=()) -> list[str]:
    """Host paths a sandboxed Python needs read-only: its installation and ``packages``.

    Existing paths only, both spelling and real path, without paths nested in
    another kept path or in ``/usr`` (bound anyway).
    """
    paths = [sys.base_prefix, sys.prefix]
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            paths += list(spec.submodule_search_locations)
        elif spec.origin:
            paths.append(spec.origin)
    paths += list(extra)
    result: list[str] = []
    for path in paths:
        for candidate in {os.path.abspath(path), os.path.realpath(path)}:
            if os.path.exists(candidate) and candidate not in result:
                result.append(candidate)
    result.sort(key=lambda p: (p.count("/"), p))
    kept: list[str] = []
    for path in result:
        if not any(_within(path, k) for k in [*kept, "/usr"]):
            kept.append(path)
    return kept


def keras_dataset_cache() -> str | None:
    """The grader's Keras dataset cache (offline copies), if there is one."""
    cache = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    return str(cache) if cache.is_dir() else None


def sandbox_command(cmd: list[str], *, readonly: dict[str, str] | None = None,
                    packages=("course", "autograder"), memory_limit_mb: int = 8192,
                    cpu_time_s: int = 900, max_processes: int = 256, max_file_size_mb: int = 64,
                    env: dict[str, str] | None = None, bwrap: str = "bwrap",
                    uid: int | None = None, gid: int | None = None) -> list[str]:
    """Wrap a one-shot command (not a kernel) in the same kind of sandbox as the kernels.

    No network, read-only system and Python, private ``/tmp`` as the only
    writable place, ``readonly`` host paths bound read-only at the given
    destinations, the grader's Keras dataset cache read-only, resource limits,
    and (as root) an unprivileged uid.  Used to evaluate student model files
    (:mod:`autograder.models`).  Raises ``RuntimeError`` when bubblewrap is
    unusable.
    """
    uid = default_sandbox_uid() if uid is None else uid
    gid = uid if gid is None else gid
    privileged = _privileged()
    ok, why = _bwrap_usable(bwrap, privileged, uid, gid)
    if not ok:
        raise RuntimeError(f"bubblewrap is unusable: {why}")
    bwrap = shutil.which(bwrap) or bwrap
    limits = ["prlimit", f"--as={memory_limit_mb * MIB}", f"--cpu={cpu_time_s}",
              f"--nproc={max_processes}", f"--fsize={max_file_size_mb * MIB}", "--core=0", "--"]
    args = [bwrap, *_namespace_args(privileged, bwrap), "--die-with-parent", "--new-session",
            "--hostname", "sandbox", *_system_args(), "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp"]
    binds = [(p, p) for p in readonly_sources(packages)]
    cache = keras_dataset_cache()
    if cache:
        binds.append((cache, "/tmp/keras/datasets"))
    binds += sorted((readonly or {}).items())
    made = {"/", "/usr", "/etc", "/proc", "/dev", "/tmp", *(f"/{n}" for n in ROOT_LINKS)}
    mounted = ["/usr", "/proc", "/dev", "/etc"]
    for src, dest in binds:
        for parent in _ancestors(dest):
            if parent not in made and not any(_within(parent, m) for m in mounted):
                args += ["--dir", parent]
                made.add(parent)
        args += ["--ro-bind", src, dest]
        mounted.append(dest)
    fixed = {"HOME": "/tmp", "TMPDIR": "/tmp", "KERAS_HOME": "/tmp/keras", "PYTHONNOUSERSITE": "1",
             "MPLCONFIGDIR": "/tmp/matplotlib", "PATH": "/usr/local/bin:/usr/bin:/bin"}
    passed = {k: v for k, v in (env if env is not None else os.environ).items()
              if any(fnmatch.fnmatchcase(k, pat) for pat in DEFAULT_ENV_PASSTHROUGH)}
    args += ["--chdir", "/tmp", "--clearenv"]
    for key, value in sorted({**passed, **fixed}.items()):
        args += ["--setenv", key, value]
    args.append("--")
    if privileged:
        args += _setpriv_args(uid, gid)
    return limits + args + list(cmd)


def mask_args(paths, private_dir: str, keras_cache: str | None) -> list[str]:
    """bubblewrap options that hide ``paths`` (host files and folders) from the sandbox.

    Bound after everything else, so they cover what the Python installation or
    the Keras cache binds expose: a file is covered by an empty read-only file
    (made in ``private_dir``), a folder by an empty read-only folder.  Each path
    is masked under its own spelling and its real path, and, when it lies in
    the grader's ``keras_cache``, at that cache's place in the sandbox.
    """
    empty_file = os.path.join(private_dir, "withheld")
    empty_dir = os.path.join(private_dir, "withheld.d")
    args: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            continue
        targets = {os.path.abspath(path), os.path.realpath(path)}
        if keras_cache:
            inside = {"/tmp/keras/datasets" + target[len(cache.rstrip("/")):]
                      for cache in {keras_cache, os.path.realpath(keras_cache)}
                      for target in targets if _within(target, cache)}
            targets |= inside
        if os.path.isdir(path):
            os.makedirs(empty_dir, mode=0o555, exist_ok=True)
            source = empty_dir
        else:
            if not os.path.exists(empty_file):
                Path(empty_file).touch(mode=0o444)
            source = empty_file
        for target in sorted(targets):
            args += ["--ro-bind", source, target]
    return args


class _Sandbox:
    """Per-kernel state: private folder, lent working directory, bubblewrap's info pipe."""

    def __init__(self, private_dir: str, privileged: bool, uid: int, gid: int):
        self.private_dir = private_dir
        self.privileged = privileged
        self.uid, self.gid = uid, gid
        self.workdir: str | None = None
        self.lent: dict[str, tuple[int, int]] | None = None   # previous owners, when lent
        self.files_before: frozenset[str] = frozenset()
        self.watch: _FolderWatch | None = None
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


class SandboxedKernelManager(KernelManager):
    """A :class:`~jupyter_client.manager.KernelManager` whose kernels run in bubblewrap.

    The kernel command becomes ``prlimit LIMITS -- bwrap OPTIONS -- [setpriv
    ...] KERNEL_CMD``; the transport is forced to ZeroMQ IPC sockets in a
    private folder bound into the sandbox (there is no network inside).  See
    the module docstring for what the sandbox allows.  With ``enabled =
    False`` this is a plain kernel manager.
    """

    enabled = Bool(True, help="Run kernels inside the bubblewrap sandbox.").tag(config=True)
    allow_unsandboxed = Bool(
        False,
        help="When bubblewrap is unusable, run the kernel unsandboxed with a warning instead "
             "of refusing to start it.",
    ).tag(config=True)
    memory_limit_mb = Integer(
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
                  "whole uid on the host, see the module docstring); 0 for none.",
    ).tag(config=True)
    max_file_size_mb = Integer(
        200, help="Largest file a sandboxed process may write, in MiB (prlimit --fsize); 0 for none.",
    ).tag(config=True)
    max_workdir_mb = Integer(
        200, help="Most the working directory may hold, in MiB: a watchdog polls its size every "
                  "workdir_poll_s and stops the sandbox when it grows past this, then deletes the "
                  "largest files written during the run until it fits; 0 for no limit.",
    ).tag(config=True)
    workdir_poll_s = Float(0.25, help="Seconds between two sizings of the working directory.").tag(config=True)
    tmpfs_size_mb = Integer(
        1024, help="Size of each private tmpfs (/tmp and /dev/shm) in MiB; they use host memory.",
    ).tag(config=True)
    readonly_paths = List(
        Unicode(), help="Extra host paths bound read-only at the same place (e.g. datasets).",
    ).tag(config=True)
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
    device_paths = List(
        Unicode(), help="Host device nodes to expose (e.g. /dev/nvidia0, /dev/nvidiactl, "
                        "/dev/nvidia-uvm for a GPU, with memory_limit_mb = 0 since CUDA reserves "
                        "huge address ranges); missing ones are skipped.",
    ).tag(config=True)
    packages = List(
        Unicode(), default_value=["course"],
        help="Importable packages whose folders (only) are bound read-only, for packages "
             "installed in editable mode outside the virtual environment.",
    ).tag(config=True)
    env_passthrough = List(
        Unicode(), default_value=DEFAULT_ENV_PASSTHROUGH,
        help="Environment variables (fnmatch patterns) passed into the sandbox; all others "
             "are dropped.",
    ).tag(config=True)
    sandbox_uid = Integer(
        help="Host uid the kernel runs as when the grader is root (default: "
             "$CNN_COURSE_SANDBOX_UID, else 65534, nobody).",
    ).tag(config=True)
    sandbox_gid = Integer(
        help="Host gid the kernel runs as when the grader is root (default: the uid's value "
             "from $CNN_COURSE_SANDBOX_UID, else 65534, nogroup).",
    ).tag(config=True)

    @default("sandbox_uid")
    def _default_uid(self) -> int:
        return default_sandbox_uid()

    @default("sandbox_gid")
    def _default_gid(self) -> int:
        return default_sandbox_uid()
    ipc_dir = Unicode(
        "", help="Folder in which each kernel's private folder (connection file, IPC sockets) "
                 "is created; empty for the system temporary folder.",
    ).tag(config=True)
    bwrap_path = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)

    _sandbox: _Sandbox | None = None
    stop_reason: str | None = None
    """Why the sandbox stopped the kernel itself (the disk limit), for the grader's message."""
    _keras_cache: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def _decide_sandbox(self) -> bool:
        """Whether this start is sandboxed; refuse (or warn) when bubblewrap is unusable."""
        if not self.enabled:
            return False
        ok, why = bwrap_usable(self.bwrap_path, self.sandbox_uid, self.sandbox_gid)
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
            privileged = _privileged()
            private = tempfile.mkdtemp(prefix="kernel-sandbox-", dir=self.ipc_dir or None)
            if privileged:
                os.chown(private, self.sandbox_uid, self.sandbox_gid)
            self._sandbox = _Sandbox(private, privileged, self.sandbox_uid, self.sandbox_gid)
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

    def _watch_folder(self, box: _Sandbox) -> None:
        """Start the disk-limit watchdog on the working directory (``max_workdir_mb``)."""
        self.stop_reason = None
        if box.watch is not None:
            box.watch.stop()
        if self.max_workdir_mb > 0 and box.workdir:
            box.watch = _FolderWatch(box.workdir, self.max_workdir_mb * MIB, self.workdir_poll_s,
                                     self._folder_exceeded)
            box.watch.start()

    def _folder_exceeded(self, size: int) -> None:
        """Watchdog callback: stop the whole sandbox at once; the files are pruned at teardown."""
        self.stop_reason = (f"its working folder grew to {size / MIB:.0f} MiB, past the sandbox's "
                            f"disk limit of {self.max_workdir_mb} MiB")
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
        self._keras_cache = keras_dataset_cache()
        return readonly_sources(self.packages, self.readonly_paths)

    @staticmethod
    def _check_workdir(workdir: str, readonly: list[str]) -> None:
        """Refuse a working directory whose read-write binding would expose too much.

        It must not contain a read-only source (the repository around ``course``,
        a home holding the Python installation), the grader's own working
        directory (nbgrader's course root) or the grader's home.
        """
        exposed = [p for p in [*readonly, os.getcwd(), str(Path.home()), "/"] if _within(p, workdir)]
        if exposed:
            raise RuntimeError(f"refusing to run a sandboxed kernel in {workdir}: binding it "
                               f"read-write would expose {exposed}")

    def _kernel_env(self, env: dict[str, str], workdir: str, kernel_cmd: list[str]) -> dict[str, str]:
        """The kernel's environment: the allow-listed variables plus fixed sandbox settings."""
        out = {k: v for k, v in env.items()
               if any(fnmatch.fnmatchcase(k, pat) for pat in self.env_passthrough)}
        bindir = os.path.dirname(kernel_cmd[0]) if os.path.isabs(kernel_cmd[0]) else ""
        out.update({
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
        })
        out.pop(GRADED_DATA_ENV, None)
        if self.graded_data_dir:
            out[GRADED_DATA_ENV] = GRADED_DATA_MOUNT
        return out

    def _limit_args(self) -> list[str]:
        args = ["prlimit"]
        if self.memory_limit_mb > 0:
            args.append(f"--as={self.memory_limit_mb * MIB}")
        if self.cpu_time_s > 0:
            args.append(f"--cpu={self.cpu_time_s}")
        if self.max_processes > 0:
            args.append(f"--nproc={self.max_processes}")
        if self.max_file_size_mb > 0:
            args.append(f"--fsize={self.max_file_size_mb * MIB}")
        return [*args, "--core=0", "--"]

    def _wrap(self, box: _Sandbox, kernel_cmd: list[str], kw: dict) -> tuple[list[str], dict]:
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
            box.workdir, box.files_before = workdir, frozenset(_regular_files(workdir))
        if box.privileged and box.lent is None:
            box.lent = _lend_tree(workdir, box.uid, box.gid)

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

        bwrap = shutil.which(self.bwrap_path) or self.bwrap_path
        tmpfs = ["--perms", "1777"]
        if self.tmpfs_size_mb > 0 and "--size" in _bwrap_options(bwrap):
            tmpfs += ["--size", str(self.tmpfs_size_mb * MIB)]
        args = [bwrap, *_namespace_args(box.privileged, bwrap), "--die-with-parent", "--new-session",
                "--hostname", "sandbox", *_system_args(), "--proc", "/proc", "--dev", "/dev",
                *tmpfs, "--tmpfs", "/tmp", *tmpfs, "--tmpfs", "/dev/shm"]
        for dev in self.device_paths:
            args += ["--dev-bind-try", dev, dev]

        binds = [("--ro-bind", p, p) for p in readonly]
        binds += [("--bind", workdir, workdir), ("--bind", box.private_dir, box.private_dir)]
        if self._keras_cache:  # offline Keras datasets of the grader, read-only
            binds.append(("--ro-bind", self._keras_cache, "/tmp/keras/datasets"))
        if self.graded_data_dir:
            binds.append(("--ro-bind", self.graded_data_dir, GRADED_DATA_MOUNT))
        made = {"/", "/usr", "/etc", "/proc", "/dev", "/tmp", *(f"/{n}" for n in ROOT_LINKS)}
        mounted = ["/usr", "/proc", "/dev", "/etc"]
        for kind, src, dest in binds:
            for parent in _ancestors(dest):
                if parent not in made and not any(_within(parent, m) for m in mounted):
                    args += ["--dir", parent]
                    made.add(parent)
            args += [kind, src, dest]
            mounted.append(dest)
        args += mask_args(self.withheld_paths, box.private_dir, self._keras_cache)

        env = self._kernel_env(kw.get("env") or os.environ, workdir, inner)
        args += ["--chdir", workdir, "--clearenv"]
        for key, value in sorted(env.items()):
            args += ["--setenv", key, value]

        if box.info_fd is not None:  # a restart: forget the previous sandbox's pipe
            with contextlib.suppress(OSError):
                os.close(box.info_fd)
            box.info, box.info_fd = {}, None
        read_fd, write_fd = os.pipe()
        box.info_fd = read_fd
        args += ["--info-fd", str(write_fd), "--"]
        if box.privileged:
            args += _setpriv_args(box.uid, box.gid)
        cmd = self._limit_args() + args + inner
        box.command = cmd
        kw.update(cwd=workdir, env={"PATH": _HOST_PATH, "LANG": "C.UTF-8"}, pass_fds=(write_fd,))
        return cmd, kw

    def _teardown(self, box: _Sandbox) -> None:
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
        namespace = box.read_info(timeout=1).get("pid-namespace")
        deadline = time.monotonic() + 10
        while namespace and time.monotonic() < deadline:
            left = sandbox_process_ids(namespace)
            if not left:
                break
            for pid in left:  # bwrap's PID 1 is gone: these are being killed by the kernel
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        else:
            if namespace:
                self.log.error("sandbox processes %s survived their sandbox",
                               sandbox_process_ids(namespace))
        if box.workdir and self.max_workdir_mb > 0 and folder_bytes(box.workdir) > self.max_workdir_mb * MIB:
            for rel, size in prune_folder(box.workdir, self.max_workdir_mb * MIB, keep=box.files_before):
                self.log.error("deleted %s (%d bytes) written by the sandbox: over the disk limit", rel, size)
        if box.lent is not None:
            try:
                _restore_tree(box.workdir, box.lent)
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
