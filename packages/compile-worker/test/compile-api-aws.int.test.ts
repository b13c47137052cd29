// The compile API over real HTTP on the AWS adapters against the emulators (SQS and S3 on fauxqs,
// DynamoDB on dynalite), with the real AWS SDK v3 clients.
import { inject } from 'vitest';
import { emulatorBackend } from './support/api-backends.ts';
import { compileApiSuite } from './support/compile-api-suite.ts';

compileApiSuite('AWS adapters on emulators', emulatorBackend(inject('emulators')));
