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

/** VmRSS and its parts (anonymous, shared memory such as WASM threads' SharedArrayBuffer heaps, file-backed), bytes. */
function rssOf(pid: number): { rss: number; anon: number; shmem: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), shmem: kb('RssShmem'), file: kb('RssFile') };
  } catch {
    return { rss: 0, anon: 0, shmem: 0, file: 0 };
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
  /** CPU seconds of the extension processes' threads, by thread name (e.g. `ServiceWorker t`, `DedicatedWorker`). */
  extensionThreadCpu: Record<string, number>;
  /** Each extension process at the sample of the peak sum: RSS and its parts, MB. */
  extensionProcessesAtPeak: { pid: number; rssMB: number; anonMB: number; shmemMB: number; fileMB: number }[];
}

/** CPU ticks of each thread of `pid`, keyed by thread id, with the thread's name. */
function threadTicks(pid: number): Map<number, { name: string; ticks: number }> {
  const threads = new Map<number, { name: string; ticks: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), { name, ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return threads;
}

/** Samples every `everyMs` until stop(); stop() returns CPU used since start and the peak extension RSS. */
export function startProcSampler(userDataDir: string, everyMs = 200): { stop(): ProcWindow } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const extensionPids = new Set<number>();
  /** Per extension thread: name, ticks at first sight (0 if started later) and last seen. */
  const threads = new Map<string, { name: string; first: number; last: number }>();
  let sampled = false;
  let peak = 0;
  let atPeak: ProcWindow['extensionProcessesAtPeak'] = [];
  const sample = () => {
    let rss = 0;
    const parts: ProcWindow['extensionProcessesAtPeak'] = [];
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    for (const p of tree(userDataDir)) {
      if (!first.has(p.pid)) {
        first.set(p.pid, p.cpuTicks);
        if (cmdline(p.pid).includes('--extension-process')) extensionPids.add(p.pid);
      }
      last.set(p.pid, p.cpuTicks);
      if (extensionPids.has(p.pid)) {
        const m = rssOf(p.pid);
        rss += m.rss;
        parts.push({ pid: p.pid, rssMB: mb(m.rss), anonMB: mb(m.anon), shmemMB: mb(m.shmem), fileMB: mb(m.file) });
        for (const [tid, t] of threadTicks(p.pid)) {
          const key = `${p.pid}/${tid}`;
          const known = threads.get(key);
          if (known) known.last = t.ticks;
          else threads.set(key, { name: t.name, first: sampled ? 0 : t.ticks, last: t.ticks });
        }
      }
    }
    if (rss > peak) {
      peak = rss;
      atPeak = parts;
    }
    sampled = true;
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
      const extensionThreadCpu: Record<string, number> = {};
      for (const t of threads.values()) extensionThreadCpu[t.name] = (extensionThreadCpu[t.name] ?? 0) + (t.last - t.first) / TICKS_PER_SECOND;
      return { cpuSeconds: ticks / TICKS_PER_SECOND, peakExtensionRss: peak, extensionThreadCpu, extensionProcessesAtPeak: atPeak };
    },
  };
}
