// @bcoe/v8-coverage ships no types; these are the two functions we use.
declare module '@bcoe/v8-coverage' {
  import type { ProcessCov } from '../coverage/v8-types.js'
  export function mergeProcessCovs(processCovs: readonly ProcessCov[]): ProcessCov
}
