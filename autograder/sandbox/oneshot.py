"""One-shot grader commands (not kernels) in the same sandbox as the grading kernels."""

from __future__ import annotations

from traitlets.config import Config

from autograder.sandbox.command import bwrap_command
from autograder.sandbox.settings import Sandbox

__all__ = ["sandbox_command"]


def sandbox_command(cmd: list[str], *, readonly: dict[str, str] | None = None,
                    config: Config | None = None, env: dict[str, str] | None = None,
                    cpu_time_s: int | None = None) -> list[str]:
    """Wrap ``cmd`` in a sandbox built from the ``c.Sandbox.*`` settings of ``config``.

    No network, read-only system and Python, private ``/tmp`` as the only
    writable place, ``readonly`` host paths bound read-only at the given
    destinations (``{host: sandbox}``), the grader's Keras dataset cache
    read-only, the configured limits (``cpu_time_s`` overrides the CPU one)
    and, as root, the configured unprivileged uid.  ``env`` (default: this
    process's) is filtered through the same allow-list as a kernel's.  Used to
    evaluate student model files (:mod:`autograder.models`).  Raises
    ``RuntimeError`` when bubblewrap is unusable.
    """
    settings = Sandbox(config=config or Config())
    return bwrap_command(settings.one_shot_spec(readonly, env, cpu_time_s), cmd)
