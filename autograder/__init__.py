"""Instructor-side grading pipeline for the CNN Course.

Students never see this package's data.  It holds the trusted side of the
probe protocol: reference records built from the ``source/`` solutions
(:mod:`autograder.references`), the comparison of student probe records with
them (:mod:`autograder.scoring`), the nbgrader preprocessor that turns the
comparison into nbgrader cell outcomes (:mod:`autograder.preprocessors`) and
the ``cnn-course`` command line (:mod:`autograder.cli`).
"""
