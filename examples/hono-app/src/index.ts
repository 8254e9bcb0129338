// A Hono app, unchanged from what would run on Workers, Deno or Bun: `export default app`.
// nimbus.yml names `src/index.default`; the runtime sees an object with `fetch` and passes it a
// Request built from the gateway's event, with the function's environment as `c.env`.
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamText } from 'hono/streaming';

type Bindings = { GREETING?: string };

const app = new Hono<{ Bindings: Bindings }>();

app.get('/', (c) => c.text('Hono on Nimbus\n'));

app.get('/hello/:name', (c) =>
  c.json({
    message: `${c.env.GREETING ?? 'Hello'}, ${c.req.param('name')}!`,
    lang: c.req.query('lang') ?? 'en',
  }),
);

app.post('/echo', async (c) => c.json({ received: await c.req.json<unknown>() }, 201));

// Cookies in and out: the runtime maps Set-Cookie to the gateway's `cookies` list.
app.get('/visits', (c) => {
  const visits = Number(getCookie(c, 'visits') ?? '0') + 1;
  setCookie(c, 'visits', String(visits), { path: '/', httpOnly: true });
  return c.json({ visits });
});

// A streamed body: read to completion by the runtime, then sent as one response.
app.get('/countdown', (c) =>
  streamText(c, async (stream) => {
    for (let i = 3; i > 0; i--) {
      await stream.writeln(String(i));
      await stream.sleep(10);
    }
    await stream.writeln('liftoff');
  }),
);

// Binary: a 1×1 transparent GIF, returned base64-encoded with isBase64Encoded.
const PIXEL = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (ch) =>
  ch.charCodeAt(0),
);
app.get('/pixel.gif', (c) =>
  c.body(PIXEL, 200, { 'content-type': 'image/gif', 'cache-control': 'max-age=60' }),
);

// Work after the response: the invocation waits for it before it ends.
app.post('/events', async (c) => {
  const event = await c.req.json<{ name?: string }>();
  c.executionCtx.waitUntil(Promise.resolve().then(() => console.log('recorded event', event.name ?? '?')));
  return c.body(null, 202);
});

app.notFound((c) => c.json({ message: 'Not Found' }, 404));

export default app;
