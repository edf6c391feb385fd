"""The layers are checked, not hoped for (issue 18): import contracts (import-linter, ``[tool.importlinter]`` in
pyproject.toml), the imports of the pages, and mypy over ``xner/`` against a baseline that may only shrink.

After fixing type errors (or moving a module), regenerate the baseline and review its diff:
``python tests/test_layers.py --update-mypy-baseline``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MYPY_BASELINE = REPO / "tests" / "mypy-baseline.txt"

# What app.py and the pages may import from xner: the ui (and its figures), the services and the core types.
PAGE_IMPORTS = ("xner.ui", "xner.figures", "xner.services", "xner.types", "xner.errors", "xner.schemes", "xner.options")
# Known violations, (page, module): they may only go away; a fixed one must be deleted here.
PAGE_VIOLATIONS: set[tuple[str, str]] = set()


LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def test_import_contracts_hold() -> None:
    """lint-imports keeps every contract; an ``ignore_imports`` entry that matches nothing fails it too."""
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def xner_imports(path: Path) -> set[str]:
    """The xner modules a script imports (``from xner import m`` counts as ``xner.m``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("xner"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("xner"):
            if node.module == "xner":
                found.update(f"xner.{alias.name}" for alias in node.names)
            else:
                found.add(node.module or "")
    return found


def is_within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_pages_import_only_ui_services_and_core() -> None:
    scripts = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
    found = {
        (script.relative_to(REPO).as_posix(), module)
        for script in scripts
        for module in xner_imports(script)
        if not is_within(module, PAGE_IMPORTS)
    }
    assert found - PAGE_VIOLATIONS == set(), "pages may import only xner.ui, xner.services and the core types"
    assert PAGE_VIOLATIONS - found == set(), "fixed: delete these from PAGE_VIOLATIONS in tests/test_layers.py"


MYPY_LINE = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: (?P<message>.*)$")


def mypy_errors() -> Counter[str]:
    """mypy's errors over xner/ (config in pyproject.toml) as ``path: message [code]``, without line numbers, so
    that an edit elsewhere in a file does not change them; counted, as one message can occur several times."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty", "--show-error-codes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"mypy failed to run (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    errors: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        if match := MYPY_LINE.match(line):
            errors[f"{match['path']}: {match['message'].strip()}"] += 1
    return errors


def read_baseline() -> Counter[str]:
    lines = MYPY_BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def write_baseline(errors: Counter[str]) -> None:
    header = "# mypy errors over xner/ accepted for now; may only shrink. After a fix or a move:\n"
    header += "# python tests/test_layers.py --update-mypy-baseline\n"
    MYPY_BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(errors.elements())), encoding="utf-8")


@pytest.mark.slow
def test_mypy_finds_no_new_errors() -> None:
    """New type errors fail; fixed ones must leave the baseline too, so that it only shrinks."""
    errors, baseline = mypy_errors(), read_baseline()
    hint = "\nafter a fix or a move: python tests/test_layers.py --update-mypy-baseline (and review its diff)"
    new = errors - baseline
    assert not new, "new mypy errors:\n" + "\n".join(sorted(new.elements())) + hint
    fixed = baseline - errors
    assert not fixed, "fixed mypy errors still in tests/mypy-baseline.txt:\n" + "\n".join(fixed.elements()) + hint


if __name__ == "__main__":
    if sys.argv[1:] != ["--update-mypy-baseline"]:
        sys.exit("usage: python tests/test_layers.py --update-mypy-baseline")
    write_baseline(mypy_errors())
    print(f"wrote {MYPY_BASELINE.relative_to(REPO)}")
