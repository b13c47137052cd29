// The IMDSv2 stand-in in a process of its own, for the interruption benchmarks: on EC2 the
// metadata service runs outside the worker, so its CPU must not count against the worker.
// Prints `{ "url": ... }` once listening, then takes one JSON command per stdin line and
// answers each with one JSON line:
//   { "serve": { "action": "terminate", "inMs": 120000 } }  → { "servedAt": <epoch ms> }
//   { "serve": null }                                       → { "servedAt": <epoch ms> } (404 again)
//   { "count": true }                                       → { "requests": <answered so far> }
// `servedAt` is taken right after the switch: from then on every GET sees the new answer.
import { createInterface } from 'node:readline';
import { startImdsStandIn } from '../src/testing/imds-stand-in.ts';

interface Command {
  readonly serve?: { readonly action: 'terminate' | 'stop' | 'hibernate'; readonly inMs: number } | null;
  readonly count?: boolean;
}

const imds = await startImdsStandIn();
const answer = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ url: imds.url });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as Command;
  if (command.count) {
    answer({ requests: imds.requestCount() });
    return;
  }
  const serve = command.serve;
  imds.setInstanceAction(serve ? { action: serve.action, time: Date.now() + serve.inMs } : undefined);
  answer({ servedAt: Date.now() });
});
lines.on('close', () => void imds.close());
