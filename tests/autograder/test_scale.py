"""Grading at course scale: a PostgreSQL gradebook and Dask workers, against real servers.

A private PostgreSQL server (:mod:`tests.postgres`, Debian's ``postgresql``
run as ``nobody`` on a Unix socket) holds each test course's gradebook, one
database per course.  Batches run through the real command line on the
embedded local pool, on a Dask ``LocalCluster`` and on a ``dask scheduler`` +
``dask worker`` cluster started here; every submission must end up recorded
exactly once, with the same scores as on SQLite.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import batch, cli, grading
from autograder.layout import DB_URL_ENV, CourseLayout
from tests.autograder.test_batch import _worker_pids as _grading
from tests.notebooks import ch02_cases
from tests.notebooks.submissions import make_submission, solved_sources

pytestmark = pytest.mark.slow
A = "ch02_params_and_memory"
FULL = 15.0  # autograded points of ch02


def _totals(course: Path) -> dict[str, float]:
    return {s: sum(v[0] for v in cells.values()) for s, cells in grading.cell_scores(course, A).items()}


def _submissions_recorded(url: str) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return sorted(s.student.id for s in gb.assignment_submissions(A))


@pytest.fixture
def pg_course(course_factory, postgres, monkeypatch, request):
    """A ch02 course whose gradebook is a fresh PostgreSQL database (made before any grading)."""
    url = postgres.create_database(f"course_{request.node.name[5:40].lower()}")
    monkeypatch.setenv(DB_URL_ENV, url)
    course = course_factory("pg", [A])  # generate_assignment creates the schema in the database
    assert not (course / "gradebook.db").exists()
    assert CourseLayout.at(course).db_url == url
    return course, url


def test_postgres_gradebook_grades_exports_and_serves_the_formgrader(pg_course, capsys):
    course, url = pg_course
    make_submission(course, A, "alice")
    make_submission(course, A, "bob", solved=False)
    assert cli.main(["--root", str(course), "grade", A, "--jobs", "2", "--quiet"]) == 0
    assert _totals(course) == {"alice": FULL, "bob": 0.0}
    assert _submissions_recorded(url) == ["alice", "bob"]
    assert not (course / "gradebook.db").exists()  # nothing went to a SQLite file instead
    rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader((course / "grades.csv").open())}
    assert rows == {"alice": FULL, "bob": 0.0}
    # What formgrader shows, through the API it is built on.
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(CourseDirectory(config=CourseLayout.at(course).coursedir.config),
                      config=CourseLayout.at(course).coursedir.config)
    by_student = {s["student"]: s for s in api.get_submissions(A)}
    assert by_student["alice"]["score"] == FULL and by_student["bob"]["score"] == 0.0
    # A rerun does nothing: the completion markers and the database agree.
    assert {o.status for o in batch.grade_batch(course, A, progress=False).values()} == {"skipped"}


def test_dask_local_cluster_on_postgres_matches_the_local_pool(pg_course):
    course, url = pg_course
    make_submission(course, A, "alice")
    make_submission(course, A, "bob", solved=False)
    make_submission(course, A, "carol", overrides=ch02_cases.wrong_answer_overrides("params_6100"))
    # A task past its deadline is stopped and recorded, and the batch goes on.
    slow = solved_sources(A)["ex1_conv_output_size"] + "\nimport time\ntime.sleep(600)\n"
    make_submission(course, A, "sleepy", overrides={"ex1_conv_output_size": slow})
    outcomes = batch.grade_batch(course, A, cluster="local:2", worker_timeout=60, progress=False)
    assert {s: o.status for s, o in outcomes.items()} == {
        "alice": "graded", "bob": "graded", "carol": "graded", "sleepy": "failed"}
    assert "ran longer than 60 s and was stopped" in outcomes["sleepy"].message
    totals = _totals(course)
    assert totals["alice"] == FULL and totals["bob"] == 0.0 and totals["sleepy"] == 0.0
    assert totals["carol"] == FULL - 1.0  # the total parameter count is worth 1 point
    assert _submissions_recorded(url) == ["alice", "bob", "carol", "sleepy"]
    log = CourseLayout.at(course).log(A, "alice").read_text()
    assert "graded on Dask worker" in log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` and two single-threaded ``dask worker`` processes on loopback.

    The scheduler gives up on a task the first time a worker dies under it
    (``allowed-failures`` 0), so the test sees Dask's retry limit.
    """
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    bindir = Path(sys.executable).parent
    log = (tmp_path / "dask.log").open("w")
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)]
    time.sleep(2)
    for name in ("0", "1"):
        procs.append(subprocess.Popen(
            [str(bindir / "dask"), "worker", address, "--nthreads", "1", "--no-nanny", "--name", name,
             "--no-dashboard"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    yield address, procs
    for proc in procs:
        with pytest.MonkeyPatch.context():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()


def test_killed_dask_worker_on_postgres_is_recorded_once_and_the_rerun_resumes(pg_course, dask_cluster):
    course, url = pg_course
    address, procs = dask_cluster
    make_submission(course, A, "alice")
    make_submission(course, A, "bob", solved=False)
    slow = solved_sources(A)["ex1_conv_output_size"] + "\nimport time\ntime.sleep(30)\n"
    make_submission(course, A, "slow_dask", overrides={"ex1_conv_output_size": slow})
    env = dict(os.environ)
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", "--root", str(course), "grade", A,
         "--scheduler", address, "--quiet"], cwd=course, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    while not _grading("slow_dask"):
        assert coordinator.poll() is None, coordinator.stdout.read()
        assert time.monotonic() < deadline, "the worker grading 'slow_dask' never started"
        time.sleep(0.5)
    time.sleep(5)  # mid-grading
    workers = {p.pid for p in procs[1:]}
    victim = next(pid for pid in _grading("slow_dask") for pid in [_parent(pid)] if pid in workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10  # its nbgrader dies with it (autograder.lifeline): no orphan
    while _grading("slow_dask") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _grading("slow_dask"), "the killed worker's nbgrader process went on grading"
    out, _ = coordinator.communicate(timeout=900)

    assert coordinator.returncode == 1, out
    assert "every Dask worker that graded this submission died before it finished" in out
    assert "allowed-failures" in out
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == {"alice", "bob", "slow_dask"}
    assert float(rows["slow_dask"]["raw_score"]) == 0.0 and rows["slow_dask"]["flags"].startswith("not graded:")
    assert _submissions_recorded(url) == ["alice", "bob", "slow_dask"]

    # The surviving worker grades the rest when the command runs again ("slow_dask" resubmitted
    # without the sleep that only had to outlast the kill).
    make_submission(course, A, "slow_dask")
    rerun = cli.main(["--root", str(course), "grade", A, "--scheduler", address, "--quiet"])
    assert rerun == 0
    assert _totals(course) == {"alice": FULL, "bob": 0.0, "slow_dask": FULL}
    assert _submissions_recorded(url) == ["alice", "bob", "slow_dask"]  # still exactly one record each


def test_unreachable_scheduler_and_gradebook_stop_the_batch_with_one_message(
        course_factory, postgres, monkeypatch, capsys):
    course = course_factory("unreachable", [A])
    make_submission(course, A, "alice")
    port = _free_port()  # nothing listens there
    monkeypatch.setattr("autograder.batch.cluster.CONNECT_TIMEOUT_S", 3)  # not 20 s of retries
    assert cli.main(["--root", str(course), "grade", A, "--scheduler", f"tcp://127.0.0.1:{port}",
                     "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"the Dask scheduler tcp://127.0.0.1:{port} cannot be reached" in err
    assert not CourseLayout.at(course).done_marker(A, "alice").exists()

    monkeypatch.setenv(DB_URL_ENV, postgres.url("no_such_course"))
    assert cli.main(["--root", str(course), "grade", A, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the gradebook postgresql+psycopg://grader@/no_such_course" in err
    assert "cannot be opened" in err


def test_gpu_tasks_only_for_assignments_that_train_models(monkeypatch):
    from autograder.batch.cluster import needs_gpu
    from tests.notebooks.submissions import ROOT

    monkeypatch.delenv("CNN_COURSE_PROFILE", raising=False)
    assert needs_gpu(ROOT, "ch09_mnist", gpu=True)
    assert needs_gpu(ROOT, "ch10_transfer", gpu=True)
    assert not needs_gpu(ROOT, A, gpu=True)  # nothing to train: any worker will do
    assert not needs_gpu(ROOT, "ch09_mnist", gpu=False)
    monkeypatch.setenv("CNN_COURSE_PROFILE", "gpu")
    assert needs_gpu(ROOT, "ch08_segmentation", gpu=False)


def test_lost_scheduler_stops_the_batch_and_the_rerun_resumes(pg_course, dask_cluster):
    course, url = pg_course
    address, procs = dask_cluster
    make_submission(course, A, "alice")
    slow = solved_sources(A)["ex1_conv_output_size"] + "\nimport time\ntime.sleep(60)\n"
    make_submission(course, A, "slow_lost", overrides={"ex1_conv_output_size": slow})
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", "--root", str(course), "grade", A,
         "--scheduler", address, "--quiet"], cwd=course, env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = CourseLayout.at(course).done_marker(A, "alice")
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert coordinator.poll() is None, coordinator.stdout.read()
        assert time.monotonic() < deadline, "alice was never recorded"
        time.sleep(0.5)
    os.killpg(procs[0].pid, signal.SIGKILL)  # the scheduler, while "slow_lost" is still being graded
    out, _ = coordinator.communicate(timeout=600)
    assert coordinator.returncode == 1, out
    assert "lost the connection to the Dask scheduler" in out, out
    assert _submissions_recorded(url) == ["alice"]  # what was committed stays committed

    make_submission(course, A, "slow_lost")  # without the sleep that only had to outlast the kill
    assert cli.main(["--root", str(course), "grade", A, "--jobs", "1", "--quiet"]) == 0
    assert _totals(course) == {"alice": FULL, "slow_lost": FULL}
    assert _submissions_recorded(url) == ["alice", "slow_lost"]
