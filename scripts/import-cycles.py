#!/usr/bin/env python3
"""Lists the pairs of files of a crate that import each other.

Usage: python3 scripts/import-cycles.py CRATE_SRC [MODULE_PREFIX]
  e.g. python3 scripts/import-cycles.py models/src recurrent
       python3 scripts/import-cycles.py training/src

A file "imports" another when it names it by a `crate::`, `super::` or `self::` path outside
comments (a `use` line or a path in code). Prints one line per pair and the count.
"""
import os, re, sys
root = sys.argv[1]   # e.g. models/src
crate_root = root
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            files[os.path.join(d, f)] = open(os.path.join(d, f)).read()
def modpath(p):
    rel = os.path.relpath(p, crate_root)[:-3].split('/')
    if rel[-1] in ('mod', 'lib'): rel = rel[:-1]
    return rel
bymod = {tuple(modpath(p)): p for p in files}
def resolve(cur, path):
    parts = path.split('::')
    if parts[0] == 'crate': base = []; parts = parts[1:]
    elif parts[0] == 'super':
        base = list(cur)
        is_dir = os.path.basename(bymod[tuple(cur)]) in ('mod.rs','lib.rs')
        base = base[:-1]
        parts = parts[1:]
        while parts and parts[0] == 'super': base = base[:-1]; parts = parts[1:]
    elif parts[0] == 'self': base = list(cur); parts = parts[1:]
    else: return None
    best = None
    for i in range(len(parts)+1):
        m = tuple(base + parts[:i])
        if m in bymod: best = m
    return best
edges = {}
for p, text in files.items():
    cur = modpath(p)
    text = re.sub(r'//[^\n]*', '', text)
    deps = set()
    for m in re.finditer(r'\b((?:crate|super|self)(?:::\w+)+)', text):
        r = resolve(cur, m.group(1))
        if r is not None and r != tuple(cur): deps.add(r)
    # braces: use super::{a, b::c}
    for m in re.finditer(r'use\s+((?:crate|super)(?:::\w+)*)::\{([^}]*)\}', text):
        for item in m.group(2).split(','):
            item = item.strip().split(' as ')[0]
            if not item or item == 'self': continue
            r = resolve(cur, m.group(1) + '::' + item.split('::{')[0])
            if r is not None and r != tuple(cur): deps.add(r)
    edges[tuple(cur)] = deps
only = sys.argv[2] if len(sys.argv) > 2 else ''
pairs = set()
for a, ds in edges.items():
    for b in ds:
        if a in edges.get(b, ()) and '::'.join(a).startswith(only) and '::'.join(b).startswith(only):
            pairs.add(tuple(sorted(['::'.join(a), '::'.join(b)])))
for a, b in sorted(pairs): print('cycle:', a, '<->', b)
print(len(pairs), 'pairs')
