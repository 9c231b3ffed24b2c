/**
 * The library's only process-wide side effect: one `exit` hook that runs synchronous cleanup
 * tasks (kill server groups still alive, remove private folders) when the runner exits without
 * having stopped us — Jest 29 `--bail`, `process.exit` in a runner, an uncaught exception. Only
 * synchronous work is possible at that point. Every module that owns such a resource registers
 * here instead of adding a listener of its own.
 */

const tasks = new Set<() => void>()
let installed = false

function runAll(): void {
  for (const task of [...tasks]) {
    try {
      task()
    } catch {
      // one failing task must not stop the others
    }
  }
  tasks.clear()
}

/** Registers a synchronous task to run if the process exits first; returns its unregister function. */
export function onProcessExit(task: () => void): () => void {
  if (!installed) {
    installed = true
    process.on('exit', runAll)
  }
  tasks.add(task)
  return () => void tasks.delete(task)
}
