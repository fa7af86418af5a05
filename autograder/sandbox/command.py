"""The one bubblewrap command builder: a :class:`SandboxSpec` in, an argv out.

Every sandbox of the grader (the usability probe, a grading kernel, a
one-shot model evaluation) is described by a :class:`SandboxSpec` (what is
bound where, the environment, the tmpfs size, the devices, the uid, the
:class:`Limits`) and turned into ``prlimit LIMITS -- bwrap OPTIONS --
[setpriv ...] CMD`` by :func:`bwrap_command` alone.  Specs are made from the
configured :class:`~autograder.sandbox.settings.Sandbox` settings, so the
two kinds of sandbox cannot drift apart.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.fs import ancestors, within

__all__ = ["MIB", "Limits", "SandboxSpec", "bwrap_command", "bwrap_usable", "keras_dataset_cache",
           "mask_args", "package_search_path", "passed_env", "privileged", "readonly_sources"]

MIB = 1024 * 1024

KERAS_CACHE_MOUNT = "/tmp/keras/datasets"
"""Where a sandbox sees the grader's Keras dataset cache (read-only)."""

ETC_ALLOW = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "host.conf",
    "hosts", "gai.conf", "protocols", "services", "localtime", "timezone", "locale.alias",
    "mime.types", "ssl/certs", "ssl/openssl.cnf", "alternatives", "fonts", "matplotlibrc",
    "os-release",
)
"""Entries of ``/etc`` bound read-only into the sandbox when they exist."""

ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
"""Top-level entries mirrored from the host: symlinks stay symlinks, folders are bound."""

HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""``PATH`` under which the grader starts prlimit and bubblewrap."""


def privileged() -> bool:
    """Whether this process is root (then sandboxed code runs as an unprivileged uid)."""
    return os.geteuid() == 0


@dataclass(frozen=True)
class Limits:
    """prlimit limits of every process in a sandbox; 0 means none."""

    memory_limit_mib: int = 0
    """Address space (``RLIMIT_AS``) in MiB."""
    cpu_time_s: int = 0
    """CPU seconds, all threads together."""
    max_processes: int = 0
    """Processes and threads of the sandbox's real uid (``RLIMIT_NPROC``)."""
    max_file_size_mib: int = 0
    """Largest file a process may write, in MiB."""

    def prlimit_args(self) -> list[str]:
        """``prlimit --as=... --cpu=... --nproc=... --fsize=... --core=0 --``."""
        args = ["prlimit"]
        if self.memory_limit_mib > 0:
            args.append(f"--as={self.memory_limit_mib * MIB}")
        if self.cpu_time_s > 0:
            args.append(f"--cpu={self.cpu_time_s}")
        if self.max_processes > 0:
            args.append(f"--nproc={self.max_processes}")
        if self.max_file_size_mib > 0:
            args.append(f"--fsize={self.max_file_size_mib * MIB}")
        return [*args, "--core=0", "--"]


@dataclass
class SandboxSpec:
    """Everything one sandbox is made of; :func:`bwrap_command` turns it into a command."""

    uid: int
    gid: int
    limits: Limits = field(default_factory=Limits)
    readonly: list[tuple[str, str]] = field(default_factory=list)
    """``(host path, sandbox path)`` bound read-only, in order."""
    writable: list[tuple[str, str]] = field(default_factory=list)
    """``(host path, sandbox path)`` bound read-write (after the read-only ones)."""
    devices: list[str] = field(default_factory=list)
    """Host device nodes bound at their place when they exist."""
    masked: list[str] = field(default_factory=list)
    """Host paths hidden behind empty files or folders (see :func:`mask_args`)."""
    private_dir: str = ""
    """Grader-owned folder for the empty mask files (needed when ``masked`` is not empty)."""
    keras_cache: str | None = None
    """The grader's Keras dataset cache, bound read-only at :data:`KERAS_CACHE_MOUNT`."""
    env: dict[str, str] = field(default_factory=dict)
    """The complete environment of the sandboxed command."""
    chdir: str | None = None
    tmpfs_size_mib: int = 0
    """Size of each private tmpfs (``/tmp``, ``/dev/shm``); 0 for the kernel's default."""
    bwrap: str = "bwrap"
    info_fd: int | None = None
    """A write end of a pipe for bubblewrap's ``--info-fd`` JSON (kernels use it)."""
    privileged: bool = field(default_factory=privileged)


@functools.lru_cache(maxsize=8)
def bwrap_options(bwrap: str) -> frozenset[str]:
    """The long options this bubblewrap accepts (from ``bwrap --help``)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30,
                              check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(word for word in text.split() if word.startswith("--"))


def _namespace_args(is_root: bool, bwrap: str) -> list[str]:
    """bubblewrap namespace and privilege options for the grader's identity.

    As root, bubblewrap builds the sandbox without a user namespace (so that
    ``setpriv`` can then become a real unprivileged host uid); otherwise
    ``--unshare-all`` creates a user namespace, and further ones are disabled
    where bubblewrap supports it (0.8+).
    """
    if is_root:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try"]
    args = ["--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
    if "--disable-userns" in bwrap_options(bwrap):
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
            inside = {KERAS_CACHE_MOUNT + target[len(cache.rstrip("/")):]
                      for cache in {keras_cache, os.path.realpath(keras_cache)}
                      for target in targets if within(target, cache)}
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


def _bind_args(binds: list[tuple[str, str, str]]) -> list[str]:
    """``--ro-bind``/``--bind`` options, creating the missing parents of each destination."""
    args: list[str] = []
    made = {"/", "/usr", "/etc", "/proc", "/dev", "/tmp", *(f"/{n}" for n in ROOT_LINKS)}
    mounted = ["/usr", "/proc", "/dev", "/etc"]
    for kind, src, dest in binds:
        for parent in ancestors(dest):
            if parent not in made and not any(within(parent, m) for m in mounted):
                args += ["--dir", parent]
                made.add(parent)
        args += [kind, src, dest]
        mounted.append(dest)
    return args


def bwrap_command(spec: SandboxSpec, cmd: list[str]) -> list[str]:
    """``prlimit ... -- bwrap ... -- [setpriv ...] cmd``: the only place a sandbox argv is built."""
    bwrap = shutil.which(spec.bwrap) or spec.bwrap
    tmpfs = ["--perms", "1777"]
    if spec.tmpfs_size_mib > 0 and "--size" in bwrap_options(bwrap):
        tmpfs += ["--size", str(spec.tmpfs_size_mib * MIB)]
    args = [bwrap, *_namespace_args(spec.privileged, bwrap), "--die-with-parent", "--new-session",
            "--hostname", "sandbox", *_system_args(), "--proc", "/proc", "--dev", "/dev",
            *tmpfs, "--tmpfs", "/tmp", *tmpfs, "--tmpfs", "/dev/shm"]
    for dev in spec.devices:
        args += ["--dev-bind-try", dev, dev]
    binds = [("--ro-bind", src, dest) for src, dest in spec.readonly]
    binds += [("--bind", src, dest) for src, dest in spec.writable]
    if spec.keras_cache:
        binds.append(("--ro-bind", spec.keras_cache, KERAS_CACHE_MOUNT))
    args += _bind_args(binds)
    if spec.masked:
        args += mask_args(spec.masked, spec.private_dir, spec.keras_cache)
    if spec.chdir:
        args += ["--chdir", spec.chdir]
    args.append("--clearenv")
    for key, value in sorted(spec.env.items()):
        args += ["--setenv", key, value]
    if spec.info_fd is not None:
        args += ["--info-fd", str(spec.info_fd)]
    args.append("--")
    if spec.privileged:
        args += _setpriv_args(spec.uid, spec.gid)
    return spec.limits.prlimit_args() + args + list(cmd)


@functools.lru_cache(maxsize=8)
def _bwrap_usable(bwrap: str, is_root: bool, uid: int, gid: int) -> tuple[bool, str]:
    tools = [bwrap, "prlimit"] + (["setpriv"] if is_root else [])
    for tool in tools:
        if shutil.which(tool) is None:
            package = "bubblewrap" if tool == bwrap else "util-linux"
            return False, f"`{tool}` was not found on PATH (install the Debian package {package})"
    cmd = bwrap_command(SandboxSpec(uid, gid, bwrap=bwrap, privileged=is_root), ["/usr/bin/true"])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False,
                              env={"PATH": HOST_PATH})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`{shlex.join(cmd)}` could not run: {exc}"
    if proc.returncode != 0:
        why = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        hint = ("" if is_root else " (unprivileged user namespaces may be disabled: check "
                "`sysctl kernel.unprivileged_userns_clone user.max_user_namespaces "
                "kernel.apparmor_restrict_unprivileged_userns`)")
        return False, f"a test sandbox failed: {why}{hint}"
    return True, "bubblewrap works" + (f" (sandboxes run as uid {uid})" if is_root else "")


def bwrap_usable(bwrap: str = "bwrap", uid: int = 65534, gid: int = 65534) -> tuple[bool, str]:
    """Try a real sandbox (``bwrap <namespaces> ... true``); return ``(ok, why)``.

    ``why`` explains a failure in one sentence (missing tool, namespaces
    refused...).  As root the test also drops to ``uid:gid`` with ``setpriv``,
    exactly like a grading kernel.  The answer is cached per process.
    """
    return _bwrap_usable(bwrap, privileged(), uid, gid)


def _package_folders(packages) -> list[str]:
    """The folders (or module files) the grader's own imports of ``packages`` resolve to."""
    paths = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            paths += list(spec.submodule_search_locations)
        elif spec.origin:
            paths.append(spec.origin)
    return paths


def readonly_sources(packages=("course",), extra=()) -> list[str]:
    """Host paths a sandboxed Python needs read-only: its installation and ``packages``.

    Existing paths only, both spelling and real path, without paths nested in
    another kept path or in ``/usr`` (bound anyway).
    """
    paths = [sys.base_prefix, sys.prefix, *_package_folders(packages), *extra]
    result: list[str] = []
    for path in paths:
        for candidate in {os.path.abspath(path), os.path.realpath(path)}:
            if os.path.exists(candidate) and candidate not in result:
                result.append(candidate)
    result.sort(key=lambda p: (p.count("/"), p))
    kept: list[str] = []
    for path in result:
        if not any(within(path, k) for k in [*kept, "/usr"]):
            kept.append(path)
    return kept


def package_search_path(packages) -> str:
    """``PYTHONPATH`` that makes a sandboxed Python import ``packages`` from where the grader does.

    An editable install resolves a package through a finder that may point
    at another checkout than the one the grader imported (a course directory
    that is itself a clone, a ``sys.path`` entry of the grader's working
    directory): naming the parents of the folders the grader resolved makes
    the sandbox import exactly those (only they are bound; the rest of each
    parent folder does not exist inside).
    """
    parents: list[str] = []
    installed = [sys.prefix, sys.base_prefix]
    for path in _package_folders(packages):
        parent = os.path.dirname(os.path.abspath(path))
        if parent not in parents and not any(within(parent, p) for p in installed):
            parents.append(parent)
    return os.pathsep.join(parents)


def passed_env(env: dict[str, str], patterns) -> dict[str, str]:
    """The variables of ``env`` whose names match one of the fnmatch ``patterns``."""
    return {k: v for k, v in env.items() if any(fnmatch.fnmatchcase(k, pat) for pat in patterns)}


def keras_dataset_cache() -> str | None:
    """The grader's Keras dataset cache (offline copies), if there is one."""
    cache = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    return str(cache) if cache.is_dir() else None
