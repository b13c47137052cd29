import { describe, expect, it } from 'vitest';
import {
  clusterKeyProblems,
  parseClusterKey,
  stackNameFor,
  stackPrefixProblem,
} from '../src/clusters/cluster-key.ts';

const problemsOf = (key: string, action: 'create' | 'delete' = 'create') =>
  clusterKeyProblems(parseClusterKey(key, 'home/', action)!, 'af');

describe('cluster request keys', () => {
  it('takes home/<uid>/<NAME>.cf-create apart; answers sit beside the request', () => {
    expect(parseClusterKey('home/alice/demo.cf-create', 'home/', 'create')).toEqual({
      action: 'create',
      key: 'home/alice/demo.cf-create',
      base: 'home/alice/demo',
      uid: 'alice',
      extraFolders: [],
      name: 'demo',
    });
    expect(parseClusterKey('home/alice/demo.cf-delete', 'home/', 'delete')?.base).toBe('home/alice/demo');
  });

  it('is not a request: other suffixes (answers included), other prefixes, no user folder', () => {
    expect(parseClusterKey('home/alice/demo.cf-created', 'home/', 'create')).toBeUndefined();
    expect(parseClusterKey('home/alice/demo.cf-create', 'home/', 'delete')).toBeUndefined();
    expect(parseClusterKey('users/alice/demo.cf-create', 'home/', 'create')).toBeUndefined();
    expect(parseClusterKey('home/demo.cf-create', 'home/', 'create')).toBeUndefined();
  });

  it('accepts af-user names and IAM-like user ids made of letters, digits and hyphens', () => {
    expect(problemsOf('home/alice/demo.cf-create')).toEqual([]);
    expect(problemsOf('home/Jane-Doe2/Cluster-7.cf-create')).toEqual([]);
  });

  it('refuses names CloudFormation would refuse or that would blur the namespace', () => {
    expect(problemsOf('home/alice/9lives.cf-create')).toEqual([
      'cluster name "9lives" must start with a letter and have at most 40 letters, digits and single inner hyphens',
    ]);
    expect(problemsOf('home/alice/a--b.cf-create')).toHaveLength(1);
    expect(problemsOf('home/alice/demo-.cf-create')).toHaveLength(1);
    expect(problemsOf('home/alice/my cluster.cf-create')).toHaveLength(1);
    expect(problemsOf(`home/alice/${'a'.repeat(41)}.cf-create`)).toHaveLength(1);
    expect(problemsOf('home/alice/.cf-create')).toHaveLength(1);
  });

  it('refuses user ids that cannot become part of a stack name', () => {
    expect(problemsOf('home/john.smith/demo.cf-create')).toEqual([
      'user id "john.smith" must be 1-64 letters, digits and single inner hyphens',
    ]);
    expect(problemsOf('home/al--ice/demo.cf-create')).toHaveLength(1);
    expect(problemsOf(`home/${'u'.repeat(65)}/demo.cf-create`)).toHaveLength(1);
  });

  it('refuses requests in sub-folders of the user folder', () => {
    expect(problemsOf('home/alice/bob/demo.cf-create')).toEqual([
      'requests must sit directly in your folder, not in bob/',
    ]);
  });

  it('namespaces stacks by user id, unambiguously', () => {
    expect(stackNameFor('af', 'alice', 'demo')).toBe('af--alice--demo');
    // Hyphens inside ids and names never form the "--" separator, so no two requests share a stack.
    expect(stackNameFor('af', 'a-b', 'c')).not.toBe(stackNameFor('af', 'a', 'b-c'));
    expect(problemsOf(`home/${'u'.repeat(64)}/${'n'.repeat(40)}.cf-create`)).toEqual([]);
    expect(stackPrefixProblem('af')).toBeUndefined();
    expect(stackPrefixProblem('1af')).toBeDefined();
    expect(stackPrefixProblem('a-f')).toBeDefined();
  });
});
