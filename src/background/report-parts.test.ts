// A report in parts reaches the tab's state whole, once; a newer scan's parts replace an older one's.
import { describe, expect, it } from 'vitest';
import type { ContentMessage, FoundImage } from '../messages';
import { ReportAssembly } from './report-parts';

type ImagesFound = Extract<ContentMessage, { type: 'images-found' }>;

const image = (i: number): FoundImage => ({ url: `https://a.example/${i}.png`, kind: 'img', width: 48, height: 48, top: i, visible: true, alt: '' });
const part = (scan: number, index: number, count: number, from: number, n: number): ImagesFound => ({
  type: 'images-found',
  pageUrl: 'https://a.example/',
  images: Array.from({ length: n }, (_, i) => image(from + i)),
  hidden: 3,
  part: { scan, index, count },
});

describe('ReportAssembly', () => {
  it('passes a whole report through and assembles one in parts, in any order', () => {
    const reports = new ReportAssembly();
    const whole: ImagesFound = { type: 'images-found', pageUrl: 'https://a.example/', images: [image(1)], hidden: 0 };
    expect(reports.add(1, 0, whole)).toBe(whole);
    expect(reports.add(1, 0, part(1, 1, 3, 2, 2))).toBeUndefined();
    expect(reports.add(1, 0, part(1, 0, 3, 0, 2))).toBeUndefined();
    expect(reports.add(1, 5, part(7, 0, 2, 100, 1))).toBeUndefined(); // another frame's report is apart
    const done = reports.add(1, 0, part(1, 2, 3, 4, 1))!;
    expect(done.images.map((i) => i.top)).toEqual([0, 1, 2, 3, 4]);
    expect(done).toMatchObject({ hidden: 3 });
    expect(done.part).toBeUndefined();
  });

  it('drops the unfinished parts of an older scan when a newer one starts, and forgets a closed tab', () => {
    const reports = new ReportAssembly();
    expect(reports.add(2, 0, part(1, 0, 3, 0, 1))).toBeUndefined();
    expect(reports.add(2, 0, part(1, 1, 3, 1, 1))).toBeUndefined();
    expect(reports.add(2, 0, part(2, 0, 2, 10, 1))).toBeUndefined();
    expect(reports.add(2, 0, part(2, 1, 2, 11, 1))!.images.map((i) => i.top)).toEqual([10, 11]);
    // A whole report also ends an unfinished one.
    expect(reports.add(2, 0, part(3, 0, 2, 20, 1))).toBeUndefined();
    expect(reports.add(2, 0, { type: 'images-found', pageUrl: 'https://a.example/', images: [], hidden: 0 })!.images).toEqual([]);
    expect(reports.add(2, 0, part(3, 1, 2, 21, 1))).toBeUndefined();

    expect(reports.add(3, 0, part(1, 0, 2, 0, 1))).toBeUndefined();
    reports.forgetTab(3);
    expect(reports.add(3, 0, part(1, 1, 2, 1, 1))).toBeUndefined(); // part 0 went with the tab
  });
});
