// The rendezvous protocol in one process, over real HTTP on loopback: the main node's server
// against child clients, including a stray host, a closed rendezvous and a vanished main node.
import { randomUUID } from 'node:crypto';
import { recordingLogger } from '@spotjobs/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RendezvousClient } from '../src/multinode/rendezvous-client.ts';
import { RendezvousServer } from '../src/multinode/rendezvous-server.ts';
import { rendezvousToken } from '../src/multinode/rendezvous-token.ts';
import { RendezvousError } from '../src/run/runner-errors.ts';
import { freePort } from './run-support/runner-process.ts';

const servers: RendezvousServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startMain(children: number[], options: { donePollMs?: number } = {}) {
  const token = rendezvousToken(`job-${randomUUID()}`, 1, undefined);
  const logger = recordingLogger();
  const server = await RendezvousServer.start({
    host: '127.0.0.1',
    port: 0,
    token,
    children,
    donePollMs: options.donePollMs ?? 10_000,
    logger,
  });
  servers.push(server);
  const client = (node: number, clientToken = token) =>
    new RendezvousClient({
      mainAddress: '127.0.0.1',
      port: server.port,
      token: clientToken,
      node,
      logger: recordingLogger(),
    });
  return { server, token, logger, client };
}

describe('rendezvous over HTTP', () => {
  it('collects every child, then hands each the exit code through its pending long poll', async () => {
    const { server, client } = await startMain([1, 2, 3]);
    const waiting = server.waitForChildren(10_000);
    for (const node of [3, 1, 2]) {
      await expect(
        client(node).join({ address: `10.0.0.${node + 10}`, slots: node }, { timeoutMs: 5000 }),
      ).resolves.toEqual({
        joined: true,
      });
    }
    expect(await waiting).toEqual([
      { node: 1, address: '10.0.0.11', slots: 1 },
      { node: 2, address: '10.0.0.12', slots: 2 },
      { node: 3, address: '10.0.0.13', slots: 3 },
    ]);
    const polls = [1, 2, 3].map((node) => client(node).waitForDone({ donePollMs: 10_000, mainGoneMs: 5000 }));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the polls are open and waiting
    server.finish(7);
    expect(await Promise.all(polls)).toEqual([1, 2, 3].map(() => ({ done: true, exitCode: 7 })));
    // A child asking after the end gets the answer at once: the signal cannot be missed.
    await expect(client(2).waitForDone({ donePollMs: 10_000, mainGoneMs: 5000 })).resolves.toEqual({
      done: true,
      exitCode: 7,
    });
    await Promise.all([1, 2, 3].map((node) => client(node).reportFinished(7)));
    // (The clients live on in this process, so their connections stay open: the wait ends at its bound.)
    expect(await server.waitForChildrenFinished(300)).toEqual([]);
  });

  it('keeps polls alive across hold periods (done:false, asked again)', async () => {
    const { server, client } = await startMain([1], { donePollMs: 150 });
    await client(1).join({ address: '10.0.0.2', slots: 1 }, { timeoutMs: 5000 });
    const done = client(1).waitForDone({ donePollMs: 150, mainGoneMs: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 600)); // several held polls come and go
    server.finish(0);
    await expect(done).resolves.toEqual({ done: true, exitCode: 0 });
  });

  it('refuses a stray host (another job or attempt) without counting it', async () => {
    const { server, client, logger } = await startMain([1]);
    const stray = client(1, rendezvousToken('some-other-job', 1, undefined));
    await expect(stray.join({ address: '10.9.9.9', slots: 1 }, { timeoutMs: 5000 })).rejects.toThrow(
      /refused node 1: wrong rendezvous token/,
    );
    expect(server.joined).toEqual([]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'rendezvous request with a wrong token' }),
    );
  });

  it('refuses unknown nodes and a second node claiming a joined address', async () => {
    const { client } = await startMain([1, 2]);
    await expect(client(0).join({ address: '10.0.0.1', slots: 1 }, { timeoutMs: 5000 })).rejects.toThrow(
      /node 0 is not a child node of this job/,
    );
    await client(1).join({ address: '10.0.0.2', slots: 1 }, { timeoutMs: 5000 });
    await expect(client(2).join({ address: '10.0.0.2', slots: 1 }, { timeoutMs: 5000 })).rejects.toThrow(
      /address 10.0.0.2 is already registered by node 1/,
    );
  });

  it('names the nodes that never joined when the wait times out, and closes to late arrivals', async () => {
    const { server, client } = await startMain([1, 2, 3]);
    await client(2).join({ address: '10.0.0.3', slots: 1 }, { timeoutMs: 5000 });
    const err = await server.waitForChildren(300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RendezvousError);
    expect(err).toMatchObject({ missingNodes: [1, 3], exitCode: 69 });
    expect(String((err as Error).message)).toBe(
      '2 of 3 child node(s) did not join within 0 s: node(s) 1, 3 (SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS)',
    );
    await expect(client(1).join({ address: '10.0.0.2', slots: 1 }, { timeoutMs: 5000 })).rejects.toThrow(
      /the rendezvous is closed/,
    );
    server.finish(69, 'children missing');
    // Once the main node finished, a latecomer learns the outcome instead of waiting.
    await expect(client(3).join({ address: '10.0.0.4', slots: 1 }, { timeoutMs: 5000 })).resolves.toEqual({
      joined: false,
      exitCode: 69,
      reason: 'the job had already finished',
    });
  });

  it('fails the wait at once when a child reports it cannot take part', async () => {
    const { server, client } = await startMain([1, 2]);
    const waiting = server.waitForChildren(60_000).catch((err: unknown) => err);
    await client(2).join(
      { address: '10.0.0.3', slots: 1 },
      { timeoutMs: 5000, failure: 'input refused: too large' },
    );
    expect(await waiting).toEqual(
      new RendezvousError('node 2 (10.0.0.3) cannot take part: input refused: too large'),
    );
  });

  it('retries a join until the main node starts listening', async () => {
    const port = await freePort();
    const token = rendezvousToken('job-late-main', 1, undefined);
    const child = new RendezvousClient({
      mainAddress: '127.0.0.1',
      port,
      token,
      node: 1,
      logger: recordingLogger(),
    });
    const joining = child.join({ address: '10.0.0.2', slots: 2 }, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const server = await RendezvousServer.start({
      host: '127.0.0.1',
      port,
      token,
      children: [1],
      donePollMs: 5000,
      logger: recordingLogger(),
    });
    servers.push(server);
    await expect(joining).resolves.toEqual({ joined: true });
    expect(server.joined).toEqual([{ node: 1, address: '10.0.0.2', slots: 2 }]);
  });

  it('gives up joining a main node that never comes, with a clear error', async () => {
    const port = await freePort();
    const child = new RendezvousClient({
      mainAddress: '127.0.0.1',
      port,
      token: 't',
      node: 1,
      logger: recordingLogger(),
    });
    await expect(child.join({ address: '10.0.0.2', slots: 2 }, { timeoutMs: 500 })).rejects.toThrow(
      new RegExp(`main node 127.0.0.1:${port} did not accept node 1 within 1 s \\(last: ECONNREFUSED\\)`),
    );
  });

  it('tells a child its main node is gone when requests keep failing', async () => {
    const { server, client } = await startMain([1]);
    await client(1).join({ address: '10.0.0.2', slots: 1 }, { timeoutMs: 5000 });
    const waiting = client(1).waitForDone({ donePollMs: 10_000, mainGoneMs: 800 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    servers.splice(servers.indexOf(server), 1);
    await server.close(); // the main node vanishes without finishing
    await expect(waiting).rejects.toThrow(
      /unreachable for \d+ s \(ECONNREFUSED\): it stopped without telling this node/,
    );
  });
});
