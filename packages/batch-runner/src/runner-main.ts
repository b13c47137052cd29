// `spotjobs-batch-runner`: the container entrypoint for Lambda, AWS Batch single-node and
// multi-node parallel jobs (see src/run/entrypoint.ts). First it turns on Node's compile
// cache (NODE_COMPILE_CACHE, else a folder in the temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns
// it off): a warm cache halves start-up, and every node's start-up is on the rendezvous path.
// Static imports would load before this line runs, hence the dynamic import.
import module from 'node:module';

module.enableCompileCache?.();
await import('./run/entrypoint.ts');
