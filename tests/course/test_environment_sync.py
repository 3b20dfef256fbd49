"""environment.yml (conda/mamba) installs the same packages as pyproject.toml, and constraints.txt pins them."""
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def test_environment_yml_matches_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert set(pip_section) == declared, (
        f"only in pyproject: {sorted(declared - set(pip_section))}; "
        f"only in environment.yml: {sorted(set(pip_section) - declared)}")
    assert "python=3.11" in env["dependencies"]


def _pins(repo):
    """{canonical name: version} of constraints.txt; every line must be an exact pin."""
    pins = {}
    for number, line in enumerate((repo / "constraints.txt").read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"constraints.txt:{number}: {line!r} is not a pin"
        assert "+" not in specs[0].version, f"constraints.txt:{number}: {line!r} keeps a local version tag"
        pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def _direct(repo):
    """The direct dependencies of pyproject.toml that make installs (the package's and the test extra's)."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_constraints_pin_every_direct_dependency_within_pyproject(repo):
    pins = _pins(repo)
    for req in _direct(repo):
        name = canonicalize_name(req.name)
        assert name in pins, f"constraints.txt does not pin {req.name}: regenerate it with make constraints"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req}")
    assert "llm-specialist-course" not in pins, "the project itself is installed editable, not pinned"


@pytest.mark.parametrize("library", ["trl", "transformers"])
def test_libraries_whose_private_parts_we_touch_have_an_upper_bound(repo, library):
    req = next(r for r in _direct(repo) if canonicalize_name(r.name) == library)
    assert any(s.operator == "<" for s in req.specifier), f"{req} needs an upper bound (see pyproject's comment)"
