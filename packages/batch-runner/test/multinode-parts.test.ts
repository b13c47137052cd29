import { describe, expect, it } from 'vitest';
import { formatHostfile } from '../src/multinode/hostfile.ts';
import { nodeAddress, nodeSlots } from '../src/multinode/node-identity.ts';
import { carriesToken, rendezvousToken } from '../src/multinode/rendezvous-token.ts';
import { backoffDelayMs, registrationBackoff } from '../src/multinode/retry-backoff.ts';
import { RendezvousError } from '../src/run/runner-errors.ts';

describe('hostfile', () => {
  it('lists the main node first, then children, each address once', () => {
    expect(
      formatHostfile({ address: '10.0.0.5', slots: 4 }, [
        { address: '10.0.0.7', slots: 2 },
        { address: '10.0.0.5', slots: 4 },
        { address: '10.0.0.6', slots: 8 },
        { address: '10.0.0.7', slots: 2 },
      ]),
    ).toBe('10.0.0.5 slots=4\n10.0.0.7 slots=2\n10.0.0.6 slots=8\n');
  });
});

describe('node identity', () => {
  const interfaces = () => ({
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true } as never],
    // awsvpc tasks may list the metadata endpoint's link-local network first.
    ecs0: [{ address: '169.254.172.2', family: 'IPv4', internal: false } as never],
    eth0: [
      { address: 'fe80::1', family: 'IPv6', internal: false } as never,
      { address: '10.0.3.17', family: 'IPv4', internal: false } as never,
    ],
    eth1: [{ address: '172.16.0.9', family: 'IPv4', internal: false } as never],
  });

  it('takes the first non-internal, non-link-local IPv4 address, of the named interface when given', () => {
    expect(nodeAddress({}, { interfaces })).toBe('10.0.3.17');
    expect(nodeAddress({ interfaceName: 'eth1' }, { interfaces })).toBe('172.16.0.9');
    expect(nodeAddress({ override: '10.9.9.9', interfaceName: 'eth1' }, { interfaces })).toBe('10.9.9.9');
  });

  it('fails clearly without one', () => {
    expect(() => nodeAddress({ interfaceName: 'eth9' }, { interfaces })).toThrow(RendezvousError);
    expect(() => nodeAddress({}, { interfaces: () => ({ lo: interfaces().lo }) })).toThrow(
      /no routable IPv4 address/,
    );
    expect(() => nodeAddress({ interfaceName: 'ecs0' }, { interfaces })).toThrow(
      /interface ecs0 has no IPv4/,
    );
  });

  it('counts GPUs when /dev/nvidia<N> exist, else CPUs, unless overridden', () => {
    expect(
      nodeSlots({}, { devices: () => ['nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm'], cpus: () => 16 }),
    ).toBe(2);
    expect(nodeSlots({}, { devices: () => ['null', 'tty'], cpus: () => 16 })).toBe(16);
    expect(nodeSlots({ override: 3 }, { devices: () => ['nvidia0'] })).toBe(3);
  });
});

describe('rendezvous token', () => {
  it('is the same on every node of an attempt and differs across jobs, attempts and secrets', () => {
    const token = rendezvousToken('job-1', 1, undefined);
    expect(rendezvousToken('job-1', 1, undefined)).toBe(token);
    expect(rendezvousToken('job-2', 1, undefined)).not.toBe(token);
    expect(rendezvousToken('job-1', 2, undefined)).not.toBe(token);
    expect(rendezvousToken('job-1', 1, 's3cret')).not.toBe(token);
    expect(carriesToken(`Bearer ${token}`, token)).toBe(true);
    expect(carriesToken(`Bearer ${token.slice(1)}x`, token)).toBe(false);
    expect(carriesToken(undefined, token)).toBe(false);
  });
});

describe('registration backoff', () => {
  it('doubles from 100 ms up to 5 s, jittered within the upper half', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, registrationBackoff, () => 1))).toEqual([
      100, 200, 400, 800,
    ]);
    expect(backoffDelayMs(20, registrationBackoff, () => 1)).toBe(5000);
    expect(backoffDelayMs(20, registrationBackoff, () => 0)).toBe(2500);
  });
});
