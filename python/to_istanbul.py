"""Converts Coverage.py data files of one server into istanbul ``FileCoverageData`` (JSON on stdout).

Run by the collector with the Python that ran the server (Coverage.py must read its own data):

    python3 to_istanbul.py <coveragerc> <server cwd>  < JSON list of data files

The files are the ready files of one read (each holds what one process ran between two of its
saves, see _server_coverage_agent.py): they are combined in memory, each file is analysed exactly as
``coverage report`` analyses it, then described the istanbul way:

- statements: Coverage.py gives first lines only; their ranges (end line and column) come from
  Python's ``ast``. A compound statement (``def``, ``if``, ``for``…) covers its header only. Hits are
  0/1 (Coverage.py records whether a line ran, not how often).
- branches: counted as ``coverage report`` counts them (``results.py``): a line with more than one
  possible exit (``exit_counts``) is a branch with that many locations, of which
  ``exits - missing`` are covered. Arcs that ran but are not possible exits (a multi-line condition
  jumping back to its first line, a comprehension's or generator's own arcs) are no branches.
  On Python 3.11, Coverage.py 6.5 reports every decorated ``def``/``class`` line and its decorator
  lines as two-way branches (the jumps between decorator and ``def`` as they are applied): not
  branches of the program, so left out, and counted apart in the totals.
- functions: Coverage.py 6.5 has none; every ``def`` in the ``ast`` is one, hit when a statement of
  its own body ran (not one of a function nested in it).
- files: paths absolute. Files Coverage.py recorded that are not Python (Jinja templates compile to
  code whose file is the ``.html``/``.xml`` template) are skipped silently, as ``coverage report``
  does; other files that cannot be analysed are named in ``skipped``. Unreadable data files are
  named in ``corrupt`` and the rest is converted.
"""
import ast
import json
import os
import sys

COMPOUND_HEADER_FIELDS = ('test', 'iter', 'target', 'items', 'args', 'returns', 'bases', 'keywords', 'subject', 'name')
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def position(line, column):
    return {'line': line, 'column': column}


class SourceMap:
    """Statement ranges, functions and decorator lines of one Python file, from its ``ast``."""

    def __init__(self, source):
        self.lines = source.splitlines()
        self.by_line = {}
        self.functions = []
        # Decorated def/class lines and their decorators' lines (see the module doc).
        self.decorator_lines = set()
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
            self.decorator_lines.add(node.lineno)
            self.decorator_lines.update(decorator.lineno for decorator in decorators)
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
                'own_lines': own_lines(node.body),
            })

    def statement(self, line):
        """The range of the statement Coverage.py reports at ``line`` (the whole line if unknown)."""
        return self.by_line.get(line) or {'start': position(line, 0), 'end': position(line, self.line_end(line))}


def own_lines(body):
    """First lines of the statements that run when this body runs: not those of nested functions."""
    lines = set()
    pending = list(body)
    while pending:
        node = pending.pop()
        lines.add(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(decorator.lineno for decorator in node.decorator_list)
            continue
        for field in ('body', 'orelse', 'finalbody', 'handlers', 'cases'):
            for child in getattr(node, field, None) or []:
                if isinstance(child, ast.stmt):
                    pending.append(child)
                elif isinstance(child, (ast.excepthandler, getattr(ast, 'match_case', ast.excepthandler))):
                    pending.extend(child.body)
    return lines


def convert_file(path, source, facts):
    """One file's istanbul data from Coverage.py's analysis facts. Pure: no IO.

    ``facts``: ``statements``, ``executed`` (line sets), and for branch data ``exit_counts``
    ({line: exits}), ``possible`` and ``executed_arcs`` (sets of (from, to)) and ``missing``
    ({line: [to, …]}, Coverage.py's ``missing_branch_arcs``). Returns the data and the decorator
    branches left out as (total, covered).
    """
    smap = SourceMap(source)
    statements, executed = facts['statements'], facts['executed']
    data = {'path': path, 'statementMap': {}, 's': {}, 'fnMap': {}, 'f': {}, 'branchMap': {}, 'b': {}}
    for index, line in enumerate(sorted(statements)):
        data['statementMap'][str(index)] = smap.statement(line)
        data['s'][str(index)] = 1 if line in executed else 0
    for index, function in enumerate(smap.functions):
        data['fnMap'][str(index)] = {key: function[key] for key in ('name', 'decl', 'loc', 'line')}
        data['f'][str(index)] = 1 if function['own_lines'] & statements & executed else 0
    decorator_total = decorator_covered = 0
    index = 0
    for line in sorted(facts.get('exit_counts', {})):
        exits = facts['exit_counts'][line]
        if exits < 2:
            continue
        missing = sorted(facts['missing'].get(line, []))
        covered = exits - len(missing)
        if line in smap.decorator_lines:
            decorator_total += exits
            decorator_covered += covered
            continue
        # Coverage.py's count, location by location: its missing exits, then as many of the exits
        # that ran as it counts covered (a class line has one possible arc more than it counts).
        ran = sorted(to for (start, to) in facts['possible'] if start == line and (start, to) in facts['executed_arcs'] and to not in missing)
        slots = [(to, 0) for to in missing] + [(to, 1) for to in ran[:covered]]
        slots += [(line, 1)] * (covered - len(ran[:covered]))
        slots.sort(key=lambda slot: (slot[0] < 0, abs(slot[0])))
        here = smap.statement(line)
        data['branchMap'][str(index)] = {
            'type': 'if' if exits == 2 else 'switch',
            'line': line,
            'loc': here,
            'locations': [smap.statement(to) if to > 0 and to != line else here for to, _ in slots],
        }
        data['b'][str(index)] = [hit for _, hit in slots]
        index += 1
    return data, (decorator_total, decorator_covered)


def _get(analysis, name):
    """An ``Analysis`` member: a method in Coverage.py 6.5, some became attributes in 7.x."""
    value = getattr(analysis, name)
    return value() if callable(value) else value


def analysis_facts(analysis):
    """What ``convert_file`` needs from a Coverage.py ``Analysis``."""
    statements = set(analysis.statements)
    facts = {'statements': statements, 'executed': set(analysis.executed) & statements}
    if _get(analysis, 'has_arcs'):
        facts.update(
            exit_counts=dict(analysis.exit_counts),
            possible=set(_get(analysis, 'arc_possibilities')),
            executed_arcs=set(_get(analysis, 'arcs_executed')),
            missing={line: list(targets) for line, targets in _get(analysis, 'missing_branch_arcs').items()},
        )
    return facts


def combine(cov, files):
    """Adds every readable data file to the in-memory data of ``cov``; returns the unreadable ones."""
    from coverage.data import CoverageData
    combined = cov.get_data()
    # Every read is branch data, even one whose files only list unexecuted source files.
    combined.add_arcs({})
    corrupt = []
    for path in files:
        try:
            combined.update(CoverageData(basename=path))
        except Exception as error:
            corrupt.append({'file': path, 'error': '%s: %s' % (type(error).__name__, error)})
    return corrupt


def convert(config_file, files):
    """Converts data files (one read) into a result dict: the istanbul data of every measured file and Coverage.py's totals.

    Used by ``main`` (the collector runs this file) and, in-process, by the network agent
    (``_server_coverage_network.py``), which sends ``files`` of the result to a remote collector.
    """
    import coverage
    from coverage.exceptions import NotPython
    result = {'python': sys.version.split()[0], 'version': list(sys.version_info[:2]),
              'coverage': coverage.__version__, 'files': {}, 'skipped': []}
    cov = coverage.Coverage(config_file=config_file, data_file=None, messages=False)
    result['corrupt'] = combine(cov, files)
    totals = dict(statements=0, covered=0, branches=0, covered_branches=0, decorator_branches=0, decorator_covered=0, files=0)
    for measured in sorted(cov.get_data().measured_files()):
        path = os.path.abspath(measured)
        try:
            reporter = cov._get_file_reporter(measured)
            analysis = cov._analyze(reporter)
            with open(path, encoding='utf-8') as handle:
                source = handle.read()
        except NotPython:
            if reporter.should_be_python():
                result['skipped'].append({'file': path, 'error': "Coverage.py couldn't parse it as Python"})
            continue
        except Exception as error:  # vanished, unreadable: skip it, say so
            result['skipped'].append({'file': path, 'error': '%s: %s' % (type(error).__name__, error)})
            continue
        data, (decorator_total, decorator_covered) = convert_file(path, source, analysis_facts(analysis))
        result['files'][path] = data
        numbers = analysis.numbers
        totals['files'] += 1
        totals['statements'] += numbers.n_statements
        totals['covered'] += numbers.n_executed
        totals['branches'] += numbers.n_branches
        totals['covered_branches'] += numbers.n_executed_branches
        totals['decorator_branches'] += decorator_total
        totals['decorator_covered'] += decorator_covered
    result['totals'] = totals
    return result


def main(argv):
    config_file, cwd = argv[1:3]
    files = json.load(sys.stdin)
    os.chdir(cwd)
    json.dump(convert(config_file, files), sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
