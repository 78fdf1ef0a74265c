import { describe, expect, it } from 'vitest';
import { moveInGrid } from './keyboard';

describe('moveInGrid', () => {
  // 3 columns, 7 items:  0 1 2 / 3 4 5 / 6
  it('moves in two dimensions and stays inside the grid', () => {
    expect(moveInGrid(4, 'ArrowLeft', 7, 3)).toBe(3);
    expect(moveInGrid(0, 'ArrowLeft', 7, 3)).toBe(0);
    expect(moveInGrid(4, 'ArrowRight', 7, 3)).toBe(5);
    expect(moveInGrid(6, 'ArrowRight', 7, 3)).toBe(6);
    expect(moveInGrid(4, 'ArrowUp', 7, 3)).toBe(1);
    expect(moveInGrid(1, 'ArrowDown', 7, 3)).toBe(4);
  });

  it('leaves the grid upwards from the first row, and reaches a short last row', () => {
    expect(moveInGrid(2, 'ArrowUp', 7, 3)).toBeNull();
    expect(moveInGrid(5, 'ArrowDown', 7, 3)).toBe(6);
    expect(moveInGrid(6, 'ArrowDown', 7, 3)).toBe(6);
    expect(moveInGrid(4, 'ArrowDown', 6, 3)).toBe(4);
  });
});
