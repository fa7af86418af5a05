"""nbgrader configuration: the repository root is the course directory.

``source/`` holds instructor notebooks, ``release/`` the generated student
versions.  Autograding runs each student kernel in a bubblewrap sandbox under
per-cell time limits from the table below (RobustExecute: a runaway cell or a
dead kernel stops that notebook's execution, never the grading), scores hidden
tests from probe records in the grader's process (ScoreProbes), makes every output
safe to show the student (SanitizeOutputs: no hidden test code, bounded sizes) and
student-written nbgrader markers inert (DisableRegionMarkers), records a tamper report
(ReportTampering); feedback never shows hidden test code.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.execute import RobustExecute
from autograder.gradecells import NormalizeGradeCells, OverwriteGradeCells
from autograder.markers import DisableRegionMarkers
from autograder.outputs import SanitizeOutputs
from autograder.preprocessors import ScoreProbes
from autograder.tamper import ReportTampering

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

c.CourseDirectory.course_id = "cnn-course"
# The gradebook: nbgrader's default SQLite file gradebook.db, or the database named by
# CNN_COURSE_DB_URL (e.g. postgresql+psycopg://grader@db.example.org/cnn_course_2027, one
# database per course: nbgrader's assignment names are unique per database).
if os.environ.get("CNN_COURSE_DB_URL"):
    c.CourseDirectory.db_url = os.environ["CNN_COURSE_DB_URL"]
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "*.keras.tmp"]

# Time limits (seconds) of ordinary cells, by assignment id and profile (cpu/gpu); the
# notebook's own metadata is never read.  A cell past its limit stops the sandbox: it gets a
# CellTimeoutError, the cells after it NotRun (scored 0).  Chapters that train raise theirs.
CELL_TIMEOUTS = {
    "default": {"cpu": 600, "gpu": 300},
    "ch08_segmentation": {"cpu": 1200, "gpu": 1200},
    "ch09_mnist": {"cpu": 2400, "gpu": 1200},
    "ch10_transfer": {"cpu": 1200, "gpu": 1200},
}
c.RobustExecute.cell_timeouts = CELL_TIMEOUTS
c.RobustExecute.test_timeout = 300  # every autograder test cell, whatever the profile

# Model credit is earned in the graded run (autograder/provenance.py, autograder/heldout.py):
# the kernel cannot read the test sets the grader evaluates on (it gets a stand-in of training
# images), files submitted beside the notebook are withheld, a cell the student wrote may hold
# 8 kB of code and all of them 16 kB (honest answers take 1-2 kB; a pasted model far more), and
# a model file counts only as its training cell saved it.
c.RobustExecute.held_out_data = {"ch08_segmentation": ["mnist"], "ch09_mnist": ["mnist"],
                                 "ch10_transfer": ["fashion_mnist"]}
c.RobustExecute.trained_models = {"ch08_segmentation": {"segmentation_model.keras": "ex7_train"},
                                  "ch09_mnist": {"mnist_model.keras": "ex3_train"},
                                  "ch10_transfer": {"transfer_model.keras": "ex6_train"}}
c.RobustExecute.max_cell_kb = 8
c.RobustExecute.max_authored_kb = 16
# Fallback for a profile missing from the table, and the kernel's start-up handshake.
c.Execute.timeout = CELL_TIMEOUTS["default"]["cpu"]
# Once a cell's reply has arrived, wait up to a minute for its last outputs (nbclient's 4 s
# default is too short on a loaded machine), then keep them as they are instead of failing.
c.Execute.iopub_timeout = 60
c.Execute.raise_on_iopub_timeout = False

# Deleted grade cells are put back from the gradebook; a restored test cell counts 0
# (ScoreProbes), a restored answer cell holds the blank release version.
c.OverwriteCells.add_missing_cells = True

# nbgrader's sanitizing steps, NormalizeGradeCells before its checks: one well-formed copy of each
# gradebook cell (a pasted duplicate, a renamed grade id or changed grade metadata would make
# nbgrader fail on the whole submission); the other copies run as ordinary cells.
# OverwriteGradeCells: nbgrader's OverwriteCells, deleted grade cells restored where they were.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    NormalizeGradeCells,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteGradeCells,
    CheckCellMetadata,
]

c.Autograde.autograde_preprocessors = [
    RobustExecute,  # student kernels in bubblewrap (autograder/sandbox/), per-cell limits
    ScoreProbes,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SanitizeOutputs,  # outputs safe for feedback: hidden test code removed, sizes capped
    DisableRegionMarkers,  # a student's `### BEGIN HIDDEN TESTS` cannot break feedback
    SaveAutoGrades,
    ReportTampering,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Settings of every grading sandbox, kernels and model evaluation alike (autograder/sandbox/):
# limits (raise cpu_time_s for chapters that train), uid, devices, binds, environment.
c.Sandbox.memory_limit_mib = 8192
c.Sandbox.cpu_time_s = 3600
c.Sandbox.max_processes = 256
c.Sandbox.max_file_size_mib = 200
# The notebook's folder as a whole (a watchdog stops the sandbox past it); cnn-course grade
# also caps the graded copy at autograder.batch.writer.MAX_GRADED_FOLDER_MB (200 MB).
c.Sandbox.max_workdir_mib = 200

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
