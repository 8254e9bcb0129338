// A Lambda-style async handler: returns a JSON value for the event it is given.
export const hello = async (event, context) => {
  const name = event?.name ?? 'world';
  console.log(`greeting ${name}`);
  return {
    message: `${process.env.GREETING ?? 'Hello'}, ${name}!`,
    requestId: context.awsRequestId,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
