// Public entry points of the `nimbus` package: start a node, and the types users meet.

export { startServer, type NimbusServer, type RootCredentials } from './server/nimbus-server.js';
export type { ServerOptionsInput, ServerLogger } from './server/server-options.js';
export { NimbusError, ERROR_CODES, type ErrorCode } from './errors.js';
export type {
  FunctionConfig,
  FunctionVersion,
  Alias,
  RuntimeName,
  IsolationTier,
} from './functions/function-model.js';
