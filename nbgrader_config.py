"""nbgrader configuration: the repository root is the course directory.

``source/`` holds instructor notebooks, ``release/`` the generated student
versions.  Autograding adds the trusted probe scorer right after execution,
and feedback never shows hidden test code.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.preprocessors import ScoreProbes

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "*.keras.tmp"]

# Generous default; chapters that train models raise it per cell.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

c.Autograde.autograde_preprocessors = [
    Execute,
    ScoreProbes,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.ScoreProbes.reference_dir = ".grading/references"

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
