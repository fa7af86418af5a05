"""The bubblewrap grading sandbox: isolation, limits, clean shutdown, real nbgrader.

Each test runs small notebooks through nbclient, exactly as nbgrader does,
with :class:`autograder.sandbox.AsyncSandboxedKernelManager`; cells print one
JSON line that the test reads back.  Skipped (with the reason) where
bubblewrap cannot build a sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from autograder import grading
from autograder.sandbox import (
    MIB,
    AsyncSandboxedKernelManager,
    SandboxedExecute,
    SandboxedKernelManager,
    bwrap_usable,
    default_sandbox_uid,
    folder_bytes,
    sandbox_process_ids,
)

ROOT = Path(__file__).resolve().parents[2]
USABLE, WHY = bwrap_usable()
pytestmark = pytest.mark.skipif(not USABLE, reason=f"bubblewrap sandbox unusable here: {WHY}")
AS_ROOT = os.geteuid() == 0


def run_cells(cells: list[str], workdir: Path, *, timeout: int = 120, keep: bool = False, **traits):
    """Execute ``cells`` in a sandboxed kernel started in ``workdir``.

    Returns ``(results, km)``: the JSON printed by each cell (``None`` when a
    cell printed nothing or raised) and the kernel manager, shut down unless
    ``keep`` is true.
    """
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    km = AsyncSandboxedKernelManager(**traits)
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    finally:
        if not keep:
            shutdown(km)
    return [_cell_json(c) for c in nb.cells], km


def shutdown(km, now: bool = True) -> None:
    """Shut the kernel of an async manager down from synchronous test code."""
    run_sync(km.shutdown_kernel)(now=now)


def _cell_json(cell):
    """The JSON value on the last line a cell printed, or ``None``."""
    text = "".join(o["text"] for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    lines = text.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else None
    except ValueError:
        return None


def _errors(cell_outputs) -> list[str]:
    return [o["ename"] for o in cell_outputs if o.get("output_type") == "error"]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def workdir(tmp_path):
    """An empty working directory for the notebook (what nbgrader's autograded/ folder is)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


# ---------------------------------------------------------------------------------------------
# configuration and failure modes


def test_bwrap_usable_explains_failures():
    ok, why = bwrap_usable("no-such-bwrap")
    assert ok is False and "no-such-bwrap" in why and "not found" in why


def test_refuses_to_run_unsandboxed_by_default(workdir):
    km = SandboxedKernelManager(bwrap_path="no-such-bwrap")
    with pytest.raises(RuntimeError, match="allow_unsandboxed"):
        km.start_kernel(cwd=str(workdir))
    assert not km.has_kernel


def test_allow_unsandboxed_runs_plain_kernel_with_warning(workdir, caplog):
    source = str(ROOT / "source")
    cells = [f"import os, json; print(json.dumps({{'source': os.path.exists({source!r})}}))"]
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    km = AsyncSandboxedKernelManager(bwrap_path="no-such-bwrap", allow_unsandboxed=True)
    try:
        NotebookClient(nb, km=km, timeout=60, resources={"metadata": {"path": str(workdir)}}).execute()
        assert not km.sandboxed
    finally:
        shutdown(km)
    assert _cell_json(nb.cells[0]) == {"source": True}
    assert "WITHOUT a sandbox" in caplog.text


def test_nbgrader_execute_uses_the_sandbox():
    from traitlets.config import Config, Configurable

    config = Config()
    config.Execute.timeout = 7
    ex = SandboxedExecute(parent=Configurable(config=config))
    assert ex.kernel_manager_class is AsyncSandboxedKernelManager
    assert ex.timeout == 7


def test_refuses_a_working_directory_that_exposes_the_course():
    before = os.stat(ROOT)
    km = SandboxedKernelManager()
    with pytest.raises(RuntimeError, match="would expose"):
        km.start_kernel(cwd=str(ROOT))  # the repository: it holds .venv, course/, source/...
    assert not km.has_kernel and not km.sandboxed
    assert (os.stat(ROOT).st_uid, os.stat(ROOT).st_gid) == (before.st_uid, before.st_gid)


def test_restart_keeps_the_sandbox(workdir):
    km = SandboxedKernelManager()
    km.start_kernel(cwd=str(workdir))
    try:
        first = km.sandbox_info["pid-namespace"]
        km.restart_kernel(now=True)
        assert km.sandboxed and sandbox_process_ids(first) == []
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            reply = kc.execute_interactive("import os; open('restarted.txt', 'w').write('ok')", timeout=60)
        finally:
            kc.stop_channels()
        assert reply["content"]["status"] == "ok"
        assert km.sandbox_info["pid-namespace"] != first
    finally:
        km.shutdown_kernel(now=True)
    assert (workdir / "restarted.txt").read_text() == "ok"
    assert os.stat(workdir / "restarted.txt").st_uid == os.geteuid()


def test_command_line_shape(workdir):
    _, km = run_cells(["print(1)"], workdir, keep=True)
    try:
        cmd = km.sandbox_command
    finally:
        shutdown(km)
    assert cmd[0] == "prlimit" and "--" in cmd and "--core=0" in cmd
    bwrap = cmd[cmd.index("--") + 1:]
    assert os.path.basename(bwrap[0]) == "bwrap"
    for flag in ("--die-with-parent", "--new-session", "--clearenv", "--info-fd"):
        assert flag in bwrap
    assert ("--unshare-net" in bwrap) or ("--unshare-all" in bwrap)
    assert str(ROOT) not in [bwrap[i + 2] for i, a in enumerate(bwrap) if a in ("--bind", "--ro-bind")]


# ---------------------------------------------------------------------------------------------
# isolation


def test_network_is_unreachable(workdir):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    code = f"""
import json, socket
def attempt(addr):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(addr)
        return "connected"
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()
def resolve(name):
    try:
        socket.getaddrinfo(name, 443)
        return "resolved"
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({{"dns_ip": attempt(("1.1.1.1", 53)), "host_port": attempt(("127.0.0.1", {port})),
                  "dns": resolve("pypi.org"), "interfaces": [n for _, n in socket.if_nameindex()]}}))
"""
    try:
        (result,), _ = run_cells([code], workdir)
    finally:
        server.close()
    assert result["dns_ip"] != "connected"
    assert result["host_port"] == "ConnectionRefusedError"  # its own loopback, nobody listening
    assert result["dns"] != "resolved"
    assert result["interfaces"] == ["lo"]


def test_only_the_allow_list_is_visible(workdir):
    import sys

    import course

    secrets = [ROOT / "source", ROOT / "gradebook.db", ROOT / "nbgrader_config.py", ROOT / "autograder",
               ROOT / ".grading", ROOT / "submitted", ROOT / "autograded", ROOT / ".git",
               Path.home() / ".ipython", Path.home() / ".ssh", Path("/etc/shadow"), Path("/var"),
               Path("/sys"), Path("/run")]
    bound = [sys.prefix, sys.base_prefix, os.path.dirname(course.__file__), str(workdir)]
    code = f"""
import json, os, sys
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({{"exists": {{p: os.path.exists(p) for p in {[str(s) for s in secrets]!r}}},
                  "repo": listing({str(ROOT)!r}), "home": listing({str(Path.home())!r}),
                  "root": listing("/"), "etc": listing("/etc")}}))
"""
    (result,), _ = run_cells([code], workdir)
    assert not any(result["exists"].values()), result["exists"]
    assert set(result["repo"]) <= {".venv", "course"}, result["repo"]
    # The grader's home shows at most the way to what is bound (e.g. root's ~/.pyenv).
    home = str(Path.home())
    on_the_way = {Path(os.path.relpath(p, home)).parts[0] for p in bound if p.startswith(home + "/")}
    assert result["home"] == "FileNotFoundError" or set(result["home"]) <= on_the_way, result["home"]
    top = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev", "tmp"}
    assert set(result["root"]) <= top | {Path(p).parts[1] for p in bound}, result["root"]
    assert "shadow" not in result["etc"] and "passwd" in result["etc"]


def test_system_python_and_course_are_read_only(workdir):
    import sys

    import course

    targets = ["/usr/sandbox-probe", f"{sys.prefix}/sandbox-probe", f"{sys.base_prefix}/sandbox-probe",
               f"{os.path.dirname(course.__file__)}/sandbox-probe", "/etc/sandbox-probe",
               "/sandbox-probe"]
    code = f"""
import json
def write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "written"
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({{p: write(p) for p in {targets!r}}}))
"""
    (result,), _ = run_cells([code], workdir)
    assert "written" not in result.values(), result
    assert not any(os.path.exists(t) for t in targets)


def test_working_directory_is_writable_and_given_back(workdir):
    (workdir / "given.txt").write_text("from nbgrader")
    before = os.stat(workdir)
    code = """
import json, os
with open("answer.txt", "w") as f:
    f.write("42")
os.makedirs("sub/dir", exist_ok=True)
open("sub/dir/deep.txt", "w").write("deep")
print(json.dumps({"cwd": os.getcwd(), "home": os.environ["HOME"], "given": open("given.txt").read(),
                  "listing": sorted(os.listdir("."))}))
"""
    (result,), _ = run_cells([code], workdir)
    assert result["cwd"] == str(workdir) and result["home"] == str(workdir)
    assert result["given"] == "from nbgrader"
    assert (workdir / "answer.txt").read_text() == "42"
    assert (workdir / "sub/dir/deep.txt").read_text() == "deep"
    # Nothing else was left behind (caches live in the sandbox's /tmp).
    assert sorted(os.listdir(workdir)) == ["answer.txt", "given.txt", "sub"]
    for path in [workdir, workdir / "answer.txt", workdir / "sub/dir", workdir / "given.txt"]:
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (before.st_uid, before.st_gid), path


def test_tmp_is_private(workdir):
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="host-secret-") as secret:
        code = f"""
import json, os
open("/tmp/from-sandbox-{os.getpid()}", "w").write("x")
print(json.dumps({{"secret": os.path.exists({secret.name!r}), "writable": os.access("/tmp", os.W_OK),
                  "shm": os.access("/dev/shm", os.W_OK)}}))
"""
        (result,), _ = run_cells([code], workdir)
    assert result == {"secret": False, "writable": True, "shm": True}
    assert not os.path.exists(f"/tmp/from-sandbox-{os.getpid()}")


def test_environment_and_privileges(workdir, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("CNN_COURSE_PROFILE", "cpu")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")  # batch.worker.thread_env's caps reach the kernel
    code = """
import json, os
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
try:
    os.setuid(0)
    setuid = "worked"
except OSError as exc:
    setuid = type(exc).__name__
print(json.dumps({"env": dict(os.environ), "uid": os.getuid(), "cap_eff": status["CapEff"].strip(),
                  "no_new_privs": status["NoNewPrivs"].strip(), "setuid": setuid,
                  "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
"""
    (result,), _ = run_cells([code], workdir)
    assert "GRADER_SECRET_TOKEN" not in result["env"]
    assert result["env"]["JPY_PARENT_PID"] == "1"  # its parent in the sandbox, not the grader
    assert result["env"]["CNN_COURSE_PROFILE"] == "cpu"
    assert result["env"]["TF_NUM_INTRAOP_THREADS"] == "1"
    assert result["cap_eff"] == "0000000000000000"
    assert result["no_new_privs"] == "1"
    assert result["setuid"] == "PermissionError"
    assert result["uid"] == (default_sandbox_uid() if AS_ROOT else os.getuid())
    assert max(result["pids"]) < 50  # its own PID namespace: no host processes


@pytest.mark.slow
def test_course_keras_and_offline_data_work(workdir):
    code = """
import json, time
t = time.time()
import course, numpy, keras
import course.data
(x, y), (xt, yt) = course.data.load_mnist()
print(json.dumps({"keras": keras.__version__, "x": list(x.shape), "xt": list(xt.shape),
                  "seconds": time.time() - t}))
"""
    (result,), _ = run_cells([code], workdir)
    assert result is not None, "import or data loading failed inside the sandbox"
    assert result["x"] == [60000, 28, 28] and result["xt"] == [10000, 28, 28]


# ---------------------------------------------------------------------------------------------
# limits


def test_memory_bomb_raises_memory_error(workdir):
    code = """
import json
try:
    hog = bytearray(20 * 1024 ** 3)
    outcome = "allocated"
except MemoryError:
    outcome = "MemoryError"
print(json.dumps(outcome))
"""
    results, _ = run_cells([code, "print('[\"still alive\"]')"], workdir, memory_limit_mib=2048)
    assert results == ["MemoryError", ["still alive"]]


def test_file_size_limit(workdir):
    code = """
import json
try:
    with open("big.bin", "wb") as f:
        f.write(b"x" * (3 * 1024 * 1024))
    outcome = "written"
except OSError as exc:
    outcome = exc.strerror
print(json.dumps(outcome))
"""
    (result,), _ = run_cells([code], workdir, max_file_size_mib=1)
    assert result == "File too large"
    assert (workdir / "big.bin").stat().st_size <= 1024 * 1024


def _tasks_of_uid(uid: int) -> int:
    count = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                count += proc.info["num_threads"] or 1
        except psutil.Error:
            continue
    return count


def test_fork_bomb_is_contained_and_killable(workdir):
    uid = default_sandbox_uid() if AS_ROOT else os.getuid()
    limit = _tasks_of_uid(uid) + 64  # RLIMIT_NPROC counts every task of the real uid
    # Every process forks forever and never exits: the population grows to the limit and stays.
    bomb = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import os, time\\nwhile True:\\n    try:\\n        os.fork()\\n"
                  "    except OSError:\\n        time.sleep(0.05)"], start_new_session=True)
time.sleep(5)
"""
    results, km = run_cells([bomb, "print('[2]')"], workdir, keep=True, max_processes=limit, timeout=60)
    try:
        namespace = km.sandbox_info["pid-namespace"]
        during = sandbox_process_ids(namespace)
        outer = km.provisioner.process.pid
        assert results[1] == [2], "the kernel stopped answering"
        assert 20 < len(during) <= limit + 2, len(during)
        started = time.monotonic()
    finally:
        shutdown(km, now=True)
    assert time.monotonic() - started < 15
    assert sandbox_process_ids(namespace) == []
    assert not _alive(outer)


@pytest.mark.parametrize("now", [True, False], ids=["now", "graceful"])
def test_shutdown_leaves_no_process(workdir, now):
    spawn = """
import os, signal, subprocess
subprocess.Popen(["sleep", "600"])
subprocess.Popen(["sleep", "601"], start_new_session=True)
subprocess.Popen(["sh", "-c", "trap '' TERM HUP INT; sleep 602 & sleep 603; wait"])
if os.fork() == 0:  # a daemon: double fork, new session, orphaned
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execvp("sleep", ["sleep", "604"])
    os._exit(0)
"""
    _, km = run_cells([spawn, "import time; time.sleep(0.5)"], workdir, keep=True)
    try:
        namespace = km.sandbox_info["pid-namespace"]
        pids = km.sandbox_pids()
        outer = km.provisioner.process.pid
        names = {psutil.Process(p).name() for p in pids if _alive(p)}
        assert {"bwrap", "sleep"} <= names and len(pids) >= 8, (names, pids)
    finally:
        shutdown(km, now=now)
    assert sandbox_process_ids(namespace) == []
    assert [p for p in pids if _alive(p)] == []
    assert not _alive(outer)
    assert not km.sandboxed  # private folder removed, working directory given back


def test_interrupt_reaches_the_kernel(workdir):
    nb = new_notebook(cells=[new_code_cell("import time; time.sleep(60)"), new_code_cell("print('[\"after\"]')")])
    km = AsyncSandboxedKernelManager()
    client = NotebookClient(nb, km=km, timeout=3, interrupt_on_timeout=True, allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    started = time.monotonic()
    try:
        client.execute()
    finally:
        shutdown(km)
    assert time.monotonic() - started < 30
    assert "KeyboardInterrupt" in _errors(nb.cells[0].outputs)
    assert _cell_json(nb.cells[1]) == ["after"]


def test_private_folders_are_removed(workdir, tmp_path):
    # A folder of its own: other test processes start sandboxed kernels in /tmp meanwhile.
    ipc = tmp_path / "ipc"
    ipc.mkdir()
    results, _km = run_cells(["print(1)"], workdir, ipc_dir=str(ipc))
    assert results == [1]
    assert list(ipc.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# nbgrader end to end


@pytest.mark.slow
def test_nbgrader_autograde_in_the_sandbox(course_factory):
    """The course's own configuration, its reference already in place under ``.grading``."""
    assignment = "ch02_params_and_memory"
    course = course_factory("sandbox", [assignment])
    assert "RobustExecute" in (course / "nbgrader_config.py").read_text()  # the sandboxed kernel
    assert (course / ".grading").is_dir()

    submitted = course / "submitted" / "alice" / assignment
    submitted.mkdir(parents=True)
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    probe = {"source": str(course / "source"), "gradebook": str(course / "gradebook.db"),
             "references": str(course / ".grading"), "other_students": str(course / "submitted"),
             "repo": str(ROOT / "nbgrader_config.py")}
    nb.cells.append(new_code_cell(
        "import json, os\n"
        f"print(json.dumps({{'uid': os.getuid(), 'cwd': os.getcwd(), "
        f"'seen': [k for k, p in {probe!r}.items() if os.path.exists(p)]}}))"))
    nbformat.write(nb, submitted / f"{assignment}.ipynb")

    started = time.monotonic()
    grading.autograde(course, assignment)
    elapsed = time.monotonic() - started

    scores = grading.cell_scores(course, assignment)["alice"]
    auto = {k: v for k, v in scores.items() if k.startswith("test_")}
    assert auto and all(score == max_score for score, max_score in auto.values()), auto

    graded = nbformat.read(course / "autograded" / "alice" / assignment / f"{assignment}.ipynb",
                           as_version=4)
    report = _cell_json(graded.cells[-1])
    assert report is not None, graded.cells[-1].outputs
    assert report["seen"] == []
    assert report["cwd"] == str(course / "autograded" / "alice" / assignment)
    if AS_ROOT:
        assert report["uid"] == default_sandbox_uid()
    st = os.stat(course / "autograded" / "alice" / assignment)
    assert st.st_uid == os.geteuid()  # the lent folder was given back
    print(f"sandboxed ch02 autograde: {elapsed:.1f} s")


def test_disk_limit_stops_the_sandbox_and_prunes_the_folder(workdir):
    """A kernel filling its folder is stopped; what it wrote is pruned back under the limit."""
    (workdir / "mine.txt").write_text("submitted with the notebook")
    fill = ("import time\nfor i in range(50):\n"
            "    open(f'fill_{i}.bin', 'wb').write(b'x' * (3 << 20))\n    time.sleep(0.05)\n")
    nb = new_notebook(cells=[new_code_cell(fill)])
    km = AsyncSandboxedKernelManager(max_workdir_mib=4, max_file_size_mib=3, workdir_poll_s=0.1)
    client = NotebookClient(nb, km=km, timeout=60, allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        with pytest.raises(DeadKernelError):
            client.execute()
        assert km.stop_reason and "past the sandbox's disk limit of 4 MiB" in km.stop_reason
    finally:
        shutdown(km)
    assert (workdir / "mine.txt").read_text() == "submitted with the notebook"
    assert folder_bytes(workdir) <= 4 * MIB
    assert len(list(workdir.glob("fill_*.bin"))) <= 1


# --- one specification, one command builder ---------------------------------------------


def test_one_shot_sandboxes_take_their_settings_from_the_sandbox_config():
    """Model evaluation gets ``c.Sandbox.*`` (limits, tmpfs, uid), the kernels' settings."""
    from traitlets.config import Config

    from autograder.sandbox import sandbox_command

    config = Config({"Sandbox": {"memory_limit_mib": 3000, "max_file_size_mib": 7,
                                 "tmpfs_size_mib": 64, "sandbox_uid": 64999, "sandbox_gid": 64999}})
    cmd = sandbox_command(["true"], config=config, cpu_time_s=33)
    assert f"--as={3000 * MIB}" in cmd and f"--fsize={7 * MIB}" in cmd and "--cpu=33" in cmd
    assert "--size" not in cmd or cmd[cmd.index("--size") + 1] == str(64 * MIB)
    if AS_ROOT:
        assert "--reuid=64999" in cmd


def test_only_the_command_module_builds_bubblewrap_commands():
    """Every sandbox goes through ``autograder.sandbox.command.bwrap_command``."""
    import re

    option = re.compile(r"""["']--(die-with-parent|clearenv|unshare-pid|tmpfs)["']""")
    builders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "autograder").rglob("*.py")
                if option.search(p.read_text())]
    assert builders == ["autograder/sandbox/command.py"]


def test_sandboxes_import_the_packages_the_grader_imported(tmp_path):
    """A grader importing ``course``/``autograder`` from another checkout (e.g. a course
    directory that is a clone, on ``sys.path`` as the working directory) evaluates models
    with that same code, not with the editable install's (it failed with "No module named
    'autograder'": the finder's folders were not bound)."""
    import subprocess
    import sys

    clone = tmp_path / "clone"
    for package in ("course", "autograder"):
        shutil.copytree(ROOT / package, clone / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    os.chmod(tmp_path, 0o755)
    probe = "import autograder, course; print(autograder.__file__, course.__file__)"
    script = ("import subprocess, sys\n"
              "from autograder.sandbox import sandbox_command\n"
              f"cmd = sandbox_command([sys.executable, '-c', {probe!r}])\n"
              "out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)\n"
              "print(out.stdout.strip() or out.stderr.strip().splitlines()[-1])\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=clone, capture_output=True,
                         text=True, timeout=180, check=True).stdout.strip()
    assert out == f"{clone}/autograder/__init__.py {clone}/course/__init__.py"


def test_kernels_import_course_from_where_the_grader_does(workdir):
    """The kernel's PYTHONPATH names the folder the grader resolved ``course`` in."""
    import course

    code = "import course, json, os\nprint(json.dumps([course.__file__, os.environ.get('PYTHONPATH')]))"
    (result,), _ = run_cells([code], workdir)
    assert result == [course.__file__, str(Path(course.__file__).parents[1])]
