"""Every link in README.md and docs/ resolves: the file is there, and so is the heading it names."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = CODE_BLOCK.sub("", path.read_text())
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(path: Path) -> list[str]:
    return LINK.findall(CODE_BLOCK.sub("", path.read_text()))


def test_the_readme_links_every_doc_and_every_doc_exists():
    linked = {target.split("#")[0] for target in links(REPO / "README.md")}
    assert {f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")} <= linked


def test_every_link_resolves():
    broken = []
    for document in documents():
        for target in links(document):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file, _, heading = target.partition("#")
            path = (document.parent / file).resolve() if file else document
            if not path.exists():
                broken.append(f"{document.name}: {target} (no such file)")
            elif heading and path.suffix == ".md" and heading not in anchors(path):
                broken.append(f"{document.name}: {target} (no such heading)")
    assert broken == []


def test_the_first_screen_holds_the_two_commands_and_a_real_answer():
    first = "\n".join((REPO / "README.md").read_text().splitlines()[:40])
    assert "make all-arch" in first and "make test" in first
    assert "The answer: fastest int8 vs fastest float32" in first and "faster than" in first
