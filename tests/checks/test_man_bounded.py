"""AV-MAN-004 stays bounded on a crafted manifest with thousands of open components."""

from __future__ import annotations

from pathlib import Path

from appveto.checks.man import exported
from appveto.kb.load import load_kb
from tests.apkbuilder import ApkSpec, ComponentSpec, build_apk


def test_many_exported_components_are_summed_up(tmp_path: Path) -> None:
    from appveto.apk import load_apk

    comps = tuple(ComponentSpec("service", f".S{i}", exported=True) for i in range(300))
    p = tmp_path / "many.apk"
    p.write_bytes(build_apk(ApkSpec(package="org.example.many", components=comps, sign=None)))
    found = list(exported(load_apk(str(p)), load_kb()))
    assert len(found) == 51
    assert found[-1].subject == "+250 more"
    assert len(found[-1].evidence) == 50


def test_few_exported_components_are_listed_one_by_one(tmp_path: Path) -> None:
    from appveto.apk import load_apk

    comps = tuple(ComponentSpec("service", f".S{i}", exported=True) for i in range(3))
    p = tmp_path / "few.apk"
    p.write_bytes(build_apk(ApkSpec(package="org.example.few", components=comps, sign=None)))
    found = list(exported(load_apk(str(p)), load_kb()))
    assert sorted(f.subject or "" for f in found) == [f"org.example.few.S{i}" for i in range(3)]
