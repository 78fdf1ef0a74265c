// Keyboard use of the popup: arrows move through the result grid in two dimensions (and between
// the search box and the first row), Enter shows the focused result on the page, Esc clears.
export interface KeyboardHooks {
  /** Tiles in grid order, hidden ones excluded. */
  tiles(): HTMLElement[];
  reveal(tile: HTMLElement): void;
  /** Esc: clear the query and the highlights; returns false when there was nothing to clear. */
  clear(): boolean;
}

/** Columns of a CSS grid as laid out now (grid-template-columns resolves to one length per column). */
export function gridColumns(grid: HTMLElement): number {
  const template = getComputedStyle(grid).gridTemplateColumns;
  return Math.max(1, template.split(' ').filter((part) => part && part !== 'none').length);
}

/** The index an arrow key moves to in a grid of `count` items and `columns` columns; null to leave the grid upwards. */
export function moveInGrid(index: number, key: string, count: number, columns: number): number | null {
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, index - 1);
    case 'ArrowRight':
      return Math.min(count - 1, index + 1);
    case 'ArrowUp':
      return index - columns < 0 ? null : index - columns;
    case 'ArrowDown':
      // The last row may be shorter: go to its last item rather than nowhere.
      return index + columns < count ? index + columns : Math.floor(index / columns) < Math.floor((count - 1) / columns) ? count - 1 : index;
    default:
      return index;
  }
}

export function attachKeyboard(search: HTMLInputElement, grid: HTMLElement, hooks: KeyboardHooks): void {
  search.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      const first = hooks.tiles()[0];
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  grid.addEventListener('keydown', (event) => {
    const tile = (event.target as Element).closest<HTMLElement>('[data-testid=result]');
    if (!tile || event.target !== tile) return; // keys on the tile's buttons keep their own meaning
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      hooks.reveal(tile);
      return;
    }
    if (!event.key.startsWith('Arrow')) return;
    event.preventDefault();
    const tiles = hooks.tiles();
    const next = moveInGrid(tiles.indexOf(tile), event.key, tiles.length, gridColumns(grid));
    if (next === null) search.focus();
    else tiles[next]?.focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    // Nothing to clear: leave Esc to the browser (it closes the popup).
    if (!hooks.clear()) return;
    event.preventDefault();
    search.focus();
  });
}
