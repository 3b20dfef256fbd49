"""environment.yml (conda/mamba) installs the same packages as pyproject.toml."""
import tomllib

import yaml


def test_environment_yml_matches_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert set(pip_section) == declared, (
        f"only in pyproject: {sorted(declared - set(pip_section))}; "
        f"only in environment.yml: {sorted(set(pip_section) - declared)}")
    assert "python=3.11" in env["dependencies"]
