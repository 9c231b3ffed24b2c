// Koa 3 ships no types; this is the part the host tests use (`@types/koa` would add ten packages).
declare module 'koa' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export default class Koa {
    use(middleware: (ctx: { body: unknown }) => unknown): this
    callback(): (req: IncomingMessage, res: ServerResponse) => void
  }
}
