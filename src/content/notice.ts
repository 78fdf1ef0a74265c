// A short message near the last right-click: "no image under the pointer", or why find similar
// failed. It is announced politely and goes away by itself, on Esc or on a click.

export const NOTICE_STYLE = `
.notice { position: fixed; pointer-events: auto; max-width: 320px; box-sizing: border-box; padding: 8px 12px; border-radius: 8px;
  background: #1b1b1f; color: #fff; font: 13px/1.35 system-ui, sans-serif; box-shadow: 0 4px 18px rgba(0,0,0,.3); }
@media (prefers-color-scheme: dark) { .notice { background: #eceef3; color: #1b1b1f; } }
`;

/** How long a notice stays. */
const NOTICE_MS = 5_000;
const WIDTH = 320;

export class Notice {
  readonly node = document.createElement('div');
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(text: string, at: { x: number; y: number } | null, private readonly onGone: (notice: Notice) => void) {
    this.node.className = 'notice';
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('data-testid', 'page-notice');
    this.node.textContent = text;
    const x = at ? Math.min(Math.max(8, at.x + 12), innerWidth - WIDTH - 8) : innerWidth / 2 - WIDTH / 2;
    const y = at ? Math.min(Math.max(8, at.y + 12), innerHeight - 80) : 16;
    this.node.style.left = `${Math.round(x)}px`;
    this.node.style.top = `${Math.round(y)}px`;
    this.timer = setTimeout(this.dismiss, NOTICE_MS);
    addEventListener('pointerdown', this.dismiss, { capture: true });
  }

  readonly dismiss = (): void => {
    clearTimeout(this.timer);
    removeEventListener('pointerdown', this.dismiss, { capture: true });
    this.node.remove();
    this.onGone(this);
  };
}
