// The load generator's thread (started by `HttpLoadClient`): runs closed loops of node:http
// requests over keep-alive connections opened for the run, and posts back what it measured.
import { Agent, request } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { runClosedLoops } from './closed-loops.ts';
import type { LoadReport, LoadRequest, LoadSpec } from './http-load.ts';

if (!parentPort) throw new Error('http-load-worker.ts runs as a worker thread (see HttpLoadClient)');
const port = parentPort;

function newAgent(): Agent {
  // Free sockets are kept up to far more than any run's concurrency: none is closed and
  // reopened between two requests of a run.
  return new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 4096 });
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(agent: Agent, target: URL, spec: LoadRequest, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: spec.method,
        path: spec.path,
        headers:
          spec.body === undefined ? spec.headers : { 'content-type': 'application/json', ...spec.headers },
        signal,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

async function run(spec: LoadSpec): Promise<LoadReport> {
  const agents = new Map<string, Agent>();
  try {
    return await measure(spec, (origin) => {
      const agent = agents.get(origin) ?? newAgent();
      agents.set(origin, agent);
      return agent;
    });
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
}

async function measure(spec: LoadSpec, agentFor: (origin: string) => Agent): Promise<LoadReport> {
  const signal = AbortSignal.timeout(spec.timeoutMs);
  const targets = spec.requests.map((one) => {
    const origin = one.origin ?? spec.origin;
    return { agent: agentFor(origin), url: new URL(origin) };
  });
  // Connect: `concurrency` requests at once open as many sockets to each origin, left free for the loops.
  const concurrency = Math.min(spec.concurrency, spec.total);
  const origins = [...new Set(targets.map((t) => t.url.origin))];
  await Promise.all(
    origins.flatMap((origin) => {
      const agent = agentFor(origin);
      const url = new URL(origin);
      return Array.from({ length: concurrency }, () => send(agent, url, spec.connect, signal));
    }),
  );
  let inFlight = 0;
  let inFlightAtFirstAnswer = 0;
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  const run = await runClosedLoops(spec.total, concurrency, async (i) => {
    const one = spec.requests[i % spec.requests.length] as LoadRequest;
    const target = targets[i % targets.length]!;
    inFlight++;
    const answer = await send(target.agent, target.url, one, signal);
    if (inFlightAtFirstAnswer === 0) inFlightAtFirstAnswer = inFlight;
    inFlight--;
    if (answer.status !== spec.expect.status || !answer.body.startsWith(spec.expect.bodyStart)) {
      unexpected++;
      firstUnexpected ??= `${one.method} ${one.path} → ${answer.status} ${answer.body.slice(0, 200)}`;
    }
  });
  return {
    latenciesMs: run.latenciesMs,
    elapsedMs: run.elapsedMs,
    throughput: run.throughput,
    unexpected,
    firstUnexpected,
    clientLoopUtilisation: run.loopUtilisation,
    clientCpuUsPerRequest: run.cpuUsPerCall,
    inFlightAtFirstAnswer,
  };
}

port.on('message', (message: { id: number; spec: LoadSpec }) => {
  run(message.spec).then(
    (report) => port.postMessage({ id: message.id, report }, [report.latenciesMs.buffer]),
    (err: unknown) =>
      port.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
