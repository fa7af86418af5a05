"""Filesystem and process helpers of the grading sandbox.

Lending a working directory to the sandbox's uid and giving it back, sizing
and pruning a folder (the disk limit), the watchdog thread that enforces it
while a kernel runs, and finding the live processes of a sandbox's PID
namespace.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

__all__ = ["FolderWatch", "ancestors", "folder_bytes", "lend_tree", "prune_folder", "regular_files",
           "restore_tree", "sandbox_process_ids", "within"]


def ancestors(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``."""
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies below it (by spelling)."""
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


def lend_tree(root: str, uid: int, gid: int) -> dict[str, tuple[int, int]]:
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


def restore_tree(root: str, owners: dict[str, tuple[int, int]]) -> None:
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


def regular_files(root: str) -> dict[str, os.stat_result]:
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
    return sum(st.st_size for st in regular_files(str(root)).values())


def prune_folder(root: str | Path, max_bytes: float, keep=()) -> list[tuple[str, int]]:
    """Delete the largest files under ``root`` until it holds at most ``max_bytes``.

    Files whose relative path is in ``keep`` are never deleted.  Returns the
    deleted files as ``(relative path, size)``, largest first.
    """
    files = regular_files(str(root))
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


class FolderWatch(threading.Thread):
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
