import { type ModelClass, ModelRegistry } from '../model/model-registry.ts';
import { DatasetCopyEtl } from './dataset-copy-etl.ts';
import { HalfSecondEtl } from './half-second-etl.ts';
import { LongRunningEtl } from './long-running-etl.ts';
import { NothingEtl } from './nothing-etl.ts';
import { PartialFailure } from './partial-failure.ts';
import { PartitionedExampleEtl } from './partitioned-example-etl.ts';
import { SecondTimeLucky } from './second-time-lucky.ts';
import { StaggeredEtl } from './staggered-etl.ts';

/** The models of Fossa's own integration tests (`examples/example_etl.py`), and `DatasetCopyEtl`. */
export const exampleModels: readonly ModelClass[] = [
  NothingEtl,
  PartitionedExampleEtl,
  LongRunningEtl,
  PartialFailure,
  SecondTimeLucky,
  HalfSecondEtl,
  StaggeredEtl,
  DatasetCopyEtl,
];

/**
 * A registry accepting the example models under their class names: the embedded default's
 * allow-list, and the one Fossa's integration contract is tested with.
 *
 * @example
 * ```ts
 * const registry = exampleModelRegistry();
 * registry.names(); // ['DatasetCopyEtl', 'HalfSecondEtl', 'LongRunningEtl', 'NothingEtl', ...]
 * ```
 */
export function exampleModelRegistry(): ModelRegistry {
  return ModelRegistry.of(exampleModels);
}
