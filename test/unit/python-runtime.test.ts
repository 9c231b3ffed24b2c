import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { coveragerc, pythonPaths, sourceDirs } from '../../src/runtimes/python/config.js'
import { countProcesses, parseDataFileName } from '../../src/runtimes/python/data-files.js'
import { pythonEnv } from '../../src/runtimes/python/env.js'
import { serverKind } from '../../src/runtimes/python/files.js'
import { lostProcessMessages } from '../../src/runtimes/python/lost.js'
import { commandNotes } from '../../src/runtimes/python/notes.js'
import { checkSamePython, converterPython } from '../../src/runtimes/python/read.js'
import { readUwsgiSetup, uwsgiPluginsToAdd } from '../../src/runtimes/python/uwsgi-preflight.js'
import { REPO } from '../e2e/harness.js'
import { missingPythonTools } from '../e2e/python-support.js'

const marker = { kind: 'started' as const, pid: 1, at: 0, python: '3.11.2', version: [3, 11] as [number, number], executable: '/usr/bin/uwsgi-core', prefix: '/usr', coverage: '6.5.0' }
const RECIPE = join(REPO, 'test', 'fixtures', 'projects', 'python-recipe')

describe('the Python runtime, pure parts', () => {
  test('server kinds', () => {
    expect(serverKind('uwsgi --ini run.ini')).toBe('uwsgi')
    expect(serverKind('PORT=1 /usr/bin/gunicorn -w 4 app:app')).toBe('gunicorn')
    expect(serverKind('python3 -m gunicorn app:app')).toBe('gunicorn')
    expect(serverKind('python3 server.py')).toBe('python')
  })

  test("the converting Python is the server's (uWSGI embeds it, so its prefix is used), unless the `python` option names one", () => {
    expect(converterPython(marker, undefined)).toEqual({ path: '/usr/bin/python3.11', fromOption: false })
    expect(converterPython({ ...marker, executable: '/usr/bin/python3' }, undefined)).toEqual({ path: '/usr/bin/python3', fromOption: false })
    expect(converterPython(marker, '/opt/py/bin/python')).toEqual({ path: '/opt/py/bin/python', fromOption: true })
  })

  test('a Python version mismatch names both and the `python` option; an option error only when the option chose it', () => {
    const server = { path: '/usr/bin/python3.12', fromOption: false }
    expect(() => checkSamePython(marker, { python: '3.11.7', version: [3, 11], coverage: '6.5.0' }, server)).not.toThrow()
    expect(() => checkSamePython(marker, { python: '3.12.1', version: [3, 12], coverage: '6.5.0' }, server)).toThrow(
      /^server-coverage: Python version mismatch: the server ran Python 3\.11\.2 with Coverage\.py 6\.5\.0, but \/usr\/bin\/python3\.12 is Python 3\.12\.1.*Set the `python` option/,
    )
    expect(() => checkSamePython(marker, { python: '3.11.2', version: [3, 11], coverage: '7.4.0' }, server)).toThrow(expect.objectContaining({ code: 'COVERAGE_UNAVAILABLE' }))
    expect(() => checkSamePython(marker, { python: '3.12.1', version: [3, 12], coverage: '6.5.0' }, { ...server, fromOption: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('(the `python` option)') }),
    )
  })

  test('env: uWSGI options only add; PYTHONPATH keeps the user\'s entries after ours; every process learns where to save', () => {
    const paths = pythonPaths('/d')
    const base = { kind: 'uwsgi' as const, paths, socketPath: '/d/control.sock', pythonDir: '/pkg/python', uwsgiHook: '/pkg/python/uwsgi_hook.py', baseEnv: {} }
    expect(pythonEnv(base)).toMatchObject({ UWSGI_SHARED_IMPORT: '/pkg/python/uwsgi_hook.py', UWSGI_DIE_ON_TERM: '1', SERVER_COVERAGE_PY_READY: '/d/python/ready', SERVER_COVERAGE_SOCKET: '/d/control.sock' })
    expect(pythonEnv({ ...base, kind: 'gunicorn', baseEnv: { PYTHONPATH: '/mine' } }).PYTHONPATH).toBe('/pkg/python:/mine')
  })

  test('source: the fixed base folders of the include globs, relative to cwd; else cwd', () => {
    expect(sourceDirs({ cwd: '/app', include: undefined })).toEqual(['/app'])
    expect(sourceDirs({ cwd: '/app', include: ['src/**/*.py', '../lib/**', 'src/api/*.py'] })).toEqual(['/app/src', '/lib'])
    expect(sourceDirs({ cwd: '/app', include: ['run.py', 'pkg/mod.py'] })).toEqual(['/app'])
    expect(sourceDirs({ cwd: '/app', include: ['**/*.py', '!**/tests/**'] })).toEqual(['/app'])
    expect(coveragerc(['/app/src', '/lib'], '/d/.coverage', '/pkg/python')).toContain('source =\n    /app/src\n    /lib\n')
  })

  test('data file names: which process wrote them, read from the right (hosts may have dots)', () => {
    expect(parseDataFileName('.coverage.build.example.com.4242.1796280606253797631.7', true)).toEqual({ pid: 4242, process: '4242.1796280606253797631' })
    expect(parseDataFileName('.coverage.vm.4242.123456', false)).toEqual({ pid: 4242, process: '4242' })
    expect(parseDataFileName('coveragerc', true)).toBeUndefined()
  })

  test('a file a process left while collecting (killed as it saved) counts as that process when a ready file names it', () => {
    const file = (name: string, ready: boolean) => ({ path: name, savedAt: 0, ...parseDataFileName(name, ready)! })
    const ready = [file('.coverage.vm.10.111.1', true), file('.coverage.vm.10.111.2', true), file('.coverage.vm.11.222.1', true)]
    expect(countProcesses(ready)).toBe(2)
    expect(countProcesses([...ready, file('.coverage.vm.10.123456', false)])).toBe(2)
    expect(countProcesses([...ready, file('.coverage.vm.12.123456', false)])).toBe(3)
    // The same pid twice in one run (reused): two processes.
    expect(countProcesses([...ready, file('.coverage.vm.10.333.1', true)])).toBe(3)
  })

  test('uvicorn --reload gets one note; other commands none', () => {
    for (const command of ['uvicorn app:app --reload', '/usr/bin/python3 -m uvicorn app:app --reload --port {port}', 'PORT=1 ./venv/bin/uvicorn app:app --reload']) {
      expect(commandNotes(command), command).toEqual([expect.stringContaining('runs uvicorn with --reload: the app runs in a child process that uvicorn replaces')])
    }
    for (const command of ['uvicorn app:app --workers 4', 'gunicorn --reload app:app', 'python3 -m hypercorn app:app --reload', 'python3 manage.py runserver']) {
      expect(commandNotes(command), command).toEqual([])
    }
  })

  test('a process that disconnected without its exit marker is named once, with how long before it died it last saved', () => {
    const agent = { pid: 7, ppid: 1, threadId: 0, argv: ['uwsgi'], connected: false, lastFlushAt: 1000, disconnectedAt: 4000 }
    const reported = new Set<number>()
    expect(lostProcessMessages('api', [agent], new Set(), () => 3500, reported)).toEqual([
      'process 7 (uwsgi) of "api" exited without saving its coverage (killed by a signal?): what it ran since its last save 500 ms before it died is lost. Everything it saved before that is kept.',
    ])
    expect(lostProcessMessages('api', [agent], new Set(), () => 3500, reported)).toEqual([])
    expect(lostProcessMessages('api', [{ ...agent, pid: 8 }], new Set([8]), () => 0, reported)).toEqual([])
    expect(lostProcessMessages('api', [{ ...agent, pid: 9, connected: true }], new Set(), () => 0, reported)).toEqual([])
  })

  test("uWSGI setup read from the recipe's ini: an http router, no plugins", async () => {
    expect(await readUwsgiSetup('uwsgi --ini run.ini', RECIPE)).toEqual({ declared: [], usesHttpRouter: true })
    expect(await readUwsgiSetup('uwsgi --plugins http,python3 --http :8000 --wsgi-file run.py', RECIPE)).toEqual({ declared: ['http', 'python3'], usesHttpRouter: true })
  })
})

describe.skipIf(missingPythonTools(['uwsgi']).length > 0)("the plugins a modular uWSGI needs and the ini lacks (Debian's uwsgi-core, real)", () => {
  test('the recipe\'s ini gets http and python3; an ini or UWSGI_PLUGINS that names them gets nothing more', async () => {
    expect(await uwsgiPluginsToAdd('uwsgi --ini run.ini', RECIPE, process.env)).toEqual(['http', 'python3'])
    expect(await uwsgiPluginsToAdd('uwsgi --ini run.ini', RECIPE, { ...process.env, UWSGI_PLUGINS: 'python3' })).toEqual(['http'])
    expect(await uwsgiPluginsToAdd('uwsgi --ini run.ini --plugins http,python3', RECIPE, process.env)).toEqual([])
    expect(await uwsgiPluginsToAdd('uwsgi --socket :0 --wsgi-file run.py', RECIPE, process.env)).toEqual(['python3'])
  })
})
