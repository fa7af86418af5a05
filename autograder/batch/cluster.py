"""Grading on a Dask cluster: one task per submission, the client stays the single writer.

``cnn-course grade A --cluster local:N`` starts a :class:`distributed.LocalCluster`
of ``N`` single-threaded worker processes; ``--scheduler ADDRESS`` uses a running
cluster (``dask scheduler`` + ``dask worker ADDRESS --nthreads 1``, or the scheduler a
``dask-jobqueue``/Kubernetes cluster exposes).  Workers need no shared filesystem and
no connection to the gradebook: the assignment's files go to every worker once
(:func:`distributed.Client.scatter`, ``broadcast=True``), each task carries one
submission's files and a private SQLite gradebook (:mod:`autograder.batch.bundle`)
and returns the autograded folder, tamper report, gradebook and log as bytes.  The
client commits each result as it arrives, exactly as for the local pool, so an
interrupted batch resumes from its completion markers.

Sandboxing is unchanged on a worker (bubblewrap, limits from the course's
``c.Sandbox.*``).  Every worker thread grades as its own host uid: the worker's name
(``0..N-1`` in a LocalCluster) and thread pick the slot from
``$CNN_COURSE_SANDBOX_UID_BASE``.  With ``gpu=True`` each task asks for one
``GPU`` resource: start each GPU worker with ``--resources GPU=1`` and
``CUDA_VISIBLE_DEVICES`` set to its own device.

Faults: a worker that dies mid-task makes Dask run the task again elsewhere, up to
the scheduler's ``distributed.scheduler.allowed-failures``; past it the submission
is recorded as not graded with that reason.  A scheduler that cannot be reached,
or is lost mid-batch, stops the batch with :class:`ClusterUnavailable` (what was
committed stays committed; running the command again resumes).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.batch.bundle import assignment_bundle, result_bundle, submission_bundle, unpack
from autograder.batch.worker import SANDBOX_UID_BASE, grade_workspace
from autograder.grading import GradingError

CONNECT_TIMEOUT_S = 20
"""Seconds to wait for a scheduler given with ``--scheduler``."""

UIDS_PER_WORKER = 8
"""Sandbox uid slots per Dask worker (one per worker thread)."""


class ClusterUnavailable(GradingError):
    """The Dask scheduler cannot be reached, or the connection to it was lost."""


@dataclass
class TaskResult:
    """One finished task, as the single writer receives it."""

    student: str
    scratch: Path | None  # a local folder holding the unpacked results (None: nothing came back)
    code: int
    log: str
    seconds: float  # as the client saw it: queueing, transfers and grading
    worker_seconds: float = 0.0  # grading alone, on the worker
    reason: str | None = None  # why it was not graded, when Dask itself gave up on it


# ------------------------------------------------------------------------ on the worker

_thread_slots: dict[int, int] = {}
_slots_lock = threading.Lock()


def _sandbox_uid() -> int:
    """This worker thread's own sandbox uid (see the module docstring)."""
    from distributed import get_worker

    name = str(get_worker().name)
    worker = int(name) if name.isdigit() else zlib.crc32(name.encode()) % 10
    with _slots_lock:
        thread = _thread_slots.setdefault(threading.get_ident(), len(_thread_slots))
    base = int(os.environ.get("CNN_COURSE_SANDBOX_UID_BASE", SANDBOX_UID_BASE))
    return base + (worker * UIDS_PER_WORKER + thread % UIDS_PER_WORKER) % 100


def grade_task(assignment_files: bytes, submission_files: bytes, assignment: str, student: str,
               timeout: float | None, allow_unsandboxed: bool, env: dict[str, str]) -> dict:
    """A Dask task: grade one submission in a fresh local workspace; return plain data."""
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"cnn-course-{assignment}-"))
    try:
        unpack(assignment_files, scratch)
        unpack(submission_files, scratch)
        code, log = grade_workspace(scratch, assignment, student, timeout, allow_unsandboxed,
                                    uid=_sandbox_uid(), env=env)
        result = result_bundle(scratch, assignment, student) if code == 0 else b""
        return {"code": code, "log": log, "result": result, "host": socket.gethostname(),
                "seconds": time.perf_counter() - started}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------ on the client

def open_client(spec: str):
    """A :class:`distributed.Client` for ``local:N`` or a scheduler address; and what to close."""
    from distributed import Client, LocalCluster

    if spec.startswith("local:"):
        try:
            workers = int(spec.split(":", 1)[1])
        except ValueError:
            raise ClusterUnavailable(f"--cluster {spec}: expected local:N (N workers)") from None
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), [cluster]
    try:
        return Client(spec, timeout=CONNECT_TIMEOUT_S), []
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(f"the Dask scheduler {spec} cannot be reached within "
                                 f"{CONNECT_TIMEOUT_S} s: {exc}") from exc


def allowed_failures(client) -> int | None:
    """The scheduler's ``allowed-failures`` (how many worker deaths a task survives)."""
    try:
        return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    except Exception:  # noqa: BLE001 - only used in a message
        return None


def killed_message(exc: BaseException, allowed: int | None) -> str:
    """One sentence for a task Dask gave up on after its workers died."""
    limit = f" (the scheduler allows {allowed} failure(s) per task, distributed.scheduler." \
            f"allowed-failures)" if allowed is not None else ""
    return (f"every Dask worker that graded this submission died before it finished{limit}; "
            f"the last was {getattr(exc, 'last_worker', None) or 'unknown'}; run the grade "
            f"command again to retry it")


def needs_gpu(root: Path, assignment: str, gpu: bool) -> bool:
    """Whether tasks of ``assignment`` ask for a GPU: asked for (``gpu`` or the ``gpu`` profile)
    and the assignment trains a model the grader evaluates (``c.RobustExecute.trained_models``).
    """
    from autograder.layout import CourseLayout

    wanted = gpu or os.environ.get("CNN_COURSE_PROFILE") == "gpu"
    trained = CourseLayout.at(root).coursedir.config.get("RobustExecute", {}).get("trained_models", {})
    return wanted and assignment in trained


def grade_on_dask(root: Path, assignment: str, students: list[str], spec: str,
                  timeout: float | None = None, allow_unsandboxed: bool = False,
                  gpu: bool = False) -> Iterator[TaskResult]:
    """Grade ``students`` on the cluster ``spec``; yield each result as it arrives.

    ``gpu``: tasks of an assignment that trains models ask for one ``GPU`` (:func:`needs_gpu`).

    Results are unpacked into a local temporary folder (``TaskResult.scratch``) for
    the caller to commit and delete.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    client, closers = open_client(spec)
    try:
        env = {k: v for k, v in os.environ.items() if k == "CNN_COURSE_PROFILE"}
        shared = client.scatter(assignment_bundle(root, assignment), broadcast=True, hash=True)
        allowed = allowed_failures(client)
        resources = {"GPU": 1} if needs_gpu(root, assignment, gpu) else None
        submitted: dict = {}
        for student in students:
            future = client.submit(grade_task, shared, submission_bundle(root, assignment, student),
                                   assignment, student, timeout, allow_unsandboxed, env,
                                   key=f"grade-{assignment}-{student}-{time.time_ns()}",
                                   resources=resources, pure=False, retries=0)
            submitted[future] = (student, time.perf_counter())
        for future in as_completed(submitted):
            student, started = submitted[future]
            seconds = time.perf_counter() - started
            try:
                out = future.result()
            except KilledWorker as exc:
                yield TaskResult(student, None, 1, "", seconds, reason=killed_message(exc, allowed))
                continue
            except (FutureCancelledError, OSError) as exc:
                if client.status != "running" or not _scheduler_alive(client):
                    raise ClusterUnavailable(
                        f"lost the connection to the Dask scheduler ({exc!r}); what was graded "
                        f"so far is recorded: run the command again to grade the rest") from exc
                yield TaskResult(student, None, 1, "", seconds,
                                 reason=f"the Dask task was cancelled: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - the task itself failed; record and go on
                yield TaskResult(student, None, 1, "", seconds,
                                 reason=f"the grading task failed on the Dask worker: {exc!r}")
                continue
            scratch = None
            if out["code"] == 0:
                scratch = unpack(out["result"], Path(tempfile.mkdtemp(prefix="cnn-course-result-")))
            log = f"graded on Dask worker host {out['host']}\n{out['log']}"
            yield TaskResult(student, scratch, out["code"], log, seconds, out["seconds"])
    finally:
        client.close()
        for closer in closers:
            closer.close()


def _scheduler_alive(client) -> bool:
    try:
        client.scheduler_info()
        return True
    except Exception:  # noqa: BLE001
        return False
