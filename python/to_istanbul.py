"""Converts the Coverage.py data files of one server into istanbul ``FileCoverageData`` (JSON on stdout).

Run by the collector with the Python that ran the server (Coverage.py must read its own data):

    python3 to_istanbul.py <coveragerc> <data dir> <combined data file> <server cwd>

Steps: combine every process's parallel file (``keep``: processes still running keep appending to
theirs, and the next read combines again from scratch, so data is cumulative and never counted
twice), analyse each measured file exactly as ``coverage report``/``coverage json`` do, then
describe it the istanbul way:

- statements: Coverage.py gives first lines only; their ranges (end line and column) come from
  Python's ``ast``. A compound statement (``def``, ``if``, ``for``…) covers its header only.
- functions: Coverage.py 6.5 has none; every ``def`` in the ``ast`` is one, hit when a line of its
  body ran.
- branches: from arcs, grouped by source line. On Python 3.11, Coverage.py 6.5 reports every
  decorated ``def``/``class`` line as a two-way branch (to its decorator, and on): not a branch of
  the program, so left out (counted in the totals).
- paths: absolute.
"""
import ast
import glob
import json
import os
import sys

COMPOUND_HEADER_FIELDS = ('test', 'iter', 'target', 'items', 'args', 'returns', 'bases', 'keywords', 'subject', 'name')


def position(line, column):
    return {'line': line, 'column': column}


class SourceMap:
    """Statement ranges and functions of one Python file, from its ``ast``."""

    def __init__(self, source):
        self.lines = source.splitlines()
        self.by_line = {}
        self.functions = []
        self.decorated_lines = set()
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                self._add_statement(node)

    def line_end(self, line):
        return len(self.lines[line - 1]) if 0 < line <= len(self.lines) else 0

    def _header_end(self, node):
        """Where a compound statement's header ends: the end of the line of its last header part."""
        last = node.lineno
        for field in COMPOUND_HEADER_FIELDS:
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST) and getattr(child, 'end_lineno', None):
                    last = max(last, child.end_lineno)
        return position(last, self.line_end(last))

    def _add_statement(self, node):
        body = getattr(node, 'body', None)
        compound = isinstance(body, list) and body and isinstance(body[0], ast.stmt)
        start = position(node.lineno, node.col_offset)
        end = self._header_end(node) if compound else position(node.end_lineno, node.end_col_offset)
        self.by_line.setdefault(node.lineno, {'start': start, 'end': end})
        decorators = getattr(node, 'decorator_list', None) or []
        for decorator in decorators:
            # Coverage.py counts each decorator line as a statement of its own ("@" included).
            self.by_line.setdefault(decorator.lineno, {
                'start': position(decorator.lineno, max(decorator.col_offset - 1, 0)),
                'end': position(decorator.end_lineno, decorator.end_col_offset),
            })
        if decorators:
            self.decorated_lines.add(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            keyword = 'async def ' if isinstance(node, ast.AsyncFunctionDef) else 'def '
            name_column = self.lines[node.lineno - 1].find(keyword + node.name, node.col_offset)
            name_column = node.col_offset if name_column < 0 else name_column + len(keyword)
            first = min([node.lineno] + [d.lineno for d in decorators])
            self.functions.append({
                'name': node.name,
                'decl': {'start': position(node.lineno, name_column), 'end': position(node.lineno, name_column + len(node.name))},
                'loc': {'start': position(first, node.col_offset if first == node.lineno else max(decorators[0].col_offset - 1, 0)),
                        'end': position(node.end_lineno, node.end_col_offset)},
                'line': node.lineno,
                'body': (node.body[0].lineno, node.end_lineno),
            })

    def statement(self, line):
        """The range of the statement Coverage.py reports at ``line`` (the whole line if unknown)."""
        return self.by_line.get(line) or {'start': position(line, 0), 'end': position(line, self.line_end(line))}


def convert_file(path, statements, executed, branch_arcs, executed_arcs, source):
    """One file's istanbul data from Coverage.py's analysis. Pure: unit-testable on recorded values."""
    smap = SourceMap(source)
    data = {'path': path, 'statementMap': {}, 's': {}, 'fnMap': {}, 'f': {}, 'branchMap': {}, 'b': {}}
    for index, line in enumerate(sorted(statements)):
        data['statementMap'][str(index)] = smap.statement(line)
        data['s'][str(index)] = 1 if line in executed else 0
    for index, function in enumerate(smap.functions):
        first, last = function['body']
        hit = any(first <= line <= last for line in executed if line in statements)
        data['fnMap'][str(index)] = {key: function[key] for key in ('name', 'decl', 'loc', 'line')}
        data['f'][str(index)] = 1 if hit else 0
    decorator_branches = decorator_covered = 0
    index = 0
    for source_line in sorted(branch_arcs):
        targets = sorted(branch_arcs[source_line], key=lambda target: (target < 0, target))
        if source_line in smap.decorated_lines:
            decorator_branches += len(targets)
            decorator_covered += sum(1 for target in targets if (source_line, target) in executed_arcs)
            continue
        here = smap.statement(source_line)
        locations = [smap.statement(target) if target > 0 else here for target in targets]
        data['branchMap'][str(index)] = {
            'type': 'if' if len(targets) == 2 else 'switch',
            'line': source_line,
            'loc': here,
            'locations': locations,
        }
        data['b'][str(index)] = [1 if (source_line, target) in executed_arcs else 0 for target in targets]
        index += 1
    return data, (decorator_branches, decorator_covered)


def main(argv):
    config_file, data_dir, combined_file, cwd = argv[1:5]
    import coverage
    os.chdir(cwd)
    parts = glob.glob(os.path.join(data_dir, '.coverage.*'))
    result = {'python': sys.version.split()[0], 'version': list(sys.version_info[:2]),
              'coverage': coverage.__version__, 'processes': len(parts), 'files': {}, 'totals': {}}
    if not parts:
        result['error'] = 'NO_DATA'
        json.dump(result, sys.stdout)
        return 0
    if os.path.exists(combined_file):
        os.remove(combined_file)
    cov = coverage.Coverage(config_file=config_file, data_file=combined_file, messages=False)
    cov.combine([data_dir], keep=True)
    cov.load()
    totals = dict(statements=0, covered=0, branches=0, covered_branches=0, decorator_branches=0, decorator_covered=0, files=0)
    for measured in sorted(cov.get_data().measured_files()):
        path = os.path.abspath(measured)
        try:
            analysis = cov._analyze(measured)
            with open(path, encoding='utf-8') as handle:
                source = handle.read()
        except Exception as error:  # not Python source, vanished, unreadable: skip it, say so
            result.setdefault('skipped', []).append('%s (%s)' % (path, error))
            continue
        statements = set(analysis.statements)
        executed = set(analysis.executed) & statements
        branch_arcs = {}
        executed_arcs = set()
        if analysis.has_arcs():
            for source_line, targets in analysis.executed_branch_arcs().items():
                branch_arcs.setdefault(source_line, set()).update(targets)
                executed_arcs.update((source_line, target) for target in targets)
            for source_line, targets in analysis.missing_branch_arcs().items():
                branch_arcs.setdefault(source_line, set()).update(targets)
        data, (decorator_branches, decorator_covered) = convert_file(path, statements, executed, branch_arcs, executed_arcs, source)
        result['files'][path] = data
        numbers = analysis.numbers
        totals['files'] += 1
        totals['statements'] += numbers.n_statements
        totals['covered'] += numbers.n_executed
        totals['branches'] += numbers.n_branches
        totals['covered_branches'] += numbers.n_executed_branches
        totals['decorator_branches'] += decorator_branches
        totals['decorator_covered'] += decorator_covered
    result['totals'] = totals
    json.dump(result, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
