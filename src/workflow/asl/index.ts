// The Amazon States Language module's public surface: parse and validate definitions, and the
// pure step API the durable executor drives.

export type {
  Json,
  JsonObject,
  QueryLanguage,
  StateDefinition,
  StateMachine,
  StateType,
} from './asl-types.js';
export { defaultEnvironment, type AslEnvironment } from './asl-environment.js';
export {
  buildContextObject,
  type ExecutionFacts,
  type MapItemFacts,
  type StateFacts,
} from './context-object.js';
export { formatInvalidDefinition, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
export { parseDefinition, type ParseOptions, type ParseResult } from './validate-definition.js';
export {
  applyAssign,
  completeState,
  enterState,
  evaluateState,
  innerScopes,
  mapFailureExceeded,
} from './state-step.js';
export { mapItemInputs } from './map-items.js';
export { errorMatches } from './retry-catch.js';
export {
  isStatesError,
  MAX_PAYLOAD_BYTES,
  STATES_ERRORS,
  StatesError,
  UNCATCHABLE_ERRORS,
} from './states-errors.js';
export type {
  MapOutcome,
  StateFrame,
  StateOutcome,
  StepInput,
  TaskResult,
  TransitionOutcome,
  VariableScopes,
} from './step-types.js';
