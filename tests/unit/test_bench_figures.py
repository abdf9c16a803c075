"""`make bench`'s bookkeeping: previous figures read back, targets checked, docs/benchmarks.md (nothing is timed)."""

from __future__ import annotations

from pathlib import Path

from bench import figures

LEGACY = """# make bench — 2026-11-22 23:45 UTC
Machine: x86_64, Linux 6.18.44-fc-v509, Python 3.11.7, 2 CPUs; AWS emulated by moto.

| **all events** | 616 | **3.19** | **2.28** | 1.59 | 13.40 |

| **total per clinic** | **0.97** | |

- `import app`: **326 ms cold** (no bytecode, as a fresh Lambda zip), 62 ms warm (target: under 400 ms cold).
- Deployment package: **34.9 MB zipped**, 77.0 MB unzipped (Lambda limits: 50 MB zipped upload, 250 MB unzipped).
"""


def test_a_results_file_from_before_the_figures_comment_is_read_by_its_wording() -> None:
    previous = figures.read_previous(LEGACY)
    assert previous.date == "2026-11-22 23:45 UTC"
    assert previous.machine == "x86_64, Linux 6.18.44-fc-v509, Python 3.11.7, 2 CPUs"
    assert previous.values == {"reads_per_event": 3.19, "writes_per_event": 2.28, "cost_per_clinic": 0.97,
                               "cold_import_wall_ms": 326.0, "package_mb": 34.9}
    assert previous.legacy


def test_the_figures_comment_round_trips_and_a_missing_figure_shows_a_dash() -> None:
    values = {"reads_per_event": 1.875, "package_mb": 11.2, "latency_p95_50": float("nan")}
    text = "# make bench — 2026-12-01 10:00 UTC\nMachine: arm64; x\n" + figures.figures_comment(values)
    previous = figures.read_previous(text)
    assert previous.values == {"reads_per_event": 1.875, "package_mb": 11.2}
    assert not previous.legacy
    table = "\n".join(figures.headline({"reads_per_event": 1.5}, previous))
    assert "| DynamoDB reads per event | **1.50** | 1.88 | ≤ 2.00 | met |" in table
    assert "| webhook → desk at 50/s, p95 | **—** | — |" in table
    assert figures.was(previous, "package_mb") == " (was 11.2 MB)" and figures.was(previous, "sustained") == ""


def test_each_missed_target_is_named_and_the_rest_pass() -> None:
    values = {"reads_per_event": 3.19, "writes_per_event": 3.0, "package_mb": 20.5, "cold_import_ms": 190.0,
              "latency_p95_50": 99.0}
    assert figures.missed(values) == ["DynamoDB reads per event: 3.19, target ≤ 2.00",
                                      "Lambda package, zipped: 20.5 MB, target ≤ 20.0 MB"]
    assert figures.missed({"reads_per_event": 2.0, "cold_import_ms": 250.0}) == []


def test_the_benchmarks_page_gets_the_run_with_headings_moved_down_and_keeps_its_prose(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nWhat it measures.\n\n## Last run\n<!-- bench:start -->\nold\n"
                    "<!-- bench:end -->\n\n## One deployment, many clinics\n")
    report = "# make bench — today\n\n## 1. Requests\n| a |\n" + figures.figures_comment({"package_mb": 1.0})
    assert figures.write_benchmarks(report, page) == page
    assert page.read_text() == ("# Benchmarks\n\nWhat it measures.\n\n## Last run\n<!-- bench:start -->\n"
                                "### make bench — today\n\n#### 1. Requests\n| a |\n<!-- bench:end -->\n\n"
                                "## One deployment, many clinics\n")


def test_the_real_benchmarks_page_has_its_markers_and_the_readme_has_none() -> None:
    text = figures.BENCHMARKS.read_text()
    assert text.index(figures.BLOCK_START) < text.index(figures.BLOCK_END)
    assert figures.BLOCK_START not in (figures.BENCHMARKS.parents[1] / "README.md").read_text()
