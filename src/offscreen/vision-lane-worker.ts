// A second vision session with its own onnxruntime-web module, in a Worker Firefox's background
// starts (vision-lanes.ts, src/background/create-engine.ts). The engine runs half of each batch of
// images on its own session and this worker the other half, each on one thread: Firefox gives
// ORT no threads, so without it inference would use one core.
//
// Only the vision tower: queries keep going to the engine's text session.

import * as ort from 'onnxruntime-web/wasm';
import { collectReleasedSoon, releaseBuffer } from '../bytes';
import { describe } from '../errors';
import { l2normalize } from '../engine/similarity';
import { TowerSession } from '../engine/tower-session';
import { isLaneRequest, type LaneReply, type LaneRequest } from './lane-protocol';
import { readVision } from './model-source';

let session: TowerSession | null = null;
let imageSize = 0;
let maxBatch = 1;

async function handle(req: LaneRequest): Promise<{ reply: LaneReply; transfer: Transferable[] }> {
  try {
    if (req.op === 'open') {
      ort.env.wasm.numThreads = req.threads;
      imageSize = req.spec.imageSize;
      maxBatch = req.maxBatch;
      // Read here, so that the background never holds the graph's bytes for the lane.
      const graph = await readVision(req.spec, req.source);
      session = await TowerSession.open(ort, 'wasm', graph, { input: 'pixel_values', output: 'image_embeds' });
      // ORT has copied the weights into its heap.
      for (const part of [graph.model, ...(graph.externalData ?? []).map((d) => d.data)]) releaseBuffer(part.buffer);
      return { reply: { id: req.id, ok: true }, transfer: [] };
    }
    if (!session) throw new Error('the vision lane has no session open');
    try {
      const per = 3 * imageSize * imageSize;
      if (req.pixels.length !== req.count * per) throw new RangeError(`expected ${req.count * per} floats for ${req.count} images, got ${req.pixels.length}`);
      const rows = (await session.runInBatches(req.pixels, req.count, [3, imageSize, imageSize], maxBatch)).map(l2normalize);
      return { reply: { id: req.id, ok: true, rows }, transfer: rows.map((r) => r.buffer) };
    } finally {
      releaseBuffer(req.pixels.buffer);
    }
  } catch (error) {
    return { reply: { id: req.id, ok: false, error: describe(error) }, transfer: [] };
  }
}

addEventListener('message', async (event: MessageEvent) => {
  if (!isLaneRequest(event.data)) return;
  const { reply, transfer } = await handle(event.data);
  postMessage(reply, { transfer });
  collectReleasedSoon();
});
