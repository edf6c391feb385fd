"""The pages and ui modules show user text only through ``xner.ui.render`` (read statically, with ``ast``).

Three rules, each a test:

1. ``unsafe_allow_html`` (and ``st.html``, ``components.html``) appears only in ``xner/ui/render.py``: HTML reaches a
   page only as an :class:`xner.ui.render.Html` fragment, through :func:`xner.ui.render.show_html`.
2. Text given to an element that renders Markdown (``st.markdown``, captions, alerts, headings, widget and button
   labels, ``help=`` tooltips, progress text, tabs, expanders, metrics, and the options of radios, pills and
   segmented controls) is *safe*: made of constant strings, numbers (a value with a format spec such as ``:,`` or
   ``.2f``, ``len(...)``, names of counts and ids: :data:`NUMERIC_NAME`), module constants (UPPER_CASE) and calls
   of :func:`xner.ui.render.literal`; a local variable counts when every assignment to it in its function (or module)
   is safe. Anything else interpolated -- a parameter, a loop variable, an attribute, a call -- is reported with
   its file and line: pass it through ``literal()``.
3. Elements that show text as it is (``st.text``, ``st.code``, ``st.json``, dataframes, the options of select boxes)
   never get ``literal()``: its character references would show.

The check is deliberately simple (no types, no calls followed): a helper that returns escaped text is written as
``literal(...)`` at the call, or its result assigned to a local. :data:`KNOWN` lists the few places left as they are,
each with its reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

CHECKED = sorted(
    [
        *REPO.glob("pages/*.py"),
        REPO / "app.py",
        *(REPO / "xner" / "ui").rglob("*.py"),
        REPO / "xner" / "services" / "training_view.py",
    ]
)
HELPER = REPO / "xner" / "ui" / "render.py"

# Streamlit methods whose text (first argument) is Markdown
BODY = {
    "markdown", "caption", "title", "header", "subheader", "success", "info", "warning", "error", "toast", "spinner",
    "write", "expander", "popover", "tabs",
}  # fmt: skip
# widgets whose label (first argument) is Markdown
LABELLED = {
    "button", "download_button", "form_submit_button", "link_button", "page_link", "checkbox", "toggle", "radio",
    "selectbox", "multiselect", "text_input", "text_area", "number_input", "slider", "select_slider", "file_uploader",
    "segmented_control", "pills", "date_input", "time_input", "datetime_input", "color_picker", "camera_input",
    "audio_input", "chat_input",
}  # fmt: skip
OPTIONS_AS_MARKDOWN = {"radio", "segmented_control", "pills"}  # st.selectbox/multiselect options are plain text
PLAIN = {"text", "code", "json", "dataframe", "data_editor"}  # show their text as it is
PLAIN_OPTIONS = {"selectbox", "multiselect"}  # their options and format_func results are shown as they are
MARKDOWN_KEYWORDS = {"label", "help", "body", "captions"}
# names that hold numbers, by the project's naming (a new one: add it here, or format the value: {x:d}, {x:,})
NUMERIC_NAME = re.compile(
    r"^(?:\w*_)?(?:id|sid|version|position|count|judged|drawn|correct|items|sentences|pairs|total_entities)$"
)

# (file, function, what): places deliberately left as they are
KNOWN = {
    ("xner/ui/forms.py", "option_input", "spec.name.replace('_', ' ')"): "option names come from the code",
    ("xner/ui/forms.py", "option_input", "spec.help"): "option help comes from the code (with its Markdown)",
    ("xner/ui/forms.py", "model_input", "help"): "help comes from the calling code (with its Markdown)",
    ("xner/ui/forms.py", "language_feedback", "to_nllb(code)"): "an NLLB-200 code from xner's table, as code",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    function: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.function}): {self.what} reaches Markdown without literal()"


class Scope:
    """The assignments of one function (or of the module) to local names, to follow ``x = ...; st.info(x)``."""

    def __init__(self, node: ast.AST, parent: Scope | None = None) -> None:
        self.parent = parent
        self.assigned: dict[str, list[ast.expr | None]] = {}
        for child in _own_nodes(node):
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    self._assign(target, child.value)
            elif isinstance(child, ast.AnnAssign | ast.AugAssign) and child.value is not None:
                self._assign(child.target, child.value)
            elif isinstance(child, ast.For | ast.comprehension | ast.With | ast.NamedExpr):
                for target in _targets(child):
                    self._assign(target, None)  # a loop or with variable: unknown content
            elif (  # x.append(...) / x.extend(...) add to x
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in ("append", "extend")
                and isinstance(child.func.value, ast.Name)
            ):
                added = child.args[0] if child.args else None
                self.assigned.setdefault(child.func.value.id, []).append(
                    ast.List([added], ast.Load()) if child.func.attr == "append" and added is not None else added
                )
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                self.assigned.setdefault(arg.arg, []).append(None)  # a parameter: unknown content

    def _assign(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.assigned.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:  # unpacking: each part unknown unless the value is a tuple of the same size
                parts = value.elts if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts) else None
                self._assign(element, parts[target.elts.index(element)] if parts else None)

    def lookup(self, name: str) -> list[ast.expr | None] | None:
        if name in self.assigned:
            return self.assigned[name]
        return self.parent.lookup(name) if self.parent else None


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``node``'s body, not descending into nested functions or classes."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            yield from _own_nodes(child)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.For | ast.comprehension):
        return [node.target]
    if isinstance(node, ast.With):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    if isinstance(node, ast.NamedExpr):
        return [node.target]
    return []


class Checker:
    """Whether an expression is safe Markdown text, in its scope (see the module's docstring)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.unsafe: list[ast.expr] = []
        self._following: set[str] = set()

    def check(self, node: ast.expr | None) -> bool:
        """True when ``node`` is safe; the unsafe parts go to :attr:`unsafe`."""
        if node is None:
            return True
        ok = self._safe(node)
        return ok

    def _report(self, node: ast.expr) -> bool:
        self.unsafe.append(node)
        return False

    def _safe(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all([self._safe(value) for value in node.values])
        if isinstance(node, ast.FormattedValue):
            return node.format_spec is not None or self._safe(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            return all([self._safe(node.left), self._safe(node.right)])
        if isinstance(node, ast.BoolOp):
            return all([self._safe(value) for value in node.values])
        if isinstance(node, ast.IfExp):
            return all([self._safe(node.body), self._safe(node.orelse)])
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return all([self._safe(element) for element in node.elts])
        if isinstance(node, ast.Starred):
            return self._safe(node.value)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self._safe(node.elt)
        if isinstance(node, ast.Lambda):
            return Checker(Scope(node, self.scope))._into(self, node.body)
        if isinstance(node, ast.Call):
            return self._safe_call(node)
        if isinstance(node, ast.Name):
            return self._safe_name(node)
        if isinstance(node, ast.Dict):
            return all([self._safe(value) for value in node.values])
        if isinstance(node, ast.Attribute):
            if NUMERIC_NAME.match(node.attr) or _is_constant(node):
                return True
            if node.attr == "get" and isinstance(node.value, ast.Name):  # names.get: a look-up in a local table
                return self._safe(node.value)
            return self._report(node)
        if isinstance(node, ast.Subscript):  # a look-up in a constant table, or in a local one
            return _is_constant(node.value) or (isinstance(node.value, ast.Name) and self._safe(node.value))
        return self._report(node)

    def _into(self, outer: Checker, node: ast.expr) -> bool:
        ok = self._safe(node)
        outer.unsafe.extend(self.unsafe)
        return ok

    def _safe_call(self, node: ast.Call) -> bool:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("literal", "len", "int", "float", "round"):
            return True
        if name in ("list", "tuple", "sorted", "reversed") and isinstance(node.func, ast.Name):
            return all([self._safe(arg) for arg in node.args])
        if name == "join" and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Constant):
            return all([self._safe(arg) for arg in node.args])
        return self._report(node)

    def _safe_name(self, node: ast.Name) -> bool:
        if _is_constant(node) or NUMERIC_NAME.match(node.id) or node.id == "literal":  # format_func=literal
            return True
        values = self.scope.lookup(node.id)
        if not values or None in values or node.id in self._following:
            return self._report(node)
        self._following.add(node.id)
        try:
            return all([self._safe(value) for value in values if value is not None])
        finally:
            self._following.discard(node.id)


def _is_constant(node: ast.expr) -> bool:
    """An UPPER_CASE module constant, here or in another module (``view.KEYS``), or an attribute of one
    (``NAMES.get``)."""
    while isinstance(node, ast.Attribute):
        if _is_upper(node.attr):
            return True
        node = node.value
    return isinstance(node, ast.Name) and _is_upper(node.id)


def _is_upper(name: str) -> bool:
    return name.isupper() and len(name) > 1


def markdown_arguments(call: ast.Call) -> list[ast.expr]:
    """The arguments of a Streamlit call that Streamlit renders as Markdown (nothing for other calls)."""
    if _is_getattr_of_st(call.func):  # getattr(st, kind)(text): an alert chosen by name
        return call.args[:1]
    if not isinstance(call.func, ast.Attribute):
        return []
    method = call.func.attr
    found: list[ast.expr] = []
    if method in BODY or method in LABELLED:
        found += call.args[:1]
    if method == "metric":  # label, value and delta are all Markdown
        found += call.args[:3]
        found += [k.value for k in call.keywords if k.arg in ("value", "delta")]
    if method == "progress":
        found += call.args[1:2] + [k.value for k in call.keywords if k.arg == "text"]
    if method in BODY | LABELLED | {"metric", "progress"}:
        found += [k.value for k in call.keywords if k.arg in MARKDOWN_KEYWORDS]
    if method in OPTIONS_AS_MARKDOWN:
        shown = next((k.value for k in call.keywords if k.arg == "format_func"), None)
        options = call.args[1:2] + [k.value for k in call.keywords if k.arg == "options"]
        found += [shown] if shown is not None else options
    return found


def _is_getattr_of_st(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "getattr"
        and bool(node.args)
        and getattr(node.args[0], "id", "") == "st"
    )


def _scopes(tree: ast.Module) -> dict[ast.AST, Scope]:
    """The scope of every node: its function's (nested functions see their parents'), else the module's."""
    module = Scope(tree)
    owner: dict[ast.AST, Scope] = {}

    def visit(node: ast.AST, scope: Scope) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = Scope(child, scope)
            owner[child] = inner
            visit(child, inner)

    visit(tree, module)
    return owner


def _function_names(tree: ast.Module) -> dict[ast.AST, str]:
    names: dict[ast.AST, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            names[child] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return names


def unescaped(path: Path, source: str | None = None) -> list[Finding]:
    """Every unsafe text given to a Markdown element in the file at ``path`` (or in ``source``)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    scopes, functions = _scopes(tree), _function_names(tree)
    relative = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for argument in markdown_arguments(node):
            checker = Checker(scopes.get(node) or Scope(tree))
            checker.check(argument)
            function = functions.get(node, "<module>")
            found += [Finding(relative, node.lineno, function, ast.unparse(part)) for part in checker.unsafe]
    return found


def plain_arguments(call: ast.Call) -> list[ast.expr]:
    """The arguments of a Streamlit call that Streamlit shows as plain text (nothing for other calls)."""
    if not isinstance(call.func, ast.Attribute):
        return []
    if call.func.attr in PLAIN:
        return [*call.args, *(k.value for k in call.keywords)]
    if call.func.attr in PLAIN_OPTIONS:
        return [*call.args[1:], *(k.value for k in call.keywords if k.arg in ("options", "format_func", "default"))]
    return []


def escaped_plain_text(path: Path, source: str | None = None) -> list[str]:
    """Where the file at ``path`` (or ``source``) gives ``literal()`` to an element that shows plain text."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in plain_arguments(node):
                if any(isinstance(inner, ast.Name) and inner.id == "literal" for inner in ast.walk(argument)):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(argument)}")
    return found


def html_uses(path: Path) -> list[str]:
    """Where the file at ``path`` shows raw HTML: ``unsafe_allow_html``, ``st.html``, ``components.html``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
            uses.append(f"{path.name}:{node.value.lineno}: unsafe_allow_html")
        raw = isinstance(node, ast.Attribute) and node.attr == "html" and isinstance(node.value, ast.Name)
        if raw and node.value.id in ("st", "components"):
            uses.append(f"{path.name}:{node.lineno}: {node.value.id}.html")
    return uses


# --- the rules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*CHECKED, *sorted((REPO / "xner").rglob("*.py"))], ids=lambda p: str(p))
def test_raw_html_is_shown_only_by_the_rendering_helper(path: Path) -> None:
    if path == HELPER:
        return
    assert html_uses(path) == [], "show HTML with xner.ui.render.show_html (its parts are escaped)"


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(REPO).as_posix())
def test_markdown_elements_get_user_text_only_through_literal(path: Path) -> None:
    problems = [f for f in unescaped(path) if (f.path, f.function, f.what) not in KNOWN]
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(REPO).as_posix())
def test_plain_text_elements_get_no_escapes(path: Path) -> None:
    assert escaped_plain_text(path) == [], "these elements show text as it is: pass the string unchanged"


def test_the_known_exceptions_are_still_there() -> None:
    """Each entry of KNOWN is still needed (an entry whose place was fixed must go)."""
    seen = {(f.path, f.function, f.what) for path in CHECKED for f in unescaped(path)}
    assert set(KNOWN) <= seen, set(KNOWN) - seen


# --- the checker itself ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "unsafe"),
    [
        ("st.caption('constant')", []),
        ("st.caption(f'Corpus {name}')", ["name"]),
        ("st.caption(f'Corpus {literal(name)}: {count:,} sentences, run {run_id}')", []),
        ("def f(error):\n    st.error(str(error))", ["str(error)"]),
        ("def f(error):\n    st.error(literal(str(error)))", []),
        ("def f(x):\n    text = f'a {x}'\n    st.info(text)", ["x"]),
        ("def f(x):\n    text = f'a {literal(x)}'\n    st.info(text)", []),
        ("def f(x):\n    parts = ['a']\n    parts.append(x)\n    st.caption(' · '.join(parts))", ["x"]),
        ("def f(xs):\n    st.caption(', '.join(f'{x}' for x in xs))", ["x"]),
        ("def f(xs):\n    st.caption(', '.join(literal(x) for x in xs))", []),
        ("st.button(f'Queue {item.corpus}', help=item.note)", ["item.corpus", "item.note"]),
        ("bar.progress(0.5, text=f'{name}: {done:,}')", ["name"]),
        ("st.metric('Label', value)", ["value"]),
        ("st.metric('Label', f'{value:.1%}')", []),
        ("st.tabs([name, 'b'])", ["name"]),
        ("st.radio('Who', names)", ["names"]),
        ("st.radio('Who', names, format_func=lambda n: literal(n))", []),
        ("st.radio('Who', names, format_func=lambda n: f'{n} version')", ["n"]),
        ("st.radio('Mode', MODES, format_func=MODE_NAMES.get)", []),
        ("st.selectbox('Corpus', names, format_func=lambda n: f'{n}!')", []),  # a select box shows plain text
        ("st.markdown(TEXT[kind])", []),
        ("def f(a):\n    names = {'x': literal(a), 'y': 'b'}\n    st.pills('P', ['x'], format_func=names.get)", []),
        ("def f(a):\n    names = {'x': a}\n    st.pills('P', ['x'], format_func=lambda k: names[k])", ["a"]),
        ("st.dataframe(rows)", []),
        ("def f(kind, text):\n    getattr(st, kind)(text)", ["text"]),
        ("st.radio('Order', list(view.ORDER_CHOICES))", []),
        ("st.pills('Statuses', [s.value for s in ReviewStatus], format_func=literal)", []),
        ("st.caption(f'{check.drawn - check.judged} left, {more}')", ["more"]),
    ],
)
def test_the_checker_finds_unescaped_interpolations(source: str, unsafe: list[str]) -> None:
    assert [finding.what for finding in unescaped(Path("page.py"), source)] == unsafe


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("st.selectbox('Corpus', names, format_func=lambda n: literal(n))", 1),
        ("st.selectbox(literal(label), names)", 0),  # the label is Markdown
        ("st.dataframe([{'name': literal(name)}])", 1),
        ("st.code(text)", 0),
    ],
)
def test_the_checker_finds_escapes_in_plain_text(source: str, found: int) -> None:
    assert len(escaped_plain_text(Path("page.py"), source)) == found


def test_the_checker_finds_raw_html(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("st.markdown(x, unsafe_allow_html=True)\nst.html(y)\n", encoding="utf-8")
    assert html_uses(page) == ["page.py:1: unsafe_allow_html", "page.py:2: st.html"]
