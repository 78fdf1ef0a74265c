// The bench extension's engine page, opened as the offscreen document (?role=offscreen) or
// as a tab (?role=tab). Both are cross-origin-isolated extension pages (the manifest's
// COOP/COEP keys), so ORT may start WASM threads here; ?threads=N fixes the count, ?spin=0
// makes idle pool threads block instead of spin.

import * as ort from 'onnxruntime-web';
import { Runner } from './runner.ts';
import { CHANNEL, fakeRows, type PageCommand, type PageReply, type PageRole, type PixelsMessage, type RowsMessage } from './protocol.ts';

const params = new URLSearchParams(location.search);
const threads = Number(params.get('threads') ?? '1');
const role = (params.get('role') ?? 'tab') as PageRole;
const spinning = params.get('spin') !== '0';
ort.env.wasm.numThreads = threads;
const runner = new Runner(ort, threads, role === 'offscreen' ? 'offscreen document' : 'extension tab', spinning);
// For playwright's page.evaluate (tabs).
(globalThis as unknown as { runner: Runner }).runner = runner;

interface RuntimeApi {
  onMessage: { addListener(fn: (msg: unknown, sender: unknown, respond: (reply: PageReply) => void) => boolean | undefined): void };
}
const runtime = (globalThis as unknown as { chrome: { runtime: RuntimeApi } }).chrome.runtime;

runtime.onMessage.addListener((msg, _sender, respond) => {
  const cmd = msg as PageCommand;
  if (cmd?.target !== role) return undefined;
  if (cmd.type === 'echo-json') {
    const rows = fakeRows(cmd.rows, cmd.dim).map((r) => Array.from(r));
    respond({ ok: true, rows, received: cmd.pixels.length, last: cmd.pixels[cmd.pixels.length - 1] });
    return undefined;
  }
  runner.handle(cmd.cmd).then(
    (answer) => respond({ ok: true, answer }),
    (error: unknown) => respond({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
  return true; // answers asynchronously
});

if (role === 'offscreen') {
  const answer = (msg: PixelsMessage): RowsMessage => ({
    id: msg.id,
    rows: fakeRows(msg.rows, msg.dim),
    received: msg.pixels.length,
    last: msg.pixels[msg.pixels.length - 1],
  });

  // Structured clone: BroadcastChannel cannot transfer, so both directions copy.
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e: MessageEvent<PixelsMessage>) => channel.postMessage(answer(e.data));

  // Transfer: the service worker hands over a MessagePort (clients.postMessage); buffers then
  // move through it without copying.
  navigator.serviceWorker.onmessage = (e: MessageEvent) => {
    const port = e.ports[0];
    if (!port) return;
    port.onmessage = (m: MessageEvent<PixelsMessage>) => {
      const reply = answer(m.data);
      port.postMessage(reply, reply.rows.map((r) => r.buffer));
    };
    port.postMessage('ready');
  };
}
