// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import {
  checkImports,
  checkOutputDocumentation,
  checkOutputs,
  documentedOutputs,
} from '../src/check-outputs.ts';
import { parseTemplate } from '../src/template-file.ts';

const network = parseTemplate(`
Resources:
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.0.0.0/16 } }
Outputs:
  VpcId:
    Description: the VPC
    Value: !Ref Vpc
    Export: { Name: !Sub '\${AWS::StackName}-VpcId' }
  PrivateSubnetIds:
    Description: private subnets
    Value: a,b,c
    Export: { Name: !Sub '\${AWS::StackName}-PrivateSubnetIds' }
`);

const readme = `# deploy

## Outputs

### network.yaml

Imported by every other stack.

| Output | Value |
| --- | --- |
| \`VpcId\` | the VPC |
| \`PrivateSubnetIds\` | three private subnets |

### fossa.yaml

| Output | Value |
| --- | --- |
| \`GatewayUrl\` | the gateway |
`;

describe('checkOutputs', () => {
  it('accepts described outputs exported as <stack>-<key>', () => {
    expect(checkOutputs(network)).toEqual([]);
  });

  it('reports a missing Description, a missing export and a wrongly named export', () => {
    const findings = checkOutputs(
      parseTemplate(`
Resources: {}
Outputs:
  A: { Value: x, Export: { Name: !Sub '\${AWS::StackName}-A' } }
  B: { Value: x, Description: b }
  C: { Value: x, Description: c, Export: { Name: !Sub '\${AWS::StackName}-Other' } }
`),
    );
    expect(findings).toEqual([
      { path: 'Outputs.A', message: 'output A has no Description' },
      { path: 'Outputs.B', message: "output B must be exported as !Sub '${AWS::StackName}-B'" },
      { path: 'Outputs.C', message: "output C must be exported as !Sub '${AWS::StackName}-C'" },
    ]);
  });
});

describe('checkImports', () => {
  it('accepts imports of what the network stack exports', () => {
    const template = parseTemplate(`
Parameters:
  NetworkStack: { Type: String }
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: x
      VpcId: { 'Fn::ImportValue': !Sub '\${NetworkStack}-VpcId' }
      Tags: [{ Key: s, Value: !Select [0, !Split [',', !ImportValue { 'Fn::Sub': '\${NetworkStack}-PrivateSubnetIds' }]] }]
`);
    expect(checkImports(template, network)).toEqual([]);
  });

  it('reports an import the network stack does not export, and one not named by the contract', () => {
    const template = parseTemplate(`
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: x
      VpcId: !ImportValue { 'Fn::Sub': '\${NetworkStack}-VpcCidr' }
      Tags: [{ Key: s, Value: !ImportValue 'network-VpcId' }]
`);
    expect(checkImports(template, network)).toEqual([
      { path: 'Resources.Sg.Properties.VpcId', message: 'the network stack exports no output VpcCidr' },
      {
        path: 'Resources.Sg.Properties.Tags[0].Value',
        message: "Fn::ImportValue must be !Sub '${NetworkStack}-<Output>' (the network contract)",
      },
    ]);
  });
});

describe('output documentation', () => {
  it('reads the keys of the table under the template heading, up to the next heading', () => {
    expect(documentedOutputs(readme, 'network.yaml')).toEqual(['VpcId', 'PrivateSubnetIds']);
    expect(documentedOutputs(readme, 'fossa.yaml')).toEqual(['GatewayUrl']);
    expect(documentedOutputs(readme, 'batch.yaml')).toBeUndefined();
  });

  it('accepts a template whose outputs match its table', () => {
    expect(checkOutputDocumentation('network.yaml', network, readme)).toEqual([]);
  });

  it('reports undocumented outputs, documented keys the template lacks, and a missing section', () => {
    const fossa = parseTemplate(`
Resources: {}
Outputs:
  GatewayUri: { Value: x }
`);
    expect(checkOutputDocumentation('fossa.yaml', fossa, readme)).toEqual([
      { path: 'Outputs.GatewayUri', message: 'output GatewayUri is not documented in deploy/README.md' },
      { path: 'Outputs', message: 'deploy/README.md documents GatewayUrl, which fossa.yaml does not output' },
    ]);
    expect(checkOutputDocumentation('batch.yaml', fossa, readme)).toEqual([
      {
        path: 'Outputs',
        message: 'deploy/README.md has no "### batch.yaml" section documenting the outputs',
      },
    ]);
  });
});
