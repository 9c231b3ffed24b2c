import { describe, expect, test } from 'vitest'
import { planCommand, substitutePort } from '../../src/launch/command.js'

describe('planCommand', () => {
  // Plain words run directly: split on any whitespace, trimmed, no shell.
  test('plain words run without a shell', () => {
    expect(planCommand('node server.js')).toEqual({ file: 'node', args: ['server.js'], shell: false })
    expect(planCommand('  node   dist/server.js\t--port 3000  ')).toEqual({
      file: 'node',
      args: ['dist/server.js', '--port', '3000'],
      shell: false,
    })
    expect(planCommand('./bin/start')).toEqual({ file: './bin/start', args: [], shell: false })
    expect(planCommand('npx tsx src/main.ts --inspect-brk')).toEqual({ file: 'npx', args: ['tsx', 'src/main.ts', '--inspect-brk'], shell: false })
  })

  // Anything only a shell understands runs under /bin/sh -c with the trimmed text.
  test.each([
    ['npm run build && node dist/server.js'],
    ['node "my server.js"'],
    ["node 'my server.js'"],
    ['node $ENTRY'],
    ['PORT=1 node x'],
    ['node server.js | tee log.txt'],
    ['node server.js > out.log'],
    ['node server.js; echo done'],
    ['node `which x`'],
    ['node src/*.js'],
    ['node ~/server.js'],
    ['node server.js # comment'],
    ['node server.js --port={port}'],
  ])('shell syntax: %s', (command) => {
    expect(planCommand(`  ${command} `)).toEqual({ file: '/bin/sh', args: ['-c', command], shell: true })
  })
})

describe('substitutePort', () => {
  // Every placeholder is replaced, other braces are left alone.
  test('replaces every {port}', () => {
    expect(substitutePort('node s.js --port {port} --url http://127.0.0.1:{port}/{port}', 4123)).toBe(
      'node s.js --port 4123 --url http://127.0.0.1:4123/4123',
    )
    expect(substitutePort('node s.js {PORT} {port', 80)).toBe('node s.js {PORT} {port')
    expect(substitutePort('{port}{port}', 1)).toBe('11')
  })

  // Substitution then planning: a substituted plain command still needs no shell.
  test('plan after substitution', () => {
    expect(planCommand(substitutePort('node s.js --port {port}', 3000))).toEqual({ file: 'node', args: ['s.js', '--port', '3000'], shell: false })
  })
})
