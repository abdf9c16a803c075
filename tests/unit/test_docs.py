"""The documentation a clone gets: a short README, and nothing that points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PAGES = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)[^)]*\)")


def test_the_readme_stays_short_and_the_depth_is_in_docs() -> None:
    readme = (PROJECT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in ("api.md", "overview.md", "connecting.md", "imports-campaigns.md", "deploy.md", "benchmarks.md",
                 "reliability.md"):
        assert f"(docs/{page})" in readme, f"the README links docs/{page}"


def test_no_page_links_outside_the_repository() -> None:
    for page in PAGES:
        text = page.read_text()
        assert "shared/CONTRACT" not in text, page.name
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # a web address
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(PROJECT), f"{page.name} links {target}, outside the repository"
