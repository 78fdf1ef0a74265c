import { describe, expect, it } from 'vitest';
import { Band, byViewport, viewportRank, type Viewport } from './viewport-order';

const image = (name: string, top: number, opts: { height?: number; visible?: boolean; frameId?: number } = {}) => ({
  name,
  frameId: opts.frameId ?? 0,
  found: { top, height: opts.height ?? 100, visible: opts.visible ?? false },
});
const order = (images: ReturnType<typeof image>[], viewport: Viewport | null) => [...images].sort(byViewport(viewport)).map((i) => i.name);

describe('viewport order', () => {
  it('without a reported viewport: shown when reported first, then top to bottom', () => {
    const images = [image('far', 3000), image('seen', 500, { visible: true }), image('top', 0), image('seen-too', 100, { visible: true })];
    expect(order(images, null)).toEqual(['seen-too', 'seen', 'top', 'far']);
  });

  it('after scrolling: what is on screen, then what is near it (either side, nearest first), then the rest', () => {
    // The person scrolled to 4000–4800: the images reported visible at the top are now far above.
    const viewport = { top: 4000, height: 800 };
    const images = [
      image('first-screen', 0, { visible: true }),
      image('just-above', 3850),
      image('on-screen-lower', 4500),
      image('on-screen', 4100),
      image('straddles-top', 3950),
      image('just-below', 4850),
      image('a-screen-below', 5500),
      image('far-below', 9000),
    ];
    expect(order(images, viewport)).toEqual(['straddles-top', 'on-screen', 'on-screen-lower', 'just-above', 'just-below', 'a-screen-below', 'first-screen', 'far-below']);
  });

  it('bands: touching the viewport edge is near, not visible; past one screen is far', () => {
    const viewport = { top: 1000, height: 500 };
    expect(viewportRank(image('edge', 1500), viewport).band).toBe(Band.Near);
    expect(viewportRank(image('inside', 1499, { height: 10 }), viewport).band).toBe(Band.Visible);
    expect(viewportRank(image('near', 1999), viewport)).toEqual({ band: Band.Near, distance: 499 });
    expect(viewportRank(image('far', 2001), viewport)).toEqual({ band: Band.Far, distance: 501 });
  });

  it("another frame's images keep their report's order: the top frame's scroll says nothing about them", () => {
    const viewport = { top: 4000, height: 800 };
    const images = [image('frame-hidden', 4100, { frameId: 3 }), image('frame-shown', 50, { frameId: 3, visible: true }), image('top-frame-far', 20000)];
    expect(order(images, viewport)).toEqual(['frame-shown', 'frame-hidden', 'top-frame-far']);
  });
});
