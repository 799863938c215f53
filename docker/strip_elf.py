"""Drop the static symbol tables (``strip --strip-unneeded``'s main saving) from ELF files.

Used in the image build, where binutils is absent and there is no network to get
it. Python's standard library only. TensorFlow's wheels ship unstripped: this
removes ~270 MB (x86_64) / ~350 MB (aarch64) of ``.symtab``/``.strtab`` that the
dynamic loader never reads (it uses program headers and ``.dynsym``).

Conservative: a file is rewritten only when every removed section is
non-allocated, lies outside every segment, and comes after every allocated
section in the section table (so ``.dynsym``'s section indices stay valid);
anything unusual is left untouched. Little-endian ELF64 only (x86_64, aarch64).

Usage: python3 strip_elf.py DIR_OR_FILE...   (prints what it saved)
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import tempfile
from pathlib import Path

SHT_NOBITS = 8
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_REL = 9
SHT_RELA = 4
SHF_ALLOC = 0x2
SHF_INFO_LINK = 0x40
_SECTION = struct.Struct("<IIQQQQIIQQ")  # name type flags addr offset size link info align entsize
_SEGMENT = struct.Struct("<IIQQQQQQ")  # type flags offset vaddr paddr filesz memsz align


def _align(value: int, alignment: int) -> int:
    return value if alignment <= 1 else (value + alignment - 1) // alignment * alignment


def plan(data: bytes | mmap.mmap) -> tuple[list[int], int] | None:
    """The section indices to drop and the cut offset, or None when the file must stay as it is."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
    if not shoff or not shnum or shentsize != _SECTION.size or shoff + shnum * shentsize > len(data):
        return None
    sections = [_SECTION.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    names_at = sections[shstrndx][4]

    def name(section: tuple) -> bytes:
        start = names_at + section[0]
        return bytes(data[start : data.find(b"\0", start)])

    drop = set()
    for index, section in enumerate(sections):
        if section[1] == SHT_SYMTAB:
            drop.add(index)
            if sections[section[6]][1] == SHT_STRTAB and section[6] != shstrndx:
                drop.add(section[6])
        elif name(section).startswith(b".debug_") and not section[2] & SHF_ALLOC:
            drop.add(index)
    if not drop:
        return None
    last_alloc = max((i for i, s in enumerate(sections) if s[2] & SHF_ALLOC), default=0)
    if min(drop) <= last_alloc or shstrndx in drop:
        return None
    cut = max(64, phoff + phnum * phentsize)
    for i in range(phnum):
        segment = _SEGMENT.unpack_from(data, phoff + i * phentsize)
        cut = max(cut, segment[2] + segment[5])
    for index, section in enumerate(sections):
        if section[2] & SHF_ALLOC and section[1] != SHT_NOBITS:
            cut = max(cut, section[4] + section[5])
        if index in drop and (section[2] & SHF_ALLOC or section[4] < cut):
            return None
        if index not in drop and section[6] in drop:
            return None  # something still links to a dropped section
        if index not in drop and section[1] != SHT_NOBITS and section[4] < cut < section[4] + section[5]:
            return None  # a kept section straddles the cut
    return sorted(drop), cut


def strip_file(path: Path) -> int:
    """Rewrite path without its static symbols; return the bytes saved (0 when untouched)."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size < 64:
            return 0
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            decided = plan(data)
            if decided is None:
                return 0
            return _rewrite(path, data, *decided)
        finally:
            data.close()


def _rewrite(path: Path, data: mmap.mmap, drop: list[int], cut: int) -> int:
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [list(_SECTION.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    new_index = {}
    for old in range(shnum):
        if old not in drop:
            new_index[old] = len(new_index)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".strip-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data[:cut])
            position = cut
            kept = []
            for old, section in enumerate(sections):
                if old in drop:
                    continue
                if section[4] >= cut and section[1] != SHT_NOBITS and old != 0:
                    start, size = section[4], section[5]
                    padded = _align(position, section[8])
                    out.write(b"\0" * (padded - position))
                    out.write(data[start : start + size])
                    section[4] = padded
                    position = padded + size
                section[6] = new_index.get(section[6], 0)
                if section[2] & SHF_INFO_LINK or section[1] in (SHT_REL, SHT_RELA):
                    section[7] = new_index.get(section[7], 0)
                kept.append(section)
            table = _align(position, 8)
            out.write(b"\0" * (table - position))
            for section in kept:
                out.write(_SECTION.pack(*section))
            out.seek(0x28)
            out.write(struct.pack("<Q", table))
            out.seek(0x3C)
            out.write(struct.pack("<HH", len(kept), new_index[shstrndx]))
            saved = len(data) - (table + len(kept) * _SECTION.size)
        os.chmod(temp_name, path.stat().st_mode & 0o7777)
        os.replace(temp_name, path)
    except BaseException:
        os.unlink(temp_name)
        raise
    return saved


def shared_objects(root: Path) -> list[Path]:
    """Every regular *.so / *.so.N file under root (symlinks skipped)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.so*") if p.is_file() and not p.is_symlink() and ".so" in p.name)


def main(argv: list[str]) -> int:
    saved = files = 0
    for root in argv:
        for path in shared_objects(Path(root)):
            gained = strip_file(path)
            if gained > 0:
                saved += gained
                files += 1
    print(f"strip_elf: {files} files, {saved / 1e6:.0f} MB of static symbols removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
