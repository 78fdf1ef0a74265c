import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelSpec } from '../engine/types';
import type { ModelSource } from './protocol';
import type { LaneReply, LaneRequest } from './lane-protocol';
import { LANE_BATCH, VisionLanes, type ImageEmbedder } from './vision-lanes';

const SIZE = 2;
const PER = 3 * SIZE * SIZE;

/** Images whose pixels are all their own number: image k is filled with k. */
function images(first: number, count: number): Float32Array {
  const pixels = new Float32Array(count * PER);
  for (let i = 0; i < count; i++) pixels.fill(first + i, i * PER, (i + 1) * PER);
  return pixels;
}

/** The row an embedder gives an image: [its number, who ran it]. */
const rowsOf = (pixels: Float32Array, count: number, by: number) => Array.from({ length: count }, (_, i) => Float32Array.of(pixels[i * PER], by));

const ENGINE = 0;
const LANE = 1;

class Engine implements ImageEmbedder {
  readonly runs: number[][] = [];
  async embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    expect(pixels.length).toBe(count * PER);
    this.runs.push(rowsOf(pixels, count, ENGINE).map((r) => r[0]));
    return rowsOf(pixels, count, ENGINE);
  }
}

/** A stand-in for vision-lane-worker.ts: answers as the worker does, or as told to fail. */
class FakeLane extends EventTarget {
  readonly requests: LaneRequest[] = [];
  readonly transfers: Transferable[][] = [];
  terminated = false;
  failOpen: string | null = null;
  failRuns = false;

  postMessage(request: LaneRequest, transfer: Transferable[]): void {
    this.requests.push(request);
    this.transfers.push(transfer);
    let reply: LaneReply;
    if (request.op === 'open') reply = this.failOpen ? { id: request.id, ok: false, error: this.failOpen } : { id: request.id, ok: true };
    else if (this.failRuns) reply = { id: request.id, ok: false, error: 'out of memory' };
    else reply = { id: request.id, ok: true, rows: rowsOf(request.pixels, request.count, LANE) };
    setTimeout(() => this.dispatchEvent(Object.assign(new Event('message'), { data: reply })), 1);
  }

  terminate(): void {
    this.terminated = true;
  }
}

const SPEC = { id: 'fixture', imageSize: SIZE } as ModelSpec;
const SOURCE: ModelSource = { kind: 'bundled', baseUrl: 'models' };

function setUp(startWorker: () => Worker = () => lane as unknown as Worker, lane = new FakeLane()) {
  const host = { threads: 1, spec: SPEC, source: SOURCE, startWorker: vi.fn(startWorker) };
  return { lane, host, lanes: new VisionLanes(host), engine: new Engine() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const numbers = (rows: Float32Array[]) => rows.map((r) => r[0]);
const runners = (rows: Float32Array[]) => rows.map((r) => r[1]);

describe('VisionLanes', () => {
  afterEach(() => vi.restoreAllMocks());

  it('starts the lane\'s worker at once, runs the first images on the engine alone, then opens the lane', async () => {
    const { lane, host, lanes, engine } = setUp();
    expect(host.startWorker).toHaveBeenCalledTimes(1);
    expect(lane.requests).toEqual([]);
    const rows = await lanes.embedImages(engine, images(1, 4), 4);
    expect(numbers(rows)).toEqual([1, 2, 3, 4]);
    expect(runners(rows)).toEqual([ENGINE, ENGINE, ENGINE, ENGINE]);
    await settle();
    expect(lanes.open).toBe(true);
    // The lane reads the vision graph itself, from where the engine's files are.
    expect(lane.requests[0]).toMatchObject({ op: 'open', spec: SPEC, source: SOURCE, threads: 1, maxBatch: LANE_BATCH });
  });

  it('opens the lane when told the engine\'s vision session is open, once', async () => {
    const { host, lanes, engine } = setUp();
    lanes.start();
    lanes.start();
    await settle();
    expect(lanes.open).toBe(true);
    expect(host.startWorker).toHaveBeenCalledTimes(1);
    // Its first run is already split.
    expect(runners(await lanes.embedImages(engine, images(1, 2), 2))).toEqual([ENGINE, LANE]);
  });

  it('splits a batch once the lane is open: the first half on the engine, the rest on the lane, in order', async () => {
    const { lane, lanes, engine } = setUp();
    await lanes.embedImages(engine, images(1, 2), 2);
    await settle();
    const rows = await lanes.embedImages(engine, images(10, 7), 7);
    expect(numbers(rows)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(runners(rows)).toEqual([ENGINE, ENGINE, ENGINE, ENGINE, LANE, LANE, LANE]);
    const run = lane.requests[1];
    expect(run).toMatchObject({ op: 'images', count: 3 });
    // The lane gets its own copy of its half (transferred), the caller's pixels stay readable.
    expect(lane.transfers[1]).toEqual([(run as { pixels: Float32Array }).pixels.buffer]);
    // A single image is not split.
    expect(runners(await lanes.embedImages(engine, images(20, 1), 1))).toEqual([ENGINE]);
  });

  it('gives the reason and runs every batch on the engine when the lane does not open', async () => {
    const { lane, lanes, engine } = setUp();
    lane.failOpen = 'not enough memory';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await lanes.embedImages(engine, images(1, 2), 2);
    await settle();
    expect(lanes.open).toBe(false);
    expect(lanes.failure).toBe('the second vision session is not used: it did not open: not enough memory');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('not enough memory'));
    expect(lane.terminated).toBe(true);
    expect(runners(await lanes.embedImages(engine, images(5, 4), 4))).toEqual([ENGINE, ENGINE, ENGINE, ENGINE]);
    expect(lane.requests).toHaveLength(1);
  });

  it('loses no image when a lane run fails: its half runs on the engine, and the lane is not used again', async () => {
    const { lane, lanes, engine } = setUp();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await lanes.embedImages(engine, images(1, 2), 2);
    await settle();
    lane.failRuns = true;
    const rows = await lanes.embedImages(engine, images(10, 4), 4);
    expect(numbers(rows)).toEqual([10, 11, 12, 13]);
    expect(runners(rows)).toEqual([ENGINE, ENGINE, ENGINE, ENGINE]);
    expect(engine.runs.slice(-2)).toEqual([[10, 11], [12, 13]]);
    expect(lanes.failure).toContain('its run failed: out of memory');
    expect(lanes.open).toBe(false);
  });

  it('a lane whose worker cannot start stays shut, with the reason', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { lanes, engine } = setUp(() => {
      throw new Error('workers are not allowed here');
    });
    expect(lanes.failure).toBe('the second vision session is not used: its worker did not start: workers are not allowed here');
    lanes.start();
    expect(runners(await lanes.embedImages(engine, images(1, 2), 2))).toEqual([ENGINE, ENGINE]);
    expect(lanes.open).toBe(false);
  });

  it('dispose stops the lane, and runs waiting on it go on without it', async () => {
    const { lane, lanes, engine } = setUp();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await lanes.embedImages(engine, images(1, 2), 2);
    await settle();
    // Disposed while a split run waits for the lane's answer (the lane answers 1 ms later).
    const running = lanes.embedImages(engine, images(10, 4), 4);
    lanes.dispose();
    expect(lane.terminated).toBe(true);
    expect(numbers(await running)).toEqual([10, 11, 12, 13]);
    expect(lanes.open).toBe(false);
  });
});
