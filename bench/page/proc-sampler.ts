// CPU time and memory of one Chromium instance, read from /proc (Linux only):
//  - the instance is the process whose command line names its --user-data-dir, plus all its
//    descendants (renderers, GPU, utility, zygote children);
//  - CPU: utime + stime of every process of the tree, summed; a process that exits keeps the
//    last value seen, so short-lived helpers are counted up to the last sample;
//  - extension memory: VmRSS summed over the renderers started with --extension-process. The
//    service worker, the offscreen document (with its WASM threads) and extension pages opened
//    as tabs (the popup here) live there; page renderers, the GPU and network processes do not.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Proc {
  pid: number;
  ppid: number;
  cpuTicks: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function rssBytes(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

function tree(userDataDir: string): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => !!p);
  const roots = all.filter((p) => cmdline(p.pid).includes(`--user-data-dir=${userDataDir}`) && !all.some((q) => q.pid === p.ppid && cmdline(q.pid).includes(`--user-data-dir=${userDataDir}`)));
  const members = new Set(roots.map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => members.has(p.pid));
}

export interface ProcWindow {
  cpuSeconds: number;
  peakExtensionRss: number;
}

/** Samples every `everyMs` until stop(); stop() returns CPU used since start and the peak extension RSS. */
export function startProcSampler(userDataDir: string, everyMs = 200): { stop(): ProcWindow } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const extensionPids = new Set<number>();
  let peak = 0;
  const sample = () => {
    let rss = 0;
    for (const p of tree(userDataDir)) {
      if (!first.has(p.pid)) {
        first.set(p.pid, p.cpuTicks);
        if (cmdline(p.pid).includes('--extension-process')) extensionPids.add(p.pid);
      }
      last.set(p.pid, p.cpuTicks);
      if (extensionPids.has(p.pid)) rss += rssBytes(p.pid);
    }
    peak = Math.max(peak, rss);
  };
  sample();
  // Processes already running count from here; ones started later from zero.
  const started = new Set(first.keys());
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      let ticks = 0;
      for (const [pid, end] of last) ticks += end - (started.has(pid) ? first.get(pid)! : 0);
      return { cpuSeconds: ticks / TICKS_PER_SECOND, peakExtensionRss: peak };
    },
  };
}
