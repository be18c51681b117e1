"""Packaging that can be trusted: bounded dependencies, a lock file with hashes that covers them, the
image's install steps run in a clean virtual environment, a systemd unit that systemd accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Versioned by year, not by compatibility: no major version to stay below.
UNBOUNDED = {"tzdata"}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def name_of(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def locked(lock: str) -> dict[str, str]:
    """{package: version} of a lock file; every pin must carry hashes."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", text, flags=re.MULTILINE))
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert all("--hash=sha256:" in block for block in blocks), "every pinned package has hashes"
    return {name.lower().replace("_", "-"): version for name, version in pins.items()}


def test_every_dependency_has_an_upper_bound_on_its_major_version() -> None:
    requirements = project()["dependencies"] + project()["optional-dependencies"]["test"]
    unbounded = [r for r in requirements if "<" not in r and name_of(r) not in UNBOUNDED]
    assert unbounded == []


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", []), ("requirements-test.lock", ["test"])]
)
def test_the_lock_file_covers_every_dependency_of_pyproject(lock: str, extras: list[str]) -> None:
    pins = locked(lock)
    wanted = list(project()["dependencies"])
    for extra in extras:
        wanted += project()["optional-dependencies"][extra]
    missing = [r for r in wanted if name_of(r) not in pins]
    assert missing == [], f"{lock} is stale: run `bash deploy/lock.sh` (missing {missing})"


def test_test_tools_stay_out_of_the_image_lock() -> None:
    assert not {"pytest", "playwright", "ruff"} & set(locked("requirements.lock"))


def test_the_image_install_steps_work_in_a_clean_virtualenv(tmp_path: Path) -> None:
    """What the Dockerfile runs (deploy/install.sh), from a copy of the sources."""
    source = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "RUN sh deploy/install.sh /opt/wegweiser" in dockerfile

    done = subprocess.run(
        ["sh", str(source / "deploy" / "install.sh"), str(tmp_path / "venv")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("wegweiser ")
    check = subprocess.run([str(tmp_path / "venv" / "bin" / "pip"), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "wegweiser.service").read_text(encoding="utf-8")
    assert "User=wegweiser" in unit and "Restart=on-failure" in unit and "EnvironmentFile=" in unit
    # The unit names the installed program; point it at this checkout's so systemd can resolve it.
    program = str(Path(sys.executable).parent / "wegweiser")
    (tmp_path / "wegweiser.service").write_text(unit.replace("/opt/wegweiser/bin/wegweiser", program))

    verified = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "wegweiser.service")], capture_output=True, text=True
    )

    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
