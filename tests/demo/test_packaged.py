"""What ``pip install appveto`` gets: the wheel ships the example policies, and ``appveto demo``
runs from the installed package alone (no repository, no ``../shared``, no test tools).

The wheel is built offline from a copy of the source tree (``--no-build-isolation``, so
the setuptools of the dev install builds it) and unpacked into a folder that stands for
site-packages; the demo then runs in a fresh interpreter that imports appveto from there,
in a working directory with nothing in it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "policies"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "tree"
    shutil.copytree(
        REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, tree / name)
    dist = work / "dist"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(tree),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("appveto-*.whl")
    return found


def test_the_wheel_ships_the_example_policies(wheel: Path) -> None:
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert len(examples) >= 5
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for f in examples:
            shipped = f"appveto/demo/policies/{f.name}"
            assert shipped in names, shipped
            assert z.read(shipped) == f.read_bytes()
        assert "appveto/demo/apkbuilder.py" in names
        assert "appveto/demo/samples.py" in names


def test_the_demo_runs_from_the_installed_package_alone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "import appveto\n"
        f"assert appveto.__file__.startswith({str(site)!r}), appveto.__file__\n"
        "from appveto.cli.main import main\n"
        "sys.exit(main(['demo', '--output', 'out', '--people', '60']))\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=elsewhere, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = elsewhere / "out"
    assert sorted(p.name for p in (out / "apks").iterdir()) == [
        "flashlight-trackers.apk",
        "loader-packed.apk",
        "notes-clean.apk",
        "notes-obfuscated.apk",
    ]
    shipped = sorted(p.name for p in (out / "workspace" / "policies").iterdir())
    assert shipped == sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    tail = run.stdout[run.stdout.index("Open these first:") :].splitlines()
    opened = [line.split()[0] for line in tail[1:4]]
    assert opened == [
        str(Path("out") / f) for f in ("reports/scan.html", "reports/compliance.html", "enforce/README.md")
    ]
    assert all((elsewhere / f).is_file() for f in opened)
