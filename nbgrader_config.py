"""nbgrader configuration: the repository root is the course directory.

``source/`` holds instructor notebooks, ``release/`` the generated student
versions.  Autograding runs each student kernel in a bubblewrap sandbox, scores hidden
tests from probe records in the grader's process (ScoreProbes), records a
tamper report (ReportTampering); feedback never shows hidden test code.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.preprocessors import ScoreProbes
from autograder.sandbox import SandboxedExecute
from autograder.tamper import ReportTampering

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "*.keras.tmp"]

# Generous default; chapters that train models raise it per cell.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

c.Autograde.autograde_preprocessors = [
    SandboxedExecute,  # student kernels run in bubblewrap (autograder/sandbox.py)
    ScoreProbes,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    ReportTampering,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.ScoreProbes.reference_dir = ".grading/references"

# Limits of the grading sandbox (raise cpu_time_s for chapters that train).
c.SandboxedKernelManager.memory_limit_mb = 8192
c.SandboxedKernelManager.cpu_time_s = 3600
c.SandboxedKernelManager.max_processes = 256
c.SandboxedKernelManager.max_file_size_mb = 512

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
