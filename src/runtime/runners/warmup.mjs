// Throw-away handler node-runner.cjs loads and invokes once at start (pre-started runners only), to warm its code paths.
// ESM on purpose: importing it initialises the ESM loader, the costly part of a first import().
export const handler = async (event, context) => {
  console.log('warm', event, context.getRemainingTimeInMillis());
  return { ok: true };
};
