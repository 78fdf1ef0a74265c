// Image decoding and preprocessing, in a dedicated Worker of the offscreen document (Chrome
// only), so that neither the service worker's event loop nor the engine worker's thread spends
// time on them. The service worker fetches and hashes; it transfers each file's bytes here and
// gets back the model input and the preview (prepare-image.ts), the pixels' buffer transferred.
//
// One image at a time: a full-size decode holds the whole picture several times over (bitmap,
// canvas, read-back pixels), and one such image is what this worker may cost in memory and
// cores next to the inference threads. None while the engine worker opens the vision session
// (VISION_OPENING_CHANNEL): that is when the engine holds the most.

import { ImageDecodeError } from '../engine/decode';
import { prepareImage } from '../engine/prepare-image';
import { collectReleasedSoon, releaseBuffer } from '../bytes';
import { Gate } from '../concurrency';
import { describe } from '../errors';
import { isVisionOpeningNote, VISION_OPENING_CHANNEL, type EngineReply, type EngineRequest } from './protocol';

/**
 * Longest an image holds the worker's turn. A decode that never settles must not stall every
 * image after it (the service worker's deadline has failed that image by then anyway).
 */
const TURN_MS = 30_000;

/**
 * Longest the decoder waits for the vision session to open: an engine worker that never says it
 * opened (it stopped meanwhile) must not stop decoding for good.
 */
const HOLD_MS = 10_000;

let turn: Promise<unknown> = Promise.resolve();
/** Shut while the vision session opens. */
const visionOpened = new Gate();

new BroadcastChannel(VISION_OPENING_CHANNEL).onmessage = (event: MessageEvent) => {
  if (!isVisionOpeningNote(event.data)) return;
  if (event.data.opening) visionOpened.shut(HOLD_MS);
  else visionOpened.open();
};

function inTurn<T>(task: () => Promise<T>): Promise<T> {
  const result = turn.then(() => visionOpened.passed()).then(task);
  turn = turn.then(() => Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, TURN_MS))]));
  return result;
}

async function handle(req: EngineRequest): Promise<{ reply: EngineReply; transfer: Transferable[] }> {
  if (req.op !== 'prepare') return { reply: { id: req.id, ok: false, error: `the decode worker does not do '${req.op}'` }, transfer: [] };
  try {
    const prepared = await inTurn(() => {
      const file = new Blob([req.bytes as Uint8Array<ArrayBuffer>], { type: req.type });
      // The Blob holds a copy: the bytes (an image file, up to tens of megabytes) are not kept twice.
      releaseBuffer(req.bytes.buffer);
      return prepareImage(file, req.spec);
    });
    return { reply: { id: req.id, ok: true, prepared }, transfer: [prepared.pixels.buffer] };
  } catch (error) {
    return { reply: { id: req.id, ok: false, error: error instanceof ImageDecodeError ? error.message : describe(error), refused: error instanceof ImageDecodeError }, transfer: [] };
  }
}

function serve(port: MessagePort): void {
  port.onmessage = async (e: MessageEvent<EngineRequest>) => {
    const { reply, transfer } = await handle(e.data);
    port.postMessage(reply, transfer);
    collectReleasedSoon();
  };
}

addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (port) serve(port);
});
postMessage({ type: 'ready' });
