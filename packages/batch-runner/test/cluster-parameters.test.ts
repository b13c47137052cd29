import { describe, expect, it } from 'vitest';
import {
  afUserParameterPolicy,
  type ParameterPolicy,
  parameterPolicyProblems,
  resolveParameters,
} from '../src/clusters/cluster-parameters.ts';

const defaults = {
  ComputeInstanceType: 'other',
  ComputeInstanceTypeOther: 'c4.large-2C-3.75GB',
  MasterInstanceType: 'other',
  MasterInstanceTypeOther: 'c4.large-2C-3.75GB',
  ComputeSpotPrice: '0.03',
  AutoscalingPolicy: 'enabled',
  ComputeInitialNodes: '1',
  ComputeMaxNodes: '4',
  MasterSystemVolumeSize: '16',
  AccessUsername: 'alice',
  FlightProfiles: 'alice',
};

describe('cluster parameters', () => {
  it("gives af-user's defaults with the login name and profile set from the user id", () => {
    expect(resolveParameters(afUserParameterPolicy, {}, 'alice')).toEqual({ parameters: defaults });
  });

  it("merges af-user's example request (strings for numbers), within the bounds", () => {
    const request = {
      ComputeInstanceType: 'other',
      ComputeSpotPrice: '0.03',
      ComputeInstanceTypeOther: 'r4.large-2C-15.25GB',
      MasterSystemVolumeSize: '16',
      MasterInstanceType: 'other',
      ComputeMaxNodes: '8',
      MasterInstanceTypeOther: 'r4.large-2C-15.25GB',
      ComputeInitialNodes: '0',
      AutoscalingPolicy: 'enabled',
    };

    expect(resolveParameters(afUserParameterPolicy, request, 'alice')).toEqual({
      parameters: { ...defaults, ...request },
    });
  });

  it('takes JSON numbers and writes them as CloudFormation strings', () => {
    const resolved = resolveParameters(
      afUserParameterPolicy,
      { ComputeMaxNodes: 6, ComputeSpotPrice: 0.5 },
      'alice',
    );

    expect(resolved).toMatchObject({ parameters: { ComputeMaxNodes: '6', ComputeSpotPrice: '0.5' } });
  });

  it('refuses overriding the login name or the profile (af-user let users take over both)', () => {
    const resolved = resolveParameters(
      afUserParameterPolicy,
      { AccessUsername: 'bob', FlightProfiles: 'bob', ComputeMaxNodes: '2' },
      'alice',
    );

    expect(resolved).toEqual({
      problems: [
        '"AccessUsername" is set by the service from your user id and cannot be overridden',
        '"FlightProfiles" is set by the service from your user id and cannot be overridden',
      ],
    });
  });

  it('refuses unknown parameters (af-user ignored them silently) and lists the allowed ones', () => {
    const resolved = resolveParameters(
      afUserParameterPolicy,
      { KeyPair: 'mine', ComputeMaxNodes: '2' },
      'alice',
    );

    expect(resolved).toEqual({
      problems: [
        '"KeyPair" is not a parameter you can set',
        'parameters you can set: AutoscalingPolicy, ComputeInitialNodes, ComputeInstanceType, ComputeInstanceTypeOther, ComputeMaxNodes, ComputeSpotPrice, MasterInstanceType, MasterInstanceTypeOther, MasterSystemVolumeSize',
      ],
    });
  });

  it('refuses values of the wrong type or outside the bounds, every problem at once', () => {
    const resolved = resolveParameters(
      afUserParameterPolicy,
      {
        ComputeMaxNodes: '25',
        ComputeInitialNodes: 1.5,
        ComputeSpotPrice: 'cheap',
        AutoscalingPolicy: 'sometimes',
        MasterInstanceTypeOther: 'p4d.24xlarge; rm -rf /',
        MasterSystemVolumeSize: true,
        ComputeInstanceType: null,
        MasterInstanceType: ['other'],
      },
      'alice',
    );

    expect(resolved).toEqual({
      problems: [
        '"ComputeMaxNodes" must be between 1 and 8',
        '"ComputeInitialNodes" must be a whole number',
        '"ComputeSpotPrice" must be a number',
        '"AutoscalingPolicy" must be one of "enabled", "disabled"',
        '"MasterInstanceTypeOther" has the wrong form',
        '"MasterSystemVolumeSize" must be a whole number',
        '"ComputeInstanceType" must be a string',
        '"MasterInstanceType" must be a string',
      ],
    });
  });

  it('refuses more initial nodes than the maximum', () => {
    expect(
      resolveParameters(afUserParameterPolicy, { ComputeInitialNodes: 6, ComputeMaxNodes: 2 }, 'alice'),
    ).toEqual({
      problems: ['"ComputeInitialNodes" (6) must not be above "ComputeMaxNodes" (2)'],
    });
  });

  it('refuses a request that is not a JSON object, and keeps hostile requests short', () => {
    expect(resolveParameters(afUserParameterPolicy, ['ComputeMaxNodes'], 'alice')).toEqual({
      problems: ['the request must be a JSON object of parameter names to values'],
    });
    expect(resolveParameters(afUserParameterPolicy, 'x', 'alice')).toHaveProperty('problems');
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`P${i}${'x'.repeat(200)}`, 1]));
    const resolved = resolveParameters(afUserParameterPolicy, many, 'alice') as { problems: string[] };
    expect(resolved.problems).toHaveLength(21);
    expect(resolved.problems.at(-1)).toBe('and 481 more problems');
    expect(resolved.problems[0]!.length).toBeLessThan(120);
  });

  it('does not let __proto__ or constructor keys through', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "x"}') as unknown;

    expect(resolveParameters(afUserParameterPolicy, hostile, 'alice')).toMatchObject({
      problems: [
        '"__proto__" is not a parameter you can set',
        '"constructor" is not a parameter you can set',
        expect.any(String),
      ],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('finds the mistakes in a policy', () => {
    const policy: ParameterPolicy = {
      overridable: {
        Nodes: { type: 'integer', min: 5, max: 1 },
        Size: { type: 'integer', min: 1, max: 10, default: 20, notAbove: 'Missing' },
        Kind: { type: 'string', pattern: '([a-z', maxLength: 5 },
        AccessUsername: { type: 'enum', values: ['x'] },
        'Bad-Name': { type: 'enum', values: ['x'] },
      },
      fixed: { AccessUsername: '{uid}' },
    };

    expect(parameterPolicyProblems(policy)).toEqual([
      '"Bad-Name": not a CloudFormation parameter name',
      'Nodes: min 5 is above max 1',
      'Size: notAbove names no numeric overridable parameter',
      'Size: default must be between 1 and 10',
      'Kind: pattern does not compile',
      'AccessUsername: both fixed and overridable',
    ]);
    expect(parameterPolicyProblems(afUserParameterPolicy)).toEqual([]);
  });
});
