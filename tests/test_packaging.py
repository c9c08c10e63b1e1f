"""The wheel built from pyproject.toml holds every module of the library and the code location."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("sop_pipeline", "assets")


def test_the_wheel_contains_every_subpackage_and_module(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(source).as_posix()
               for package in PACKAGES for path in (source / package).rglob("*.py")}
    assert modules - packed == set(), "modules missing from the wheel"
    stages = {"ingest", "demand", "supply", "review", "report", "demo"}
    assert {f"sop_pipeline/{stage}/__init__.py" for stage in stages} <= packed
