import { EventEmitter } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { LeaseLostError } from '../src/errors.ts';
import { MetricsRegistry } from '../src/observability/metrics.ts';
import { instrumentRunner, type ObservableRunner } from '../src/observability/runner-metrics.ts';
import type { Runner } from '../src/runner/runner.ts';
import type { RunnerEvents } from '../src/runner/runner-events.ts';

// A stand-in runner: the same event contract, emitted by hand.
class FakeRunner implements ObservableRunner {
  readonly #events = new EventEmitter();
  snapshot: ReturnType<ObservableRunner['stats']> = { state: 'INITIALIZED', inFlight: 0, concurrency: 4 };
  on<E extends keyof RunnerEvents>(event: E, listener: (...args: RunnerEvents[E]) => void): () => void {
    this.#events.on(event, listener as (...args: unknown[]) => void);
    return () => this.#events.off(event, listener as (...args: unknown[]) => void);
  }
  emit<E extends keyof RunnerEvents>(event: E, ...args: RunnerEvents[E]): void {
    this.#events.emit(event, ...args);
  }
  stats() {
    return this.snapshot;
  }
}

const job = (type: string | undefined) => ({ messageId: 'm1', type, attempt: 1 });

describe('instrumentRunner', () => {
  it('accepts the real Runner (a compile-time check of the structural type)', () => {
    expectTypeOf<Runner>().toMatchTypeOf<ObservableRunner>();
  });

  it('counts job outcomes by queue, type and outcome, with durations in seconds', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'thumbs' });
    runner.emit('job:started', job('resize'));
    runner.emit('job:succeeded', { ...job('resize'), durationMs: 200 });
    runner.emit('job:succeeded', { ...job('resize'), durationMs: 3_000 });
    runner.emit('job:retried', { ...job('resize'), durationMs: 40, delaySeconds: 5, error: new Error('x') });
    runner.emit('job:dead-lettered', { ...job(undefined), reason: 'malformed' });
    runner.emit('job:released', { ...job('resize'), reason: 'shutdown' });
    runner.emit('lease:lost', job('resize'));
    const text = registry.render();
    expect(text).toContain('spotjobs_jobs_started_total{queue="thumbs",type="resize"} 1\n');
    expect(text).toContain('spotjobs_jobs_total{queue="thumbs",type="resize",outcome="succeeded"} 2\n');
    expect(text).toContain('spotjobs_jobs_total{queue="thumbs",type="resize",outcome="retried"} 1\n');
    expect(text).toContain('spotjobs_jobs_total{queue="thumbs",type="unknown",outcome="dead_lettered"} 1\n');
    expect(text).toContain('spotjobs_jobs_total{queue="thumbs",type="resize",outcome="released"} 1\n');
    expect(text).toContain('spotjobs_job_releases_total{queue="thumbs",reason="shutdown"} 1\n');
    expect(text).toContain('spotjobs_leases_lost_total{queue="thumbs",type="resize"} 1\n');
    expect(text).toContain(
      'spotjobs_job_duration_seconds_bucket{queue="thumbs",type="resize",outcome="succeeded",le="0.25"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_job_duration_seconds_bucket{queue="thumbs",type="resize",outcome="succeeded",le="5"} 2\n',
    );
    expect(text).toContain(
      'spotjobs_job_duration_seconds_sum{queue="thumbs",type="resize",outcome="succeeded"} 3.2\n',
    );
    expect(text).toContain(
      'spotjobs_job_duration_seconds_count{queue="thumbs",type="resize",outcome="retried"} 1\n',
    );
  });

  it('reads in-flight, concurrency and state from stats() at scrape time', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry);
    runner.snapshot = { state: 'RUNNING', inFlight: 3, concurrency: 4 };
    let text = registry.render();
    expect(text).toContain('spotjobs_jobs_in_flight{queue="default"} 3\n');
    expect(text).toContain('spotjobs_runner_concurrency{queue="default"} 4\n');
    expect(text).toContain('spotjobs_runner_state{queue="default",state="RUNNING"} 1\n');
    expect(text).toContain('spotjobs_runner_state{queue="default",state="INITIALIZED"} 0\n');

    runner.snapshot = { state: 'DRAINING', inFlight: 1, concurrency: 4 };
    text = registry.render();
    expect(text).toContain('spotjobs_jobs_in_flight{queue="default"} 1\n');
    expect(text).toContain('spotjobs_runner_state{queue="default",state="RUNNING"} 0\n');
    expect(text).toContain('spotjobs_runner_state{queue="default",state="DRAINING"} 1\n');
  });

  it('counts polls, received messages, batches, errors and task runs', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'q' });
    runner.emit('polled', 0);
    runner.emit('polled', 7);
    runner.emit('batch:sent', { kind: 'extend', size: 10 });
    runner.emit('batch:sent', { kind: 'extend', size: 3 });
    runner.emit('batch:sent', { kind: 'ack', size: 5 });
    runner.emit('error', new LeaseLostError('k'));
    runner.emit('error', new TypeError('boom'));
    runner.emit('task:ran', { name: 'cleanup', durationMs: 1_500 });
    runner.emit('task:ran', { name: 'cleanup', durationMs: 10, error: new Error('x') });
    const text = registry.render();
    expect(text).toContain('spotjobs_polls_total{queue="q"} 2\n');
    expect(text).toContain('spotjobs_messages_received_total{queue="q"} 7\n');
    expect(text).toContain('spotjobs_queue_batches_total{queue="q",kind="extend"} 2\n');
    expect(text).toContain('spotjobs_queue_batch_entries_total{queue="q",kind="extend"} 13\n');
    expect(text).toContain('spotjobs_queue_batches_total{queue="q",kind="ack"} 1\n');
    expect(text).toContain('spotjobs_errors_total{queue="q",code="LEASE_LOST"} 1\n');
    expect(text).toContain('spotjobs_errors_total{queue="q",code="TypeError"} 1\n');
    expect(text).toContain('spotjobs_task_runs_total{queue="q",task="cleanup",outcome="ok"} 1\n');
    expect(text).toContain('spotjobs_task_runs_total{queue="q",task="cleanup",outcome="error"} 1\n');
    expect(text).toContain('spotjobs_task_duration_seconds_count{queue="q",task="cleanup"} 2\n');
  });

  it('counts duplicates, deferrals, hibernate releases, lost claims and checkpoints with their bytes', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'builds' });
    runner.emit('job:duplicate', { ...job('compile'), claimKey: 'c1' });
    runner.emit('job:deferred', { ...job('compile'), claimKey: 'c2', delaySeconds: 30 });
    runner.emit('job:deferred', { ...job('compile'), claimKey: 'c3', delaySeconds: 30 });
    runner.emit('job:released', { ...job('compile'), reason: 'hibernate' });
    runner.emit('claim:lost', { ...job('compile'), claimKey: 'c4' });
    runner.emit('job:checkpointed', { ...job('compile'), bytes: 120 });
    runner.emit('job:checkpointed', { ...job('compile'), bytes: 80 });
    runner.emit('job:checkpointed', { ...job(undefined), bytes: 5 });
    const text = registry.render();
    expect(text).toContain('spotjobs_jobs_total{queue="builds",type="compile",outcome="duplicate"} 1\n');
    expect(text).toContain('spotjobs_jobs_total{queue="builds",type="compile",outcome="deferred"} 2\n');
    expect(text).toContain('spotjobs_jobs_total{queue="builds",type="compile",outcome="released"} 1\n');
    expect(text).toContain('spotjobs_job_releases_total{queue="builds",reason="hibernate"} 1\n');
    expect(text).toContain('spotjobs_claims_lost_total{queue="builds",type="compile"} 1\n');
    expect(text).toContain('spotjobs_checkpoints_total{queue="builds",type="compile"} 2\n');
    expect(text).toContain('spotjobs_checkpoint_bytes_total{queue="builds",type="compile"} 200\n');
    expect(text).toContain('spotjobs_checkpoints_total{queue="builds",type="unknown"} 1\n');
    expect(text).toContain('spotjobs_checkpoint_bytes_total{queue="builds",type="unknown"} 5\n');
    // A deferral gives the message back but is its own outcome, not a release.
    expect(text).not.toContain('spotjobs_job_releases_total{queue="builds",reason="deferred"}');
  });

  it('counts handled interruptions and observes their reaction latency in seconds', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'q' });
    // Only a handled notice counts: the raw notice event alone changes nothing.
    runner.emit('interruption', { kind: 'terminate', at: 1_000, source: 'imds' }, 'stop');
    runner.emit('interruption:handled', {
      kind: 'terminate',
      source: 'imds',
      reaction: 'stop',
      latencyMs: 40_000,
    });
    runner.emit('interruption:handled', {
      kind: 'rebalance',
      source: 'imds',
      reaction: 'pause',
      latencyMs: 0,
    });
    runner.emit('interruption:handled', {
      kind: 'hibernate',
      source: 'sleep-hook',
      reaction: 'hold',
      latencyMs: 300,
    });
    runner.emit('interruption:handled', {
      kind: 'resume',
      source: 'sleep-hook',
      reaction: 'revalidate',
      latencyMs: 1_500,
    });
    runner.emit('interruption:handled', {
      kind: 'resume',
      source: 'sleep-hook',
      reaction: 'revalidate',
      latencyMs: 60,
    });
    const text = registry.render();
    expect(text).toContain(
      'spotjobs_interruptions_total{queue="q",kind="terminate",source="imds",reaction="stop"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruptions_total{queue="q",kind="rebalance",source="imds",reaction="pause"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruptions_total{queue="q",kind="hibernate",source="sleep-hook",reaction="hold"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruptions_total{queue="q",kind="resume",source="sleep-hook",reaction="revalidate"} 2\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_bucket{queue="q",kind="terminate",reaction="stop",le="30"} 0\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_bucket{queue="q",kind="terminate",reaction="stop",le="60"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_sum{queue="q",kind="terminate",reaction="stop"} 40\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_bucket{queue="q",kind="rebalance",reaction="pause",le="0.01"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_bucket{queue="q",kind="resume",reaction="revalidate",le="0.1"} 1\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_bucket{queue="q",kind="resume",reaction="revalidate",le="2.5"} 2\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_sum{queue="q",kind="resume",reaction="revalidate"} 1.56\n',
    );
    expect(text).toContain(
      'spotjobs_interruption_reaction_seconds_count{queue="q",kind="hibernate",reaction="hold"} 1\n',
    );
    expect(text).not.toContain('source="imds",reaction="stop"} 2');
  });

  it('counts re-validations by trigger, with the leases and claims they found lost', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'q' });
    const check = { leases: 4, claims: 2, unconfirmed: 0, durationMs: 80 };
    runner.emit('leases:revalidated', { ...check, trigger: 'resume', leasesLost: 1, claimsLost: 0 });
    runner.emit('leases:revalidated', { ...check, trigger: 'resume', leasesLost: 2, claimsLost: 1 });
    runner.emit('leases:revalidated', { ...check, trigger: 'clock-jump', leasesLost: 0, claimsLost: 0 });
    const text = registry.render();
    expect(text).toContain('spotjobs_revalidations_total{queue="q",trigger="resume"} 2\n');
    expect(text).toContain('spotjobs_revalidations_total{queue="q",trigger="clock-jump"} 1\n');
    expect(text).toContain('spotjobs_revalidation_leases_lost_total{queue="q",trigger="resume"} 3\n');
    expect(text).toContain('spotjobs_revalidation_claims_lost_total{queue="q",trigger="resume"} 1\n');
    // A clean re-validation still shows its zeros, so a rate over it reads 0, not "no data".
    expect(text).toContain('spotjobs_revalidation_leases_lost_total{queue="q",trigger="clock-jump"} 0\n');
    expect(text).toContain('spotjobs_revalidation_claims_lost_total{queue="q",trigger="clock-jump"} 0\n');
  });

  it('reads claims held and pause holds from stats() at scrape time, when the runner reports them', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    instrumentRunner(runner, registry, { queue: 'q' });
    expect(registry.render()).not.toMatch(/^spotjobs_(claims_held|runner_paused)\{/m);

    runner.snapshot = { state: 'RUNNING', inFlight: 2, concurrency: 4, claims: 2, pausedBy: [] };
    let text = registry.render();
    expect(text).toContain('spotjobs_claims_held{queue="q"} 2\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="manual"} 0\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="rebalance"} 0\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="hibernate"} 0\n');

    runner.snapshot = {
      state: 'RUNNING',
      inFlight: 1,
      concurrency: 4,
      claims: 1,
      pausedBy: ['rebalance', 'hibernate'],
    };
    text = registry.render();
    expect(text).toContain('spotjobs_claims_held{queue="q"} 1\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="manual"} 0\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="rebalance"} 1\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="hibernate"} 1\n');

    runner.snapshot = { state: 'RUNNING', inFlight: 0, concurrency: 4, claims: 0, pausedBy: ['manual'] };
    text = registry.render();
    expect(text).toContain('spotjobs_claims_held{queue="q"} 0\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="manual"} 1\n');
    expect(text).toContain('spotjobs_runner_paused{queue="q",by="hibernate"} 0\n');
  });

  it('lets two runners share a registry, told apart by the queue label', () => {
    const [a, b] = [new FakeRunner(), new FakeRunner()];
    const registry = new MetricsRegistry();
    instrumentRunner(a, registry, { queue: 'a' });
    instrumentRunner(b, registry, { queue: 'b' });
    a.emit('polled', 1);
    b.emit('polled', 2);
    b.snapshot = { state: 'STOPPED', inFlight: 0, concurrency: 1 };
    const text = registry.render();
    expect(text).toContain('spotjobs_messages_received_total{queue="a"} 1\n');
    expect(text).toContain('spotjobs_messages_received_total{queue="b"} 2\n');
    expect(text).toContain('spotjobs_runner_state{queue="a",state="INITIALIZED"} 1\n');
    expect(text).toContain('spotjobs_runner_state{queue="b",state="STOPPED"} 1\n');
    expect(text.match(/# TYPE spotjobs_polls_total counter/g)).toHaveLength(1);
  });

  it('detaches: no more counting and no more stats reads after the returned function is called', () => {
    const runner = new FakeRunner();
    const registry = new MetricsRegistry();
    const detach = instrumentRunner(runner, registry, { queue: 'q' });
    runner.snapshot = { state: 'RUNNING', inFlight: 2, concurrency: 4, stuck: 1 };
    runner.emit('polled', 1);
    expect(registry.render()).toContain('spotjobs_jobs_stuck{queue="q"} 1\n');
    detach();
    runner.emit('polled', 5);
    runner.snapshot = { state: 'STOPPED', inFlight: 0, concurrency: 4, stuck: 0 };
    const text = registry.render();
    expect(text).toContain('spotjobs_messages_received_total{queue="q"} 1\n');
    expect(text).toContain('spotjobs_runner_state{queue="q",state="RUNNING"} 1\n');
  });
});
