// The operator's first stop (docs/operations.md): each system stack has a dashboard whose body
// is valid JSON once CloudFormation substitutes it, and an alarm on its dead letters.
import { describe, expect, it } from 'vitest';
import { parseSubString, subArgument } from '../src/sub-template.ts';
import { loadTemplate, type Template, type TemplateResource } from '../src/template-file.ts';
import { intrinsicOf } from '../src/template-intrinsics.ts';

const systems = ['compile-farm', 'fossa', 'batch'] as const;

function ofType(template: Template, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The dashboard body as CloudFormation would hand it over, every variable a harmless word. */
function substitutedBody(dashboard: TemplateResource): unknown {
  const call = intrinsicOf(dashboard.Properties?.DashboardBody);
  const sub = call?.name === 'Fn::Sub' ? subArgument(call.argument) : undefined;
  if (!sub) throw new Error('DashboardBody must be a Fn::Sub string');
  const text = parseSubString(sub.text)
    .map((part) => ('literal' in part ? part.literal : `sample-${part.variable.replace(/\W/g, '-')}`))
    .join('');
  return JSON.parse(text);
}

describe.each(systems)('%s.yaml dashboard and alarms', (system) => {
  const template = loadTemplate(new URL(`../templates/${system}.yaml`, import.meta.url));

  it('has one dashboard whose widgets parse as JSON and stay in the stack’s region', () => {
    const dashboards = ofType(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = substitutedBody(dashboards[0]?.[1] as TemplateResource) as {
      widgets: { type: string; properties: { region: string; title: string } }[];
    };
    expect(body.widgets.length).toBeGreaterThanOrEqual(3);
    for (const widget of body.widgets) {
      expect(['metric', 'log']).toContain(widget.type);
      expect(widget.properties.region).toBe('sample-AWS--Region');
      expect(widget.properties.title).not.toBe('');
    }
  });

  it('alarms on dead letters, notifying the optional topic', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties ?? {});
    const deadLetters = alarms.filter(
      (alarm) => alarm.Namespace === 'AWS/SQS' && alarm.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    const watched = deadLetters.map(
      (alarm) =>
        ((alarm.Dimensions as { Value: { 'Fn::GetAtt'?: string[] } }[])[0]?.Value['Fn::GetAtt'] ?? [])[0],
    );
    expect(watched.some((queue) => /DeadLetterQueue$/.test(queue ?? ''))).toBe(true);
    for (const alarm of alarms) {
      expect(alarm.TreatMissingData).toBe('notBreaching');
      expect(alarm.AlarmActions).toEqual({
        'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
      });
    }
  });
});
