#!/usr/bin/env python3
"""Checks that the documentation is true to the tree: every relative link in README.md,
CONTRIBUTING.md, BENCHMARKS.md and docs/ resolves (the file exists, and a #fragment names one of
its headings), and every `cargo run --bin NAME -- ARGS` the README and docs/ show names a binary
that exists and options its `--help` lists.

Usage: scripts/check-docs.py [BIN_DIR]   (default: $CARGO_TARGET_DIR/debug, else target/debug;
the binaries must be built: `cargo build --workspace --bins`)
Prints each problem with its file and line; exits 1 if there is any.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
COMMAND = re.compile(r"cargo run (?:--release )?(?:--features \S+ )?--bin (\S+)(?: -- (.*))?")


def documents():
    yield from (ROOT / name for name in ["README.md", "CONTRIBUTING.md", "BENCHMARKS.md"])
    yield from sorted((ROOT / "docs").rglob("*.md"))


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def outside_code(path):
    """(line number, line) of the lines outside fenced code blocks, inline code removed."""
    fenced = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, re.sub(r"`[^`]*`", "", line)


def anchors(path):
    return {slug(line.lstrip("#")) for _, line in outside_code(path) if line.startswith("#")} | {
        slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")
    }


def check_links(path, problems):
    for number, line in outside_code(path):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, fragment = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            where = f"{path.relative_to(ROOT)}:{number}"
            if not resolved.exists():
                problems.append(f"{where}: link to {target}: no such file")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                problems.append(f"{where}: link to {target}: no heading #{fragment} there")


def commands(path):
    """(line number, binary, arguments) of each `cargo run --bin` in the file's code blocks."""
    fenced, pending, start = False, "", 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            continue
        if not pending:
            start = number
        pending += line.rstrip("\\").strip() + " "
        if line.rstrip().endswith("\\"):
            continue
        text, pending = pending.split(" #")[0], ""
        match = COMMAND.search(text)
        if match:
            yield start, match.group(1), match.group(2) or ""


def check_commands(path, bins, problems, helps):
    for number, binary, args in commands(path):
        where = f"{path.relative_to(ROOT)}:{number}"
        exe = bins / binary
        if not exe.exists():
            problems.append(f"{where}: no binary {binary} in {bins}")
            continue
        try:
            words = shlex.split(args.split("|")[0].split(">")[0])
        except ValueError:
            words = args.split()
        if words and words[0] in {"norms", "adding", "sweep"}:  # grad-flow's subcommands
            key = (binary, words[0])
            if key not in helps:
                helps[key] = subprocess.run([exe, words[0], "--help"], capture_output=True, text=True).stdout
        else:
            key = (binary, "")
        if key not in helps:
            helps[key] = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
        for word in words:
            option = word.split("=")[0]
            if option.startswith("--") and not re.search(re.escape(option) + r"\b", helps[key]):
                problems.append(f"{where}: {binary} has no option {option}")


def main():
    default = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
    bins = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    problems, helps = [], {}
    for path in documents():
        check_links(path, problems)
        check_commands(path, bins, problems, helps)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems in {len(list(documents()))} documents")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
