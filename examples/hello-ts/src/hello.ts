// A typed Lambda handler that imports a local module.
import { greet, type Greeting } from './greeting';

interface HelloEvent {
  name?: string;
}

interface LambdaContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export const handler = async (
  event: HelloEvent,
  context: LambdaContext,
): Promise<Greeting & { requestId: string }> => {
  return { ...greet(event.name ?? 'world'), requestId: context.awsRequestId };
};
