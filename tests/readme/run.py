"""The README's examples, run in document order against a fresh demo database.

    python tests/readme/run.py DSN PORT [README]

DSN is a libpq connection string of the test cluster without a dbname
("host=/var/tmp/chronicle-test port=54339 user=postgres"), PORT the port
the cluster listens on at 127.0.0.1, README the file to run (README.md at
the top of the repository unless given).

Setup, as `./chronicle demo` leaves its database: database chronicle_readme
is created again with the extension, the login roles the README's examples
create (CREATE ROLE name ...; Chronicle's own chronicle_* roles never) are
dropped so that the examples can create them, scripts/demo.sql and
scripts/demo_data.sql are loaded (psql -X -q -v ON_ERROR_STOP=1 -f, as
scripts/test.sh's load_demo_data does), and the feed is sealed (the demo's
sealer does that within milliseconds).

Then every ```sql, ```python and ```js block of the README runs, in document
order, each as one check named by its line and heading:

  ```sql     psql -X -q -v ON_ERROR_STOP=1 -v SHOW_CONTEXT=never on the
             database, one session per block. Every statement must succeed.
  ```python  the interpreter running this file (the venv's, with psycopg),
             as a script; it must exit with status 0.
  ```js      node, from a temporary .mjs file in tests/clients/node (so that
             `import pg from 'pg'` resolves there); it must exit with 0.

and what the README shows is compared:

  - a ```text block directly after the code block (only blank lines
    between) is its output: for SQL, all that psql prints (results, and
    errors as psql prints them); for Python and JS, what the program
    prints on stdout. Compared line by line, trailing white space and
    trailing blank lines ignored.
  - `-- → value` at the end of a statement's last line (after its `;`): the
    statement's single value, as psql prints it unaligned, equals value. A
    block has either these or an output block, not both.
  - `<!-- expect: 40001 -->` (one or more SQLSTATEs) right before a ```sql
    block makes it an error example: psql runs every statement
    (ON_ERROR_STOP off), and the statements that fail must fail with these
    SQLSTATEs, in this order. An output block that shows an ERROR needs the
    marker.
  - `<!-- not run: reason -->` right before a ```sql, ```python or ```js
    block skips it; the skip is printed with its reason. Blocks in any other
    language (```sh, ```text, ...) never run.

THE ONE OVERRIDE: the README's Python and JS examples connect to the demo
cluster, postgresql://postgres@127.0.0.1:54329/chronicle_demo; this runner
replaces that string with postgresql://postgres@127.0.0.1:PORT/chronicle_readme.
Nothing else in a block is changed. psql's warning that no background
worker slot was free for the sealer (readers then seal themselves) is left
out of the SQL output before comparing: it depends on the machine, not on
the README.

Prints one line per check and "RESULT passed=N failed=M" (tests/support/checks.py).
"""

import difflib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from checks import check, finish  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DB = "chronicle_readme"
README_DSN = "postgresql://postgres@127.0.0.1:54329/chronicle_demo"
NODE_DIR = ROOT / "tests" / "clients" / "node"
PGBIN = Path(os.environ["PGBIN"])  # the bin directory of the server under test
PSQL = str(PGBIN / "psql") if (PGBIN / "psql").exists() else "psql"
TIMEOUT = 300
# Printed once per session by read_all and poll when no worker slot is free
# for the sealer (the reader then seals itself): the machine's, not the README's.
SEALER_WARNING = ("WARNING:  chronicle: could not start the sealer worker; "
                  "raise max_worker_processes (readers seal meanwhile)")
MARK = "@@readme@@"
ARROW = re.compile(r"--[ \t]*→[ \t]*(.*?)[ \t]*$")
MARKER = re.compile(r"^<!--\s*(not run|expect)\s*:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
RUN_LANGS = ("sql", "python", "js")


# --- the README's blocks ---------------------------------------------------

class Block:
    def __init__(self, lang, line, heading, code):
        self.lang, self.line, self.heading, self.code = lang, line, heading, code
        self.output = None      # the ```text block right after, if any
        self.skip = None        # the reason of <!-- not run: ... -->
        self.expect = None      # the SQLSTATEs of <!-- expect: ... -->

    @property
    def name(self):
        return f"README.md:{self.line} {self.lang} ({self.heading})"


def read_blocks(text):
    """The fenced blocks of a Markdown text, in order, with their markers and
    output blocks attached; and the problems found (markers attached to
    nothing, unclosed fences)."""
    lines = text.split("\n")
    blocks, problems = [], []
    heading, pending, i = "top", None, 0
    previous = None     # the last code block, while only blank lines follow it
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            lang, start = m[1], i + 1
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if j == len(lines):
                problems.append(f"line {start}: a fence that is never closed")
                break
            block = Block(lang, start, heading, "\n".join(lines[i + 1:j]) + "\n")
            if lang == "text" and previous is not None and previous.lang in RUN_LANGS \
                    and previous.output is None:
                previous.output = block.code
                previous = None
            else:
                if pending:
                    kind, value, at = pending
                    if lang not in RUN_LANGS or (kind == "expect" and lang != "sql"):
                        problems.append(f"line {at}: <!-- {kind}: --> is before a ```{lang} block")
                    elif kind == "not run":
                        block.skip = value
                    else:
                        block.expect = value.split()
                    pending = None
                blocks.append(block)
                previous = block
            i = j + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        m = MARKER.match(line)
        if m:
            if pending:
                problems.append(f"line {pending[2]}: <!-- {pending[0]}: --> is not right before a code block")
            pending = (m[1], m[2], i + 1)
        elif line.strip() and pending:
            problems.append(f"line {pending[2]}: <!-- {pending[0]}: --> is not right before a code block")
            pending = None
        if line.strip():
            previous = None
        i += 1
    if pending:
        problems.append(f"line {pending[2]}: <!-- {pending[0]}: --> is not right before a code block")
    return blocks, problems


# --- SQL statements, as psql splits them ------------------------------------

class Statement:
    def __init__(self, text, line, arrow, meta=False):
        self.text, self.line, self.arrow, self.meta = text, line, arrow, meta


def split_sql(code):
    """The statements of a block as psql sends them: split at semicolons
    outside quotes, dollar quotes, comments and parentheses; a psql
    meta-command (a line starting with a backslash) is one statement. A
    `-- → value` comment on the rest of the line after a statement's
    semicolon is its arrow. Returns (statements, problems)."""
    statements, problems = [], []
    i, n, start, depth = 0, len(code), 0, 0

    def line_of(pos):
        return code.count("\n", 0, pos) + 1

    def blank(text):
        text = re.sub(r"--[^\n]*", "", text)
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        return not text.strip()

    while i < n:
        c = code[i]
        if c == "\\" and blank(code[start:i]) and not code[:i].rsplit("\n", 1)[-1].strip():
            end = code.find("\n", i)
            end = n if end < 0 else end
            statements.append(Statement(code[start:end], line_of(i), None, meta=True))
            i = start = end
            continue
        if code.startswith("--", i):
            end = code.find("\n", i)
            i = n if end < 0 else end
            continue
        if code.startswith("/*", i):
            level, i = 1, i + 2
            while i < n and level:
                if code.startswith("/*", i):
                    level, i = level + 1, i + 2
                elif code.startswith("*/", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
            continue
        if c == "'":
            escapes = i > 0 and code[i - 1] in "eE" and (i < 2 or not (code[i - 2].isalnum() or code[i - 2] == "_"))
            i += 1
            while i < n:
                if escapes and code[i] == "\\":
                    i += 2
                    continue
                if code[i] == "'":
                    if code.startswith("''", i):
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            continue
        if c == '"':
            end = code.find('"', i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == "$" and not (i > 0 and (code[i - 1].isalnum() or code[i - 1] == "_")):
            m = re.match(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$", code[i:])
            if m:
                end = code.find(m[0], i + len(m[0]))
                i = n if end < 0 else end + len(m[0])
                continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(depth - 1, 0)
        elif c == ";" and depth == 0:
            end = code.find("\n", i)
            end = n if end < 0 else end
            rest = code[i + 1:end]
            m = ARROW.match(rest.strip()) if rest.strip().startswith("--") else None
            arrow = m[1] if m else None
            text = code[start:i + 1]
            statements.append(Statement(text, line_of(i), arrow))
            i = start = (end if m else i + 1)
            continue
        i += 1
    if not blank(code[start:]):
        problems.append(f"a statement without its closing ';' at block line {line_of(start)}")
    found = len(re.findall(r"--[ \t]*→", code))
    used = sum(s.arrow is not None for s in statements)
    if found != used:
        problems.append(f"{found - used} '-- →' comment(s) not at the end of a statement (after its ';')")
    return statements, problems


# --- running -------------------------------------------------------------------

def psql(dsn, *args):
    return subprocess.run([PSQL, "-X", "-q", "-d", dsn, *args], capture_output=True, text=True, timeout=TIMEOUT)


def normalise(text):
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def numbered(code, first):
    return "\n".join(f"{first + k:5}  {line}" for k, line in enumerate(code.rstrip("\n").split("\n")))


def compare(block, expected, actual):
    """Whether the output equals what the README shows, and the detail."""
    expected, actual = normalise(expected), normalise(actual)
    if expected == actual:
        return True, ""
    diff = "\n".join(difflib.unified_diff(expected.split("\n"), actual.split("\n"), "README", "actual", lineterm=""))
    return False, (f"the block:\n{numbered(block.code, block.line + 1)}\n"
                   f"expected output:\n{expected}\nactual output:\n{actual}\ndiff:\n{diff}")


def run_sql(block, dsn):
    statements, problems = split_sql(block.code)
    if problems:
        return check(block.name, False, "\n".join(problems) + f"\nthe block:\n{numbered(block.code, block.line + 1)}")
    arrows = [s for s in statements if s.arrow is not None]
    if arrows and block.output is not None:
        return check(block.name, False, "the block has both '-- →' values and an output block; use one")
    shows_error = block.output is not None and re.search(r"^ERROR:", block.output, re.M)
    if shows_error and block.expect is None:
        return check(block.name, False, "its output block shows an ERROR, but no <!-- expect: SQLSTATE --> marker "
                                        "says that the block is meant to fail")
    script = []
    for k, s in enumerate(statements):
        if s.arrow is not None:
            script += ["\\pset format unaligned", "\\pset tuples_only on"]
        script += [f"\\echo {MARK} begin {k}", s.text, f"\\echo {MARK} end {k} :SQLSTATE"]
        if s.arrow is not None:
            script += ["\\pset format aligned", "\\pset tuples_only off"]
    stop = "0" if block.expect is not None else "1"
    result = subprocess.run([PSQL, "-X", "-q", "-v", f"ON_ERROR_STOP={stop}", "-v", "SHOW_CONTEXT=never",
                             "-d", dsn], input="\n".join(script) + "\n", stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    output, segments, states, current = [], {}, {}, None
    for line in result.stdout.split("\n"):
        if line.startswith(MARK):
            _, what, k, *state = line.split()
            current = int(k) if what == "begin" else None
            if what == "end":
                states[int(k)] = state[0] if state else ""
            continue
        if line == SEALER_WARNING:
            continue
        output.append(line)
        if current is not None:
            segments.setdefault(current, []).append(line)
    output = "\n".join(output)
    if result.returncode != 0:
        failed = next((s for k, s in enumerate(statements) if k not in states), None)
        where = f" (the statement ending at README.md:{block.line + failed.line})" if failed else ""
        return check(block.name, False, f"psql failed{where}, exit status {result.returncode}\n"
                                        f"the block:\n{numbered(block.code, block.line + 1)}\npsql printed:\n{output}")
    problems = []
    failing = [states[k] for k, s in enumerate(statements)
               if not s.meta and states.get(k, "00000") != "00000"]
    if block.expect is not None and failing != block.expect:
        problems.append(f"expected the failing statements' SQLSTATEs {block.expect}, got {failing}")
    if block.output is not None:
        ok, detail = compare(block, block.output, output)
        if not ok:
            problems.append(detail)
    for k, s in enumerate(statements):
        if s.arrow is None:
            continue
        value = "\n".join(segments.get(k, [])).strip()
        if value != s.arrow:
            problems.append(f"the statement ending at README.md:{block.line + s.line}:\n{s.text.strip()}\n"
                            f"README: -- → {s.arrow}\nactual:    {value}")
    if problems and block.output is None:
        problems.append(f"the block:\n{numbered(block.code, block.line + 1)}\npsql printed:\n{output}")
    return check(block.name, not problems, "\n".join(problems))


def run_program(block, command, path, cwd):
    try:
        result = subprocess.run([*command, str(path)], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return check(block.name, False, f"did not finish within {TIMEOUT} s\nthe block:\n{numbered(block.code, block.line + 1)}")
    if result.returncode != 0:
        return check(block.name, False, f"exit status {result.returncode}\nthe block:\n"
                                        f"{numbered(block.code, block.line + 1)}\nstdout:\n{result.stdout}\n"
                                        f"stderr:\n{result.stderr}")
    if block.output is not None:
        ok, detail = compare(block, block.output, result.stdout)
        return check(block.name, ok, detail + (f"\nstderr:\n{result.stderr}" if not ok and result.stderr else ""))
    return check(block.name, True)


def run_python(block, url):
    with tempfile.TemporaryDirectory(prefix="chronicle-readme-") as tmp:
        path = Path(tmp) / f"readme_{block.line}.py"
        path.write_text(block.code.replace(README_DSN, url))
        return run_program(block, [sys.executable], path, tmp)


def run_js(block, url):
    fd, name = tempfile.mkstemp(prefix=f".readme-{block.line}-", suffix=".mjs", dir=NODE_DIR)
    path = Path(name)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(block.code.replace(README_DSN, url))
        return run_program(block, ["node"], path, NODE_DIR)
    finally:
        path.unlink(missing_ok=True)


# --- setup -----------------------------------------------------------------------

def created_roles(blocks):
    names = set()
    for b in blocks:
        if b.lang == "sql" and b.skip is None:
            names.update(m[1].lower() for m in re.finditer(r"\bCREATE\s+ROLE\s+([A-Za-z_][A-Za-z_0-9]*)", b.code, re.I))
    return sorted(n for n in names if not n.startswith("chronicle_"))


def setup(dsn, roles):
    """The demo database, as ./chronicle demo leaves it; whether it worked."""
    env_quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    steps = [f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", f"CREATE DATABASE {DB}"]
    steps += [f"DROP ROLE IF EXISTS {r}" for r in roles]
    for sql in steps:
        r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{dsn} dbname=postgres", "-c", sql],
                           capture_output=True, text=True, env=env_quiet, timeout=TIMEOUT)
        if not check(f"setup: {sql}", r.returncode == 0, r.stdout + r.stderr):
            return False
    target = f"{dsn} dbname={DB}"
    r = psql(target, "-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION chronicle")
    if not check("setup: CREATE EXTENSION chronicle", r.returncode == 0, r.stdout + r.stderr):
        return False
    r = psql(target, "-v", "ON_ERROR_STOP=1", "-o", "/dev/null",
             "-f", str(ROOT / "scripts" / "demo.sql"), "-f", str(ROOT / "scripts" / "demo_data.sql"))
    if not check("setup: scripts/demo.sql and scripts/demo_data.sql loaded", r.returncode == 0, r.stdout + r.stderr):
        return False
    # The demo's sealer hands out every position within milliseconds; here
    # seal by hand, in case no worker slot was free for it.
    waiting, deadline = None, time.monotonic() + 60
    with psycopg.connect(target, autocommit=True) as conn:
        while time.monotonic() < deadline:
            conn.execute("SELECT chronicle.seal()")
            waiting = conn.execute("SELECT waiting_events FROM chronicle.feed_status").fetchone()[0]
            if waiting == 0:
                break
            time.sleep(0.2)
        status = conn.execute("SELECT * FROM chronicle.feed_status").fetchone()
    return check("setup: the demo's events are sealed", waiting == 0,
                 f"{waiting} events still wait for a position; chronicle.feed_status: {status}")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    dsn, port = sys.argv[1], int(sys.argv[2])
    readme = Path(sys.argv[3]) if len(sys.argv) == 4 else ROOT / "README.md"
    blocks, problems = read_blocks(readme.read_text())
    check("the README's markers are each right before a code block", not problems, "\n".join(problems))
    runnable = [b for b in blocks if b.lang in RUN_LANGS]
    print(f"{readme}: {len(runnable)} sql/python/js blocks "
          f"({sum(b.skip is not None for b in runnable)} marked not run)", flush=True)
    if not setup(dsn, created_roles(blocks)):
        finish()
    target = f"{dsn} dbname={DB}"
    url = f"postgresql://postgres@127.0.0.1:{port}/{DB}"
    for block in runnable:
        if block.skip is not None:
            print(f"skip {block.name}: {block.skip}", flush=True)
        elif block.lang == "sql":
            run_sql(block, target)
        elif block.lang == "python":
            run_python(block, url)
        else:
            run_js(block, url)
    finish()


if __name__ == "__main__":
    main()
