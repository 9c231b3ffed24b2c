import { describe, expect, test } from 'vitest'
import { sourceDirs } from '../../src/runtimes/python/config.js'
import { pythonEnv } from '../../src/runtimes/python/env.js'
import { serverKind } from '../../src/runtimes/python/files.js'
import { checkSamePython, converterPython } from '../../src/runtimes/python/read.js'

const marker = { kind: 'started' as const, pid: 1, python: '3.11.2', version: [3, 11] as [number, number], executable: '/usr/bin/uwsgi-core', prefix: '/usr', coverage: '6.5.0' }

describe('the Python runtime, pure parts', () => {
  test('server kinds', () => {
    expect(serverKind('uwsgi --ini run.ini')).toBe('uwsgi')
    expect(serverKind('PORT=1 /usr/bin/gunicorn -w 4 app:app')).toBe('gunicorn')
    expect(serverKind('python3 -m gunicorn app:app')).toBe('gunicorn')
    expect(serverKind('python3 server.py')).toBe('python')
  })

  test('the converting Python is the server\'s: uWSGI embeds it, so its prefix is used', () => {
    expect(converterPython(marker, undefined)).toBe('/usr/bin/python3.11')
    expect(converterPython({ ...marker, executable: '/usr/bin/python3' }, undefined)).toBe('/usr/bin/python3')
    expect(converterPython(marker, '/opt/py/bin/python')).toBe('/opt/py/bin/python')
  })

  test('a Python version mismatch is an error that names both and the fix', () => {
    expect(() => checkSamePython(marker, { python: '3.11.7', version: [3, 11], coverage: '6.5.0' }, 'p')).not.toThrow()
    expect(() => checkSamePython(marker, { python: '3.12.1', version: [3, 12], coverage: '6.5.0' }, '/usr/bin/python3.12')).toThrow(
      /Python version mismatch: the server ran Python 3\.11\.2 with Coverage\.py 6\.5\.0, but \/usr\/bin\/python3\.12 is Python 3\.12\.1.*SERVER_COVERAGE_PYTHON/,
    )
    expect(() => checkSamePython(marker, { python: '3.11.2', version: [3, 11], coverage: '7.4.0' }, 'p')).toThrow(/Coverage\.py 7\.4\.0/)
  })

  test('env: uWSGI options only add; PYTHONPATH keeps the user\'s entries after ours', () => {
    const base = { kind: 'uwsgi' as const, configFile: '/d/rc', stateDir: '/d/s', pythonDir: '/pkg/python', uwsgiHook: '/pkg/python/uwsgi_hook.py', baseEnv: {} }
    expect(pythonEnv(base)).toMatchObject({ UWSGI_SHARED_IMPORT: '/pkg/python/uwsgi_hook.py', UWSGI_DIE_ON_TERM: '1' })
    expect(pythonEnv({ ...base, kind: 'gunicorn', baseEnv: { PYTHONPATH: '/mine' } }).PYTHONPATH).toBe('/pkg/python:/mine')
  })

  test('source: the cwd plus include bases outside it', () => {
    expect(sourceDirs({ cwd: '/app', include: ['src/**/*.py', '../lib/**'] })).toEqual(['/app', '/lib'])
  })
})
