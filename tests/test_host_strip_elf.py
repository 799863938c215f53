"""Unit tests for docker/strip_elf.py, the binutils-free strip run inside the image build."""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import struct
import subprocess

import pytest

from harness.host import REPO_ROOT

spec = importlib.util.spec_from_file_location("strip_elf", REPO_ROOT / "docker" / "strip_elf.py")
strip_elf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strip_elf)

SOURCE = """
int quantbench_answer(int x) { return 6 * x; }
static int helper(int y) { return y + 1; }
int quantbench_twice(int y) { return 2 * helper(y) - 2; }
"""


def section_types(path) -> list[int]:
    data = path.read_bytes()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    return [struct.unpack_from("<I", data, shoff + i * shentsize + 4)[0] for i in range(shnum)]


@pytest.fixture
def shared_object(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        pytest.skip("no C compiler to make a test shared object")
    source = tmp_path / "answer.c"
    source.write_text(SOURCE)
    library = tmp_path / "libanswer.so"
    subprocess.run([compiler, "-g", "-shared", "-fPIC", "-O1", "-o", library, source], check=True)
    return library


def test_strip_drops_the_symbol_table_and_the_library_still_works(shared_object):
    before = shared_object.stat().st_size
    assert strip_elf.SHT_SYMTAB in section_types(shared_object)
    saved = strip_elf.strip_file(shared_object)
    assert saved > 0
    assert shared_object.stat().st_size == before - saved
    assert strip_elf.SHT_SYMTAB not in section_types(shared_object)
    library = ctypes.CDLL(str(shared_object))
    assert library.quantbench_answer(7) == 42
    assert library.quantbench_twice(5) == 10
    assert strip_elf.strip_file(shared_object) == 0  # idempotent


def test_strip_leaves_binutils_able_to_read_the_result(shared_object):
    strip_elf.strip_file(shared_object)
    if shutil.which("readelf"):
        out = subprocess.run(
            ["readelf", "-S", "-W", shared_object], capture_output=True, text=True, check=True
        )
        assert ".dynsym" in out.stdout and ".symtab" not in out.stdout
        assert "Warning" not in out.stderr and "Error" not in out.stderr


def test_files_that_are_not_elf_are_untouched(tmp_path):
    text = tmp_path / "libnot.so.1"
    text.write_text("not an ELF file, just named like one" * 4)
    assert strip_elf.strip_file(text) == 0
    assert text.read_text().startswith("not an ELF")
    assert strip_elf.shared_objects(tmp_path) == [text]
