"""``python -m autograder.nbgrader_main ARGS`` runs ``nbgrader ARGS``, starting faster.

jsonschema (imported by nbformat, hence by every nbgrader command) loads the
optional ``rfc3987_syntax`` package at import time, which compiles about 35
Lark grammars: 0.9 s of nbgrader's 2.3 s start-up on a 2-core machine
(python-jsonschema/jsonschema#1428).  Those grammars only check the ``iri``
and ``iri-reference`` string formats, which no Jupyter or nbgrader schema
uses.  Setting the module to ``None`` in :data:`sys.modules` is Python's
documented way to make its import fail, and jsonschema then simply leaves
those two formats unchecked.  ``cnn-course grade`` starts one nbgrader
process per submission, so the saving counts per submission.

It also dies with the process that started it (:mod:`autograder.lifeline`),
so a killed grading worker leaves no orphaned nbgrader behind.
"""

import sys

from autograder.lifeline import die_with_parent

sys.modules.setdefault("rfc3987_syntax", None)
die_with_parent()

from nbgrader.apps.nbgraderapp import main  # after rfc3987_syntax is blocked

if __name__ == "__main__":
    sys.exit(main())
