// The CloudFormation resource specification, from the maintained @aws-cdk/aws-service-spec
// database (a gzipped JSON of every resource type, property, nested type and GetAtt attribute).
// Loading it takes a few hundred milliseconds, so it is loaded once per process and shared.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';

export type { PropertyType, Resource as SpecResource, TypeDefinition };

/** Lookups the template checks need. */
export interface ResourceSpec {
  /** The resource type, e.g. `AWS::SQS::Queue`; undefined when CloudFormation has no such type. */
  resourceType(cloudFormationType: string): Resource | undefined;
  /** The nested property type (struct) a `{ type: 'ref' }` property type points to. */
  typeDefinition(reference: { readonly $ref: string }): TypeDefinition;
}

let loading: Promise<ResourceSpec> | undefined;

function wrap(db: SpecDatabase): ResourceSpec {
  return {
    resourceType: (cloudFormationType) => {
      const found = db.lookup('resource', 'cloudFormationType', 'equals', cloudFormationType);
      return found.length === 1 ? found[0] : undefined;
    },
    typeDefinition: (reference) => db.get('typeDefinition', reference),
  };
}

/**
 * Loads the resource specification (once; later calls share the first load).
 *
 * @example
 * ```ts
 * const spec = await loadResourceSpec();
 * Object.keys(spec.resourceType('AWS::SQS::Queue')?.attributes ?? {}); // ['Arn', 'QueueName', 'QueueUrl']
 * ```
 */
export function loadResourceSpec(): Promise<ResourceSpec> {
  loading ??= loadAwsServiceSpec().then(wrap);
  return loading;
}
