// Throw-away handler node-runner.mjs loads and invokes once at start, to warm its code paths.
export const handler = async (event, context) => {
  console.log('warm', event, context.getRemainingTimeInMillis());
  return { ok: true };
};
