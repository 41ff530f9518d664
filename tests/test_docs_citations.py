"""Comments and docstrings cite files that exist.

A comment that sends the reader to ``docs/API.md``, ``staff/schedule.py`` or
``tests/assignment/test_policy.py`` is only useful while that file is there. This test reads
the comments and docstrings of our code (not its string literals: a template name or a path
the code builds is the code's business, and other tests run it) and fails on every cited
path that does not exist in the repository.

What counts as a citation:

* a token with a slash that ends in a file extension: ``docs/API.md``,
  ``tests/assignment/test_x.py``, ``static/chatassist/settings.js``, ``../shared/x.md``;
* a bare Markdown name: ``CONTRACT.md``, ``BENCHMARKS.md``;
* a migration named ``app/NNNN`` (``assignment/0005``, ``assignment/0003_store_manager_group``),
  which must match a file ``app/migrations/NNNN*.py``.

What is not: URLs (``scheme://...``) and host names (``www.example.com/a.html``), absolute
paths (``/run/chatassist/gunicorn.sock``, ``/static/...``: the machine's or the site's, not
the repository's), patterns with placeholders or wildcards (``<app>/sql/NAME.sql``,
``{name}.sql``, ``tests/*.py``), dotted module names (``staff.services``: no slash), and
directories (``assignment/sql/``: no extension).

Where a cited path is looked for: from the repository root; from the citing file's folder and
each folder above it (``static/chatassist/settings.js`` in ``chatassist/pages/views.py`` is
``chatassist/static/...``); in the template and static folders, ours and the Django admin's
(``admin/base_site.html``); bare Markdown names also in ``docs/``.

``../`` paths leave the repository, so they always fail: ``../shared/CONTRACT.md`` exists on
one engineer's machine, not in a clone, and a reader of the code must be able to follow a
citation from the repository alone. The public interfaces are in ``docs/API.md``; cite that.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import django.contrib.admin
import pytest

ROOT = Path(__file__).resolve().parent.parent

PYTHON_FOLDERS = ("assignment", "staff", "chatassist", "bench", "tests")
WEB_FOLDERS = ("templates", "chatassist/static")
WEB_SUFFIXES = (".html", ".js", ".css")
SHELL_STYLE_FILES = ("Makefile", ".ci/run")  # '#' comments
PYTHON_FILES = ("gunicorn.conf.py",)
# This file quotes missing paths on purpose (its docstring's examples, the checker's samples).
NOT_SCANNED = {"tests/test_docs_citations.py"}

# Files another engineer is rewriting now (issue 9): their stale citations are known and
# theirs to fix. Each entry must fail (strict): remove it when the file is fixed.
KNOWN_STALE_CITATIONS: dict[str, str] = {}

_ADMIN = Path(django.contrib.admin.__file__).resolve().parent
LOOKUP_ROOTS = (
    ROOT / "templates",
    *sorted(path for path in ROOT.glob("*/static") if path.is_dir()),
    _ADMIN / "templates",
    _ADMIN / "static",
)

# --- What a citation is ----------------------------------------------------------------------

# A citation may not start right after these: a slash (an absolute path, or the middle of a
# longer token), a dot, a word character, or a placeholder's bracket.
_START = r"(?<![\w/.:~$<>{}%@-])"
# After a citation: not more of a path (a trailing "." or "," ends a sentence).
_END = r"(?![\w/-]|\.[A-Za-z0-9])"
_SEGMENT = r"[\w-][\w.-]*"
_PATH = re.compile(
    _START + rf"((?:\.\.?/)*(?:{_SEGMENT}/)+{_SEGMENT}\.[A-Za-z][A-Za-z0-9]*)" + _END
)
_BARE_MARKDOWN = re.compile(_START + rf"({_SEGMENT}\.md)" + _END)
_MIGRATION = re.compile(_START + r"([a-z_]+)/([0-9]{4})(\w*)" + _END)
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S*")


@dataclass(frozen=True)
class Citation:
    line: int
    text: str


@dataclass(frozen=True)
class Comment:
    line: int  # where the comment starts in its file
    text: str


def citations(text: str, *, first_line: int = 1) -> list[Citation]:
    """Every path ``text`` cites, with its line (counting from ``first_line``)."""
    found = []
    for offset, line in enumerate(text.splitlines()):
        line = _URL.sub(" ", line)
        spans = []
        for pattern in (_PATH, _MIGRATION, _BARE_MARKDOWN):
            for match in pattern.finditer(line):
                if any(start <= match.start() < end for start, end in spans):
                    continue  # "docs/API.md" is one citation, not also "API.md"
                spans.append(match.span())
                found.append((match.start(), Citation(first_line + offset, match.group(0))))
        found.sort(key=lambda item: (item[1].line, item[0]))
    return [citation for _, citation in found]


def _is_host_name(path: str) -> bool:
    first = path.split("/", 1)[0]
    return first not in (".", "..") and "." in first.strip(".")


def exists(cited: str, *, citing_file: Path, root: Path = ROOT) -> bool:
    """Whether ``cited`` (one citation's text) names a file of the repository."""
    if cited.startswith("../"):
        return False  # outside the repository: a clone does not have it
    if migration := _MIGRATION.fullmatch(cited):
        app, number, rest = migration.groups()
        return any((root / app / "migrations").glob(f"{number}{rest}*.py"))
    if "/" in cited and _is_host_name(cited):
        return True  # www.example.com/page.html: a URL without its scheme
    # The root, then the citing file's folder and each folder above it inside the root.
    folders = [root, *(folder for folder in citing_file.parents if root in folder.parents)]
    roots = [*folders, *(LOOKUP_ROOTS if root == ROOT else ())]
    if "/" not in cited:
        roots.append(root / "docs")
    return any((base / cited).exists() for base in roots)


def missing_citations(text: str, *, citing_file: Path, root: Path = ROOT) -> list[Citation]:
    return [
        citation
        for citation in citations(text)
        if not exists(citation.text, citing_file=citing_file, root=root)
    ]


# --- Where comments are ----------------------------------------------------------------------


def python_comments(source: str) -> list[Comment]:
    """``#`` comments and docstrings (any string that stands alone as a statement)."""
    comments = [
        Comment(token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            comments.append(Comment(node.lineno, node.value.value))
    return sorted(comments, key=lambda comment: comment.line)


# Each pattern captures a comment's text without its delimiters.
_SHELL_COMMENT = re.compile(r"(?:^|(?<=\s))#(.*)$", re.MULTILINE)
_HTML_COMMENT = re.compile(
    r"\{#(.*?)#\}|\{%\s*comment\b[^%]*%\}(.*?)\{%\s*endcomment\s*%\}|<!--(.*?)-->", re.DOTALL
)
_BLOCK_COMMENT = re.compile(r"/\*(.*?)\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"(?:^|(?<=[\s;{}()]))//(.*)$", re.MULTILINE)


def _matches(pattern: re.Pattern, source: str) -> list[Comment]:
    comments = []
    for match in pattern.finditer(source):
        group = next(
            index for index in range(1, pattern.groups + 1) if match.group(index) is not None
        )
        line = source.count("\n", 0, match.start(group)) + 1
        comments.append(Comment(line, match.group(group)))
    return comments


def file_comments(path: Path) -> list[Comment]:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return python_comments(source)
    if path.suffix == ".html":
        return _matches(_HTML_COMMENT, source)
    if path.suffix == ".css":
        return _matches(_BLOCK_COMMENT, source)
    if path.suffix == ".js":
        return _matches(_BLOCK_COMMENT, source) + _matches(_LINE_COMMENT, source)
    return _matches(_SHELL_COMMENT, source)


def problems_in(path: Path, *, root: Path = ROOT) -> list[str]:
    found = []
    for comment in file_comments(path):
        for citation in citations(comment.text, first_line=comment.line):
            if not exists(citation.text, citing_file=path, root=root):
                relative = path.relative_to(root)
                found.append(
                    f"{relative}:{citation.line}: cites {citation.text}, which is not there"
                )
    return found


def scanned_files() -> list[str]:
    files = [path for folder in PYTHON_FOLDERS for path in (ROOT / folder).rglob("*.py")]
    files += [
        path
        for folder in WEB_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.suffix in WEB_SUFFIXES
    ]
    files += [ROOT / name for name in (*SHELL_STYLE_FILES, *PYTHON_FILES)]
    names = {str(path.relative_to(ROOT)) for path in files if "__pycache__" not in path.parts}
    return sorted(names - NOT_SCANNED)


def _file_param(name: str):
    if name in KNOWN_STALE_CITATIONS:
        reason = f"known stale citation, owner fixes it: {KNOWN_STALE_CITATIONS[name]}"
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
    return name


# --- The repository ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [_file_param(name) for name in scanned_files()])
def test_comments_and_docstrings_cite_files_that_exist(name):
    assert problems_in(ROOT / name) == []


def test_every_known_stale_citation_is_a_scanned_file():
    assert set(KNOWN_STALE_CITATIONS) <= set(scanned_files())


def test_the_scan_covers_code_templates_scripts_and_the_build():
    names = scanned_files()
    for expected in (
        "assignment/views.py",
        "staff/schedule.py",
        "chatassist/settings.py",
        "bench/run.py",
        "tests/conftest.py",
        "templates/chatassist/settings/page.html",
        "chatassist/static/chatassist/settings.js",
        "chatassist/static/chatassist/settings.css",
        "Makefile",
        "gunicorn.conf.py",
        ".ci/run",
    ):
        assert expected in names


# --- The checker itself ------------------------------------------------------------------------


def test_the_checker_reports_a_missing_path_and_passes_existing_ones(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "API.md").write_text("# API\n")
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "schedule.py").write_text("")
    citing = tmp_path / "staff" / "services.py"
    text = (
        "See docs/API.md and staff/schedule.py.\n"
        "The maths is in staff/schedle.py (a typo), the rules in CONTRACT.md;\n"
        "API.md, beside the code, is docs/API.md too.\n"
    )
    missing = missing_citations(text, citing_file=citing, root=tmp_path)
    assert missing == [Citation(2, "staff/schedle.py"), Citation(2, "CONTRACT.md")]


def test_what_counts_as_a_citation():
    text = (
        "docs/API.md, tests/assignment/test_x.py; (staff/schedule.py) `CONTRACT.md`.\n"
        "../shared/CONTRACT.md and assignment/0005, assignment/0003_store_manager_group.\n"
        "https://www.standardwebhooks.com/spec.html http://x/y.py /run/chatassist/g.sock\n"
        "/static/admin/css/base.css <app>/sql/NAME.sql {name}/x.sql tests/*.py assignment/sql/\n"
        "staff.services.working_time_save, settings.py, application/json, Asia/Taipei.\n"
    )
    assert [citation.text for citation in citations(text)] == [
        "docs/API.md",
        "tests/assignment/test_x.py",
        "staff/schedule.py",
        "CONTRACT.md",
        "../shared/CONTRACT.md",
        "assignment/0005",
        "assignment/0003_store_manager_group",
    ]
    assert citations("one\n\nthree: docs/X.md\n", first_line=10) == [Citation(12, "docs/X.md")]


def test_migration_numbers_resolve_to_migration_files(tmp_path):
    (tmp_path / "assignment" / "migrations").mkdir(parents=True)
    (tmp_path / "assignment" / "migrations" / "0005_assign_next.py").write_text("")
    citing = tmp_path / "assignment" / "policy.py"
    text = "assignment/0005 assignment/0005_assign_next assignment/0006 staff/0001"
    assert missing_citations(text, citing_file=citing, root=tmp_path) == [
        Citation(1, "assignment/0006"),
        Citation(1, "staff/0001"),
    ]


def test_paths_outside_the_repository_fail_even_when_they_exist(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "CONTRACT.md").write_text("")
    citing = tmp_path / "repo" / "module.py"
    missing = missing_citations("../shared/CONTRACT.md", citing_file=citing, root=tmp_path / "repo")
    assert missing == [Citation(1, "../shared/CONTRACT.md")]


def test_a_path_may_be_relative_to_the_citing_files_folders(tmp_path):
    (tmp_path / "chatassist" / "static" / "chatassist").mkdir(parents=True)
    (tmp_path / "chatassist" / "static" / "chatassist" / "settings.js").write_text("")
    citing = tmp_path / "chatassist" / "pages" / "views.py"
    text = "static/chatassist/settings.js, static/chatassist/gone.js"
    assert missing_citations(text, citing_file=citing, root=tmp_path) == [
        Citation(1, "static/chatassist/gone.js")
    ]


def test_only_comments_and_docstrings_are_read():
    source = (
        '"""Module docstring: docs/A.md."""\n'
        "TEMPLATE = 'chatassist/not_a_citation.html'\n"
        "x = 1  # a comment: docs/B.md\n"
        "def f():\n"
        '    """Docstring: docs/C.md."""\n'
        "    return f'{x}/y.md'\n"
    )
    found = [
        citation.text
        for comment in python_comments(source)
        for citation in citations(comment.text, first_line=comment.line)
    ]
    assert found == ["docs/A.md", "docs/B.md", "docs/C.md"]


@pytest.mark.parametrize(
    ("suffix", "source", "expected"),
    [
        (
            ".html",
            '{% extends "admin/x.html" %}{# docs/A.md #}\n<!-- docs/B.md -->\n'
            "{% comment %}docs/C.md{% endcomment %}<p>docs/not.md</p>",
            ["docs/A.md", "docs/B.md", "docs/C.md"],
        ),
        (".css", "/* docs/A.md */\nbody { background: url(img/x.png); }", ["docs/A.md"]),
        (
            ".js",
            '// docs/A.md\nconst u = "https://x/y.js"; /* docs/B.md */ f(); // docs/C.md\n'
            'const p = "static/not.js";',
            ["docs/A.md", "docs/B.md", "docs/C.md"],
        ),
        (
            "",
            "# docs/A.md\ntest:\n\techo ${X#y} done/z.py # docs/B.md\n",
            ["docs/A.md", "docs/B.md"],
        ),
    ],
)
def test_comment_syntax_per_kind_of_file(tmp_path, suffix, source, expected):
    path = tmp_path / f"sample{suffix}"
    path.write_text(source)
    found = [
        citation.text
        for comment in file_comments(path)
        for citation in citations(comment.text, first_line=comment.line)
    ]
    assert sorted(found) == expected
