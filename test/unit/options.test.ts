import { describe, expect, test } from 'vitest'
import { ServerCoverageError } from '../../src/errors.js'
import { resolveServerOptions, resolveServers } from '../../src/options.js'

const ROOT = '/project'
const KNOWN = 'name, command, app, workers, url, port, cwd, env, timeout, gracefulShutdown, stdout, stderr, include, exclude, runtime, appExport, python, flushTimeout, attach, agents, tokenFile, pathMap, counting'

/** The error `fn` throws, failing when it does not throw a ServerCoverageError. */
function errorOf(fn: () => unknown): ServerCoverageError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ServerCoverageError)
    expect((error as ServerCoverageError).code).toBe('INVALID_OPTION')
    return error as ServerCoverageError
  }
  throw new Error('expected a ServerCoverageError, nothing was thrown')
}

const message = (input: unknown, many = false): string =>
  errorOf(() => (many ? resolveServers(input, ROOT) : resolveServerOptions(input, ROOT))).message

describe('resolveServerOptions defaults', () => {
  // Every default is filled in and nothing else is invented.
  test('a bare command gets every default', () => {
    expect(resolveServerOptions({ command: 'node server.js' }, ROOT)).toEqual({
      name: 'server',
      command: 'node server.js',
      app: undefined,
      appExport: undefined,
      attach: undefined,
      agents: undefined,
      tokenFile: undefined,
      pathMap: [],
      workers: 2,
      url: undefined,
      port: undefined,
      cwd: ROOT,
      env: {},
      timeout: 30_000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5000 },
      stdout: 'ignore',
      stderr: 'ignore',
      include: undefined,
      exclude: undefined,
      runtime: 'node',
      runtimeInferred: true,
      python: undefined,
      flushTimeout: 10_000,
      counting: 'v8',
    })
  })

  // The runtime is inferred from the program, after any VAR=value prefixes; an explicit one wins.
  test('runtime inference', () => {
    expect(resolveServerOptions({ command: 'uwsgi --ini run.ini' }, ROOT)).toMatchObject({ runtime: 'python', runtimeInferred: true })
    expect(resolveServerOptions({ command: 'FLASK_APP=run.py /usr/bin/python3 -m flask run' }, ROOT).runtime).toBe('python')
    expect(resolveServerOptions({ command: 'gunicorn -w 4 run:app' }, ROOT).runtime).toBe('python')
    // The Python servers people run today (issue 13): ASGI servers, their `python -m` forms, Django.
    for (const command of [
      'uvicorn main:app --workers 4',
      './venv/bin/uvicorn main:app',
      'hypercorn main:app --workers 4 --bind 127.0.0.1:{port}',
      'gunicorn -k uvicorn.workers.UvicornWorker -w 4 main:app',
      '/usr/bin/python3 -m uvicorn main:app --port {port}',
      'python -m hypercorn main:app',
      'DJANGO_SETTINGS_MODULE=site.settings django-admin runserver {port}',
      'django-admin.py runserver',
      './manage.py runserver 127.0.0.1:{port}',
      'python3 manage.py runserver',
    ]) {
      expect(resolveServerOptions({ command }, ROOT).runtime, command).toBe('python')
    }
    for (const command of ['node manage.py', 'node uvicorn.js', 'npx hypercorn-like']) expect(resolveServerOptions({ command }, ROOT).runtime, command).toBe('node')
    expect(resolveServerOptions({ command: 'node uwsgi.js' }, ROOT).runtime).toBe('node')
    expect(resolveServerOptions({ command: 'uwsgi x', runtime: 'node' }, ROOT)).toMatchObject({ runtime: 'node', runtimeInferred: false })
  })

  // A relative `cwd` resolves against the root, and a relative `app` against that cwd.
  test('relative cwd and app are resolved', () => {
    const resolved = resolveServerOptions({ app: './src/app.js', cwd: 'packages/api' }, ROOT)
    expect(resolved.cwd).toBe('/project/packages/api')
    expect(resolved.app).toBe('/project/packages/api/src/app.js')
    expect(resolveServerOptions({ app: '/abs/app.js', cwd: '../other' }, ROOT)).toMatchObject({ cwd: '/other', app: '/abs/app.js' })
  })

  // Unnamed servers are called server, server2, server3 by position; a single glob becomes a list.
  test('names by position and explicit values are kept', () => {
    const servers = resolveServers([{ command: 'a' }, { command: 'b' }, { app: 'c.js', workers: 4, include: 'src/**' }], ROOT)
    expect(servers.map((s) => s.name)).toEqual(['server', 'server2', 'server3'])
    expect(servers[2]).toMatchObject({ workers: 4, include: ['src/**'], app: '/project/c.js' })
    const explicit = resolveServerOptions(
      { command: 'x', gracefulShutdown: { signal: 'SIGINT', timeout: 0 }, stdout: 'pipe', port: 65535, timeout: 1 },
      ROOT,
    )
    expect(explicit).toMatchObject({ gracefulShutdown: { signal: 'SIGINT', timeout: 0 }, stdout: 'pipe', stderr: 'ignore', port: 65535, timeout: 1 })
  })
})

describe('resolveServerOptions errors', () => {
  // Exact wording of the common type error.
  test('wrong type', () => {
    expect(message({ command: 5 })).toBe('server-coverage: expected the `command` option to be a non-empty string, got `5` (number).')
    expect(message({ command: '   ' })).toBe('server-coverage: expected the `command` option to be a non-empty string, got `   ` (string).')
    expect(message('node x')).toBe('server-coverage: expected the `server options` option to be an object, got `node x` (string).')
    expect(message(null)).toBe('server-coverage: expected the `server options` option to be an object, got `null`.')
  })

  // Integers are range-checked with the bounds in the message.
  test('negative timeout and other ranges', () => {
    expect(message({ command: 'x', timeout: -1 })).toBe(
      'server-coverage: expected the `timeout` option to be an integer from 1 to 9007199254740991, got `-1` (number).',
    )
    expect(message({ command: 'x', port: 0 })).toBe('server-coverage: expected the `port` option to be an integer from 1 to 65535, got `0` (number).')
    expect(message({ app: 'a.js', workers: 1.5 })).toBe('server-coverage: expected the `workers` option to be an integer from 1 to 256, got `1.5` (number).')
    expect(message({ command: 'x', gracefulShutdown: { timeout: '5s' } })).toBe(
      'server-coverage: expected the `gracefulShutdown.timeout` option to be an integer from 0 to 9007199254740991, got `5s` (string).',
    )
  })

  // An unknown key lists every known one.
  test('unknown key', () => {
    expect(message({ command: 'x', commnad: 'y' })).toBe(`server-coverage: unknown option \`commnad\`. Known options: ${KNOWN}.`)
    expect(message([{ command: 'x' }, { command: 'y', porrt: 1 }], true)).toBe(
      `server-coverage: unknown option \`servers[1].porrt\`. Known options: ${KNOWN}.`,
    )
  })

  // Exactly one of command/app/attach, each case says which.
  test('exactly one of command, app and attach', () => {
    const text = (prefix: string, got: string): string =>
      `server-coverage: give exactly one of the \`${prefix}command\` option (a command that starts your server), ` +
      `the \`${prefix}app\` option (a module exporting a request handler or app), ` +
      `the \`${prefix}attach\` option (a running \`server-coverage serve\`) ` +
      `or the \`${prefix}agents\` option (servers started elsewhere), got ${got}.`
    expect(message({})).toBe(text('', 'none'))
    expect(message({ command: 'x', app: 'y.js' })).toBe(text('', 'more than one'))
    expect(message({ command: 'x', attach: true })).toBe(text('', 'more than one'))
    expect(message([{ command: 'x' }, { url: '/' }], true)).toBe(text('servers[1].', 'none'))
    expect(resolveServerOptions({ attach: true }, ROOT).attach).toBe(true)
    expect(resolveServerOptions({ agents: '127.0.0.1:7171', pathMap: { '/app': '.' } }, ROOT)).toMatchObject({ runtime: 'network', pathMap: [{ from: '/app', to: '.' }] })
    expect(message({ command: 'x', tokenFile: 't' })).toBe('server-coverage: the `tokenFile` option applies to `agents` only.')
    expect(message([{ command: 'x' }, { attach: '/tmp/s.sock' }], true)).toBe(
      'server-coverage: the `servers[1].attach` option attaches to every server of a running serve: give it alone, not in an array of servers.',
    )
  })

  // Options people look for that we do not have say what to do instead.
  test('sticky is refused with the advice that works', () => {
    expect(message({ app: 'a.js', sticky: true })).toContain('for an app that keeps state in memory between requests, set `workers: 1`.')
  })

  // `workers` and `appExport` belong to `app`.
  test('app-only options with command', () => {
    for (const option of ['workers', 'appExport']) {
      expect(message({ command: 'x', [option]: option === 'workers' ? 2 : 'app' })).toBe(
        `server-coverage: the \`${option}\` option applies to \`app\` only; a \`command\` starts its own server.`,
      )
    }
    expect(message({ command: 'x', flushTimeout: 0 })).toBe('server-coverage: expected the `flushTimeout` option to be an integer from 1 to 9007199254740991, got `0` (number).')
  })

  // URLs must be http(s) or a path.
  test('bad url', () => {
    expect(message({ command: 'x', url: 'localhost:3000/health' })).toBe(
      'server-coverage: expected the `url` option to be an http(s) URL or a path starting with `/`, got `localhost:3000/health` (string).',
    )
    expect(resolveServerOptions({ command: 'x', url: 'https://127.0.0.1:{port}/h' }, ROOT).url).toBe('https://127.0.0.1:{port}/h')
  })

  // Environment values are strings, the key is named.
  test('bad env value', () => {
    expect(message({ command: 'x', env: { DEBUG: 1 } })).toBe('server-coverage: expected the `env.DEBUG` option to be a string, got `1` (number).')
    expect(message({ command: 'x', env: ['A=1'] })).toBe('server-coverage: expected the `env` option to be an object of strings, got `["A=1"]` (array).')
  })

  // Enumerations, objects and globs name what is allowed.
  test('enumerations, gracefulShutdown and globs', () => {
    expect(message({ command: 'x', stdout: 'inherit' })).toBe("server-coverage: expected the `stdout` option to be one of 'pipe', 'ignore', got `inherit` (string).")
    expect(message({ command: 'x', gracefulShutdown: { signal: 'SIGKILL' } })).toBe(
      "server-coverage: expected the `gracefulShutdown.signal` option to be one of 'SIGTERM', 'SIGINT', 'SIGHUP', got `SIGKILL` (string).",
    )
    expect(message({ command: 'x', gracefulShutdown: 'SIGINT' })).toBe(
      'server-coverage: expected the `gracefulShutdown` option to be an object `{ signal, timeout }`, got `SIGINT` (string).',
    )
    expect(message({ command: 'x', exclude: [1] })).toBe(
      'server-coverage: expected the `exclude` option to be a glob string or an array of glob strings, got `[1]` (array).',
    )
  })
})

describe('resolveServers', () => {
  // Names must be unique, including against a default name.
  test('duplicate names', () => {
    expect(message([{ command: 'a', name: 'api' }, { command: 'b', name: 'api' }], true)).toBe(
      'server-coverage: two servers are named `api`; give each a unique `name`.',
    )
    expect(message([{ command: 'a', name: 'server2' }, { command: 'b' }], true)).toBe(
      'server-coverage: two servers are named `server2`; give each a unique `name`.',
    )
  })

  // An empty list is refused; a bad entry is named by index.
  test('empty array and bad entries', () => {
    expect(message([], true)).toBe('server-coverage: expected the `servers` option to be a server options object or a non-empty array of them, got `[]` (array).')
    expect(message([{ command: 'a' }, 'b'], true)).toBe('server-coverage: expected the `servers[1]` option to be an object, got `b` (string).')
    expect(message([{ command: 'a' }, { command: 'b', timeout: 0 }], true)).toBe(
      'server-coverage: expected the `servers[1].timeout` option to be an integer from 1 to 9007199254740991, got `0` (number).',
    )
  })

  // A single object is a one-element list.
  test('a single object', () => {
    expect(resolveServers({ command: 'node s.js' }, ROOT)).toHaveLength(1)
  })
})
