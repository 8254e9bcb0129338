// A local module, bundled into the function by esbuild.
export interface Greeting {
  message: string;
  at: string;
}

export function greet(name: string): Greeting {
  return { message: `Hello, ${name}!`, at: new Date().toISOString() };
}
