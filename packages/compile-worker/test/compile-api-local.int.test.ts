// The compile API over real HTTP on the embedded default backend (SQLite + files in a temp dir).
import { localBackend } from './support/api-backends.ts';
import { compileApiSuite } from './support/compile-api-suite.ts';

compileApiSuite('embedded default', localBackend);
