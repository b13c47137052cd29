// `spotjobs-compile`: the command-line client of the compile API (bin/spotjobs-compile runs this
// file). A thin process wrapper around `runCli`: the only place that reads process.argv and
// process.env, and that turns SIGINT / SIGTERM into an abort of everything in flight (requests,
// the download, whose partial file is removed), then exits 130 / 143. A second signal exits at
// once.

import { runCli } from './cli-run.ts';
import { CliExitCode } from './exit-codes.ts';

const EXIT_ON_SIGNAL = { SIGINT: CliExitCode.interrupted, SIGTERM: CliExitCode.terminated } as const;

const controller = new AbortController();
let interruptedBy: keyof typeof EXIT_ON_SIGNAL | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interruptedBy) process.exit(EXIT_ON_SIGNAL[signal]);
    interruptedBy = signal;
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = interruptedBy ? EXIT_ON_SIGNAL[interruptedBy] : code;
