"""Move chalicelib to its layout by capability, and rewrite every reference to the old places.

The MAP below is the single source of truth for the layout change of issue 23. The script is
deterministic and idempotent, so a branch forked before the change can be brought to the new layout
before it is merged:

    git checkout <branch> && python3 tools/relayout.py && git commit -am "relayout (tools/relayout.py)"

What it does, in order:
1. `git mv` each OLD path to its NEW path (a folder file by file); a source that does not exist, or
   that was moved already, is skipped and said so.
2. Creates the `__init__.py` of each new package.
3. Rewrites dotted references (`from chalicelib import desk`, `chalicelib.events.inbox`, mock.patch
   strings, `python -m chalicelib.local`) and file paths (`chalicelib/recall.py`) in every tracked
   text file; a rewrite never touches a reference that already names the new place.
4. Makes the few EDITS the move needs beyond names (paths computed from `__file__`, the edge's limits
   no longer importing the composition root), each only where its old text is still there.
5. Reports the top-level `chalicelib/*.py` modules the map does not know (new on a feature branch):
   they stay where they are; move them by hand or add them to the map.

Run it from anywhere inside the repository; `--dry-run` says what it would do and changes nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

# OLD -> NEW, paths from the repository's root; a folder moves with everything under it.
MAP: dict[str, str] = {
    # platform: what every layer may use (settings, errors, logs, outbound guard, languages, AWS clients)
    "chalicelib/settings.py": "chalicelib/platform/settings.py",
    "chalicelib/errors.py": "chalicelib/platform/errors.py",
    "chalicelib/observability.py": "chalicelib/platform/observability.py",
    "chalicelib/redaction.py": "chalicelib/platform/redaction.py",
    "chalicelib/outbound.py": "chalicelib/platform/outbound.py",
    "chalicelib/validation.py": "chalicelib/platform/validation.py",
    "chalicelib/i18n": "chalicelib/platform/i18n",
    "chalicelib/adapters": "chalicelib/platform/aws",
    # domain: pure rules and the public input models they are stated in
    "chalicelib/contract.py": "chalicelib/domain/contract.py",
    "chalicelib/domain/imports.py": "chalicelib/domain/patient_export.py",
    "chalicelib/domain/campaigns.py": "chalicelib/domain/campaign_rules.py",
    # core: the unit of work and what every feature builds on (runs, composition, credit, segments)
    "chalicelib/runtime.py": "chalicelib/core/runtime.py",
    "chalicelib/sequences.py": "chalicelib/core/sequences.py",
    "chalicelib/compose.py": "chalicelib/core/compose.py",
    "chalicelib/scripts.py": "chalicelib/core/scripts.py",
    "chalicelib/actions.py": "chalicelib/core/work.py",
    "chalicelib/credit.py": "chalicelib/core/credit.py",
    "chalicelib/campaign_credit.py": "chalicelib/core/campaign_credit.py",
    "chalicelib/segments.py": "chalicelib/core/segment_entries.py",
    "chalicelib/domain/kpi.py": "chalicelib/core/kpi.py",
    "chalicelib/domain/consent.py": "chalicelib/core/consent.py",
    # edge: the HTTP face (JSON and problems, staff auth, sessions, paging, limits, the API document)
    "chalicelib/http.py": "chalicelib/edge/json_api.py",
    "chalicelib/auth.py": "chalicelib/edge/auth.py",
    "chalicelib/sessions.py": "chalicelib/edge/sessions.py",
    "chalicelib/paging.py": "chalicelib/edge/paging.py",
    "chalicelib/limits.py": "chalicelib/edge/limits.py",
    "chalicelib/openapi.py": "chalicelib/edge/openapi.py",
    # desk: the administrators' tasks
    "chalicelib/desk.py": "chalicelib/desk/page.py",
    "chalicelib/tasks.py": "chalicelib/desk/tasks.py",
    "chalicelib/patients.py": "chalicelib/desk/patient_card.py",
    # engine: what moves work (events in, appliers, triggers, ladder steps, offers, hourly planners)
    "chalicelib/ingest.py": "chalicelib/engine/ingest.py",
    "chalicelib/events/waitlist.py": "chalicelib/engine/appliers/waiting_list.py",
    "chalicelib/events": "chalicelib/engine/appliers",
    "chalicelib/triggers.py": "chalicelib/engine/triggers.py",
    "chalicelib/steps.py": "chalicelib/engine/steps.py",
    "chalicelib/offers.py": "chalicelib/engine/offers.py",
    "chalicelib/recall.py": "chalicelib/engine/planners/recalls.py",
    "chalicelib/followups.py": "chalicelib/engine/planners/follow_ups.py",
    "chalicelib/greetings.py": "chalicelib/engine/planners/birthday_greetings.py",
    # features over the engine
    "chalicelib/scenarios/campaign.py": "chalicelib/scenarios/win_back.py",
    "chalicelib/campaigns.py": "chalicelib/campaigns/service.py",
    "chalicelib/campaign_opener.py": "chalicelib/campaigns/opener.py",
    "chalicelib/domain/campaign_pick.py": "chalicelib/campaigns/pick.py",
    "chalicelib/imports.py": "chalicelib/imports/service.py",
    "chalicelib/console.py": "chalicelib/console/page.py",
    "chalicelib/console_strings.py": "chalicelib/console/strings.py",
    "chalicelib/dashboard.py": "chalicelib/console/dashboard.py",
    "chalicelib/export.py": "chalicelib/console/export.py",
    "chalicelib/clinics.py": "chalicelib/console/clinics.py",
    "chalicelib/networks.py": "chalicelib/console/networks.py",
    "chalicelib/ad_spend.py": "chalicelib/console/ad_spend_api.py",
    "chalicelib/digest": "chalicelib/console/digest",
    # modules that feature branches add beside today's (each goes where its imports let it stand)
    "chalicelib/console_pages.py": "chalicelib/console/page_strings.py",
    "chalicelib/problem_texts.py": "chalicelib/console/problem_texts.py",
    "chalicelib/import_history.py": "chalicelib/imports/history.py",
    "chalicelib/desk_calls.py": "chalicelib/desk/calls.py",
    "chalicelib/wa_templates.py": "chalicelib/core/wa_templates.py",
    "chalicelib/voice.py": "chalicelib/engine/voice.py",
    # handlers: the composition root and what app.py hands queues and schedules to
    "chalicelib/wiring.py": "chalicelib/handlers/wiring.py",
    "chalicelib/schedules.py": "chalicelib/handlers/schedules.py",
    "chalicelib/consumers.py": "chalicelib/handlers/consumers.py",
    "chalicelib/sweeper.py": "chalicelib/handlers/sweeper.py",
    # the embedded stack runs on a laptop, never in Lambda: out of the package's folder
    "chalicelib/local": "embedded",
}

PACKAGES: dict[str, str] = {
    "chalicelib/platform": "What every layer may use: settings, errors, logs, outbound guard, languages, AWS clients.",
    "chalicelib/core": "The unit of work and what every feature builds on: runs, composition, credit, segments.",
    "chalicelib/edge": "The HTTP face: JSON and problems, staff auth and sessions, paging, limits, the API document.",
    "chalicelib/desk": "The administrators' desk: its page, its tasks, a patient's card.",
    "chalicelib/engine": "What moves work: events in and their appliers, triggers, ladder steps, offers, planners.",
    "chalicelib/engine/planners": "The hourly tick's planners: who is due for a recall, a follow-up, a greeting.",
    "chalicelib/campaigns": "Campaigns: their API, the daily opener and its pick.",
    "chalicelib/imports": "Patient imports: the upload worker and its API.",
    "chalicelib/console": "The managers' console: its page, dashboard, export, clinics, networks, ad spend, digest.",
    "chalicelib/handlers": "The composition root, and the queue consumers and schedules app.py hands work to.",
}

# Edits the move needs beyond renaming, applied after the rewrite where OLD is still there (so a branch
# brought over by the script carries them too, and merges with the relayout without conflicts in them).
EDITS: tuple[tuple[str, str, str], ...] = (
    ("chalicelib/desk/page.py",  # one folder deeper: the static files stay in chalicelib/static
     'STATIC = Path(__file__).parent / "static"', 'STATIC = Path(__file__).parents[1] / "static"'),
    ("chalicelib/platform/i18n/__init__.py",
     '_TEMPLATES = _HERE.parent / "templates"', '_TEMPLATES = _HERE.parents[1] / "templates"'),
    ("embedded/resources.py",  # one folder less deep: the project's root is its parent
     "PROJECT = Path(__file__).resolve().parents[2]", "PROJECT = Path(__file__).resolve().parents[1]"),
    ("pyproject.toml",
     'files = ["app.py", "chalicelib", "infra", "bench"]',
     'files = ["app.py", "chalicelib", "embedded", "infra", "bench"]'),
    ("tests/infra/test_package.py",
     'deployed = [PROJECT / "app.py", *(p for p in (PROJECT / "chalicelib").rglob("*.py") if "local" not in p.parts)]',
     'deployed = [PROJECT / "app.py", *(PROJECT / "chalicelib").rglob("*.py")]  # the embedded stack is not in it'),
    ("chalicelib/edge/limits.py",  # the edge no longer reaches up to the composition root: wiring says where
     """@lru_cache(maxsize=1)
def quota() -> ClinicQuota:
    from chalicelib.handlers import wiring  # the counters live in the app's table

    return ClinicQuota(_rates(), lambda: wiring.runtime().store)
""", """_counters: list[Callable[[], RateCounters]] = []


def count_in(counters: Callable[[], RateCounters]) -> None:
    \"\"\"Where the clinics' counters live (the app's table): the composition root says so, so that
    the edge does not reach up for it.\"\"\"
    _counters[:] = [counters]
    quota.cache_clear()


def _installed_counters() -> RateCounters:
    if not _counters:
        raise RuntimeError("no counters for the clinics' limits: import chalicelib.handlers.wiring first")
    return _counters[0]()


@lru_cache(maxsize=1)
def quota() -> ClinicQuota:
    return ClinicQuota(_rates(), _installed_counters)
"""),
    ("chalicelib/handlers/wiring.py",
     "from chalicelib.edge.auth import Authenticator\n",
     "from chalicelib.edge import limits\nfrom chalicelib.edge.auth import Authenticator\n"),
    ("chalicelib/handlers/wiring.py",
     "\n\ndef _timing() -> Timing:",
     "\n\nlimits.count_in(lambda: runtime().store)  # the clinics' limits count in the app's table"
     "\n\n\ndef _timing() -> Timing:"),
)

TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".txt", ".ini", ".json", ".yml", ".yaml", ".sh", ".js", ".html"}
TEXT_NAMES = {"Makefile", "run"}
SELF = "tools/relayout.py"


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def tracked(root: Path) -> list[str]:
    return [line for line in git(root, "ls-files").splitlines() if (root / line).exists()]


def module_map() -> dict[str, str]:
    """Old dotted module -> new dotted module; a folder's key covers everything under it."""
    return {dotted(old): dotted(new) for old, new in MAP.items()}


def _is_new_module(root: Path, name: str) -> bool:
    path = root / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def rewrite_dotted(name: str, modules: dict[str, str], root: Path) -> str:
    """`chalicelib.a.b.attr` with its longest moved prefix replaced; a name already new is kept.

    An old module that became a package of the same name (`chalicelib.desk`) is read as the package
    when nothing follows it or a module of the package follows it (`chalicelib.desk.page`)."""
    parts = name.split(".")
    for cut in range(len(parts), 1, -1):
        prefix = ".".join(parts[:cut])
        if prefix in modules:
            rest = parts[cut:]
            if (root / prefix.replace(".", "/") / "__init__.py").exists() and (
                    not rest or _is_new_module(root, f"{prefix}.{rest[0]}")):
                return name
            return ".".join([modules[prefix], *rest])
    return name


def rewrite_path(path: str, paths: dict[str, str]) -> str:
    """`chalicelib/events/inbox.py` -> its new path; a path already new is kept."""
    for old, new in paths.items():
        if path == old or path.startswith(old + "/"):
            return new + path[len(old):]
    return path


FROM_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>chalicelib(?:\.\w+)*)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[^\n#]*?)(?P<comment>[ \t]*#[^\n]*)?$",
    re.MULTILINE,
)
DOTTED = re.compile(r"(?<![\w./])chalicelib(?:\.\w+)+")
ESCAPED = re.compile(r"(?<![\w./])chalicelib(?:\\\.\w+)+")  # in a regular expression: chalicelib\.local
PATH = re.compile(r"(?<![\w./-])chalicelib/[\w/.-]*\w")


def _rewrite_from(match: re.Match[str], modules: dict[str, str], root: Path) -> str:
    module, raw = match["module"], match["names"]
    names = [n.strip() for n in raw.strip("()").replace("\n", " ").split(",") if n.strip()]
    if any(n.startswith("#") or " " in n.replace(" as ", "#", 1) for n in names):
        return match[0]  # a comment inside the parentheses: leave it for a person
    groups: dict[str, list[str]] = {}
    changed = False
    for entry in names:
        name, _, alias = entry.partition(" as ")
        name, alias = name.strip(), alias.strip()
        full = f"{module}.{name}"
        new_full = rewrite_dotted(full, modules, root)
        new_module, _, new_name = new_full.rpartition(".")
        changed |= new_full != full
        if full in modules:  # `from chalicelib import desk`: the old module, imported from its new place
            new_module, _, new_name = modules[full].rpartition(".")
            changed = True
            local = alias or name
            groups.setdefault(new_module, []).append(new_name if new_name == local else f"{new_name} as {local}")
        else:
            groups.setdefault(new_module, []).append(entry)
    if not changed:
        return match[0]
    indent, comment = match["indent"], match["comment"] or ""
    lines = [f"{indent}from {mod} import {', '.join(items)}" for mod, items in groups.items()]
    lines[0] += comment
    return "\n".join(lines)


def rewrite_text(text: str, modules: dict[str, str], paths: dict[str, str], root: Path) -> str:
    text = FROM_IMPORT.sub(lambda m: _rewrite_from(m, modules, root), text)
    text = DOTTED.sub(lambda m: rewrite_dotted(m[0], modules, root), text)
    text = ESCAPED.sub(lambda m: rewrite_dotted(m[0].replace("\\.", "."), modules, root).replace(".", "\\."), text)
    return PATH.sub(lambda m: rewrite_path(m[0], paths), text)


def move(root: Path, dry: bool) -> list[str]:
    """git mv every OLD that is still there; returns what was said."""
    said = []
    files = tracked(root)
    for old, new in MAP.items():
        sources = [f for f in files if f == old or f.startswith(old + "/")] if not old.endswith(".py") \
            else [old] if old in files else []
        if not sources:
            said.append(f"skip  {old}: {'moved already' if (root / new).exists() else 'not here'}")
            continue
        for source in sources:
            target = new + source[len(old):]
            if not (root / source).exists():
                continue  # moved by an earlier, more precise entry
            if (root / target).exists():
                said.append(f"skip  {source}: {target} exists")
                continue
            said.append(f"move  {source} -> {target}")
            if not dry:
                (root / target).parent.mkdir(parents=True, exist_ok=True)
                git(root, "mv", source, target)
        leftover = root / old
        files_left = any(p.is_file() and "__pycache__" not in p.parts for p in leftover.rglob("*"))
        if not dry and leftover.is_dir() and not files_left:
            shutil.rmtree(leftover)  # only caches were left behind
    for package, why in PACKAGES.items():
        init = root / package / "__init__.py"
        if (root / package).is_dir() and not init.exists():
            said.append(f"make  {package}/__init__.py")
            if not dry:
                init.write_text(f'"""{why}"""\n')
                git(root, "add", str(init.relative_to(root)))
    return said


def rewrite(root: Path, dry: bool) -> list[str]:
    modules = module_map()
    paths = dict(sorted(MAP.items(), key=lambda item: -len(item[0])))
    said = []
    for name in tracked(root):
        path = root / name
        if name == SELF or (path.suffix not in TEXT_SUFFIXES and path.name not in TEXT_NAMES):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new = rewrite_text(text, modules, paths, root)
        if new != text:
            said.append(f"edit  {name}")
            if not dry:
                path.write_text(new)
    return said


def edit(root: Path, dry: bool) -> list[str]:
    said = []
    for name, old, new in EDITS:
        path = root / name
        if not path.exists():
            continue
        text = path.read_text()
        if old in text and new not in text:
            said.append(f"fix   {name}")
            if not dry:
                path.write_text(text.replace(old, new, 1))
    return said


def strays(root: Path) -> list[str]:
    known = {old for old in MAP}
    return [f"stays {p.relative_to(root)}: not in the map" for p in sorted((root / "chalicelib").glob("*.py"))
            if str(p.relative_to(root)) not in known and p.name != "__init__.py"]


def tidy(root: Path, edited: list[str], dry: bool) -> None:
    """Sort the rewritten imports as the project's ruff would (isort rules only)."""
    candidates = [root / ".venv/bin/ruff", Path(sys.executable).parent / "ruff"]
    ruff_cmd = next((str(c) for c in candidates if c.exists()), None) or shutil.which("ruff")
    files = [e.split(maxsplit=1)[1] for e in edited if e.endswith(".py")]
    if dry or not files:
        return
    if not ruff_cmd:
        print("relayout: no ruff here; sort the rewritten imports with `ruff check --select I --fix .`")
        return
    subprocess.run([ruff_cmd, "check", "--select", "I", "--fix", "--quiet", *files], cwd=root, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    args = parser.parse_args()
    root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    said = move(root, args.dry_run)
    edited = rewrite(root, args.dry_run)
    fixed = edit(root, args.dry_run)
    tidy(root, edited, args.dry_run)
    for line in [*said, *edited, *fixed, *strays(root)]:
        print(line)
    moved = sum(line.startswith("move") for line in said)
    print(f"relayout: {moved} moved, {len(edited)} files rewritten{' (dry run)' if args.dry_run else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
