// CPU time and memory of one Chromium instance, read from /proc (Linux only):
//  - the instance is the process whose command line names its --user-data-dir, plus all its
//    descendants (renderers, GPU, utility, zygote children);
//  - CPU: utime + stime of every process of the tree, summed; a process that exits keeps the
//    last value seen, so short-lived helpers are counted up to the last sample;
//  - extension memory, summed over the renderers started with --extension-process (the service
//    worker, the offscreen document with its workers and WASM threads, and extension pages opened
//    as tabs, the popup here; page renderers, the GPU and network processes are not counted):
//    PSS (the main figure: a page mapped by several processes counts once in all, split between
//    them), USS (pages this process alone maps) and VmRSS (every mapped page in full, so the
//    Chromium binary and libraries count once per process), from /proc/<pid>/smaps_rollup;
//  - at each new peak of the PSS sum (in steps of PEAK_DETAIL_STEP), the extension processes'
//    largest mappings (smaps), to tell a WASM heap (one mapping) from V8's heap and files.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Proc {
  pid: number;
  ppid: number;
  cpuTicks: number;
  /** When it started (clock ticks since boot): with the pid, names this process and no later one given its pid. */
  start: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]), start: Number(rest[19]) };
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

/** One process's memory, bytes: RSS with its parts (status) and PSS with its parts and USS (smaps_rollup). */
interface Memory {
  rss: number;
  anon: number;
  shmem: number;
  file: number;
  pss: number;
  pssAnon: number;
  pssFile: number;
  pssShmem: number;
  uss: number;
}

const kbField = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;

function memoryOf(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) => kbField(rollup, field);
    return {
      rss: kbField(status, 'VmRSS'),
      anon: kbField(status, 'RssAnon'),
      shmem: kbField(status, 'RssShmem'),
      file: kbField(status, 'RssFile'),
      pss: kb('Pss'),
      pssAnon: kb('Pss_Anon'),
      pssFile: kb('Pss_File'),
      pssShmem: kb('Pss_Shmem'),
      uss: kb('Private_Clean') + kb('Private_Dirty'),
    };
  } catch {
    return { rss: 0, anon: 0, shmem: 0, file: 0, pss: 0, pssAnon: 0, pssFile: 0, pssShmem: 0, uss: 0 };
  }
}

/** One mapping, or the sum of the smaller ones of a kind. */
export interface Region {
  kind: 'anon' | 'shmem' | 'file';
  /** File name, shared-memory name, `[heap]`, `[anon:…]`; empty for plain anonymous memory; `(the rest)` for a sum. */
  name: string;
  perms: string;
  sizeMB: number;
  rssMB: number;
  pssMB: number;
}

/**
 * The `top` mappings of `pid` by PSS, the rest summed per kind. A WASM heap is one read-write
 * mapping the size of its memory (the rest of its reservation is inaccessible); V8's and
 * PartitionAlloc's heaps are many small ones.
 */
function regionsOf(pid: number, top = 10): Region[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  const all: Region[] = [];
  let cur: Region | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[4];
      const kind: Region['kind'] = /^\/(memfd:|dev\/shm\/|SYSV)/.test(name) || name.endsWith('(deleted)') ? 'shmem' : name.startsWith('/') ? 'file' : 'anon';
      const sizeMB = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 2 ** 20;
      all.push((cur = { kind, name: kind === 'file' ? name.replace(/^.*\//, '') : name, perms: head[3], sizeMB, rssMB: 0, pssMB: 0 }));
      continue;
    }
    const field = /^(Rss|Pss):\s+(\d+) kB/.exec(line);
    if (field && cur) cur[field[1] === 'Rss' ? 'rssMB' : 'pssMB'] += Number(field[2]) / 1024;
  }
  all.sort((a, b) => b.pssMB - a.pssMB);
  const round = (r: Region): Region => ({ ...r, sizeMB: Math.round(r.sizeMB), rssMB: Math.round(r.rssMB), pssMB: Math.round(r.pssMB) });
  const rest = new Map<Region['kind'], Region>();
  for (const r of all.slice(top)) {
    const sum = rest.get(r.kind) ?? { kind: r.kind, name: '(the rest)', perms: '', sizeMB: 0, rssMB: 0, pssMB: 0 };
    sum.sizeMB += r.sizeMB;
    sum.rssMB += r.rssMB;
    sum.pssMB += r.pssMB;
    rest.set(r.kind, sum);
  }
  return [...all.slice(0, top), ...rest.values()].map(round);
}

/** Count of threads by name: tells the service worker's process (`ServiceWorker t`) from the one with the offscreen document's workers. */
function threadNames(pid: number): Record<string, number> {
  const names: Record<string, number> = {};
  for (const t of threadTicks(pid).values()) names[t.name] = (names[t.name] ?? 0) + 1;
  return names;
}

/**
 * Each process's command line, read once: every sample walks every process of the machine, and the
 * sampler shares the cores it measures. A pid with its start time names one process. A renderer
 * just forked from the zygote shows the zygote's command line until it sets its own (one sample
 * missed the offscreen document's process this way), so that one is read again.
 */
const commandLines = new Map<string, string>();
function commandLine(p: Proc): string {
  const key = `${p.pid}/${p.start}`;
  let line = commandLines.get(key);
  if (line === undefined || line.includes('--type=zygote')) commandLines.set(key, (line = cmdline(p.pid)));
  return line;
}

const ofInstance = (p: Proc, userDataDir: string) => commandLine(p).includes(`--user-data-dir=${userDataDir}`);

function tree(userDataDir: string): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => !!p);
  const roots = all.filter((p) => ofInstance(p, userDataDir) && !all.some((q) => q.pid === p.ppid && ofInstance(q, userDataDir)));
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

/** The instance's extension processes as they are now: PSS in bytes and threads by name (see threadNames). */
export function extensionProcesses(userDataDir: string): { pid: number; pss: number; threads: Record<string, number> }[] {
  return tree(userDataDir)
    .filter((p) => processKind(commandLine(p)) === 'extension')
    .map((p) => ({ pid: p.pid, pss: memoryOf(p.pid).pss, threads: threadNames(p.pid) }));
}

/** One extension process at the sample of a peak, MB. */
export interface ExtensionProcess {
  pid: number;
  rssMB: number;
  anonMB: number;
  shmemMB: number;
  fileMB: number;
  pssMB: number;
  pssAnonMB: number;
  pssFileMB: number;
  pssShmemMB: number;
  ussMB: number;
  /** Threads by name (`ServiceWorker t`: the service worker; `DedicatedWorker`: engine, decode and ORT threads). */
  threads: Record<string, number>;
  /** Its memory by region, largest PSS first (only at the PSS peak). */
  regions?: Region[];
}

/** A new PSS peak is looked at mapping by mapping when it exceeds the last one so detailed by this share. */
const PEAK_DETAIL_STEP = 0.03;

export interface ProcWindow {
  cpuSeconds: number;
  /** Highest sum over the extension processes of PSS, of USS and of VmRSS (each its own peak), bytes. */
  peakExtensionPss: number;
  peakExtensionUss: number;
  peakExtensionRss: number;
  /** CPU seconds of the extension processes' threads, by thread name (e.g. `ServiceWorker t`, `DedicatedWorker`). */
  extensionThreadCpu: Record<string, number>;
  /** Each extension process at the sample of the peak PSS sum, with its regions. */
  extensionProcessesAtPeak: ExtensionProcess[];
  /** CPU seconds of every process of the instance, by kind (see processKind): where the CPU outside the extension goes. */
  cpuByProcessKind: Record<string, number>;
  /** The extension threads that used a tenth of a second or more, one by one (the dedicated workers all have one name). */
  busiestExtensionThreads: { pid: number; tid: number; name: string; cpuS: number }[];
}

/** A process's kind from its command line: `browser`, `gpu-process`, `utility:<service>`, `renderer`, `extension`. */
function processKind(line: string): string {
  const type = /--type=(\S+)/.exec(line)?.[1];
  if (!type) return 'browser';
  if (type === 'renderer') return line.includes('--extension-process') ? 'extension' : 'renderer';
  if (type === 'utility') return `utility:${/--utility-sub-type=(\S+)/.exec(line)?.[1] ?? '?'}`;
  return type;
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

/** Samples every `everyMs` until stop(); stop() returns CPU used since start and the peak extension memory. */
export function startProcSampler(userDataDir: string, everyMs = 200): { stop(): ProcWindow } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  /** Each process's kind (processKind) when last seen; an extension process is one of kind `extension`. */
  const kinds = new Map<number, string>();
  /** Per extension thread: name, ticks at first sight (0 if started later) and last seen. */
  const threads = new Map<string, { name: string; first: number; last: number }>();
  let sampled = false;
  const peak = { pss: 0, uss: 0, rss: 0 };
  let detailedPss = 0;
  let atPeak: ExtensionProcess[] = [];
  const sample = () => {
    const sum = { pss: 0, uss: 0, rss: 0 };
    const parts: ExtensionProcess[] = [];
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    for (const p of tree(userDataDir)) {
      if (!first.has(p.pid)) first.set(p.pid, p.cpuTicks);
      const kind = processKind(commandLine(p));
      kinds.set(p.pid, kind);
      last.set(p.pid, p.cpuTicks);
      if (kind === 'extension') {
        const m = memoryOf(p.pid);
        sum.pss += m.pss;
        sum.uss += m.uss;
        sum.rss += m.rss;
        parts.push({
          pid: p.pid,
          rssMB: mb(m.rss),
          anonMB: mb(m.anon),
          shmemMB: mb(m.shmem),
          fileMB: mb(m.file),
          pssMB: mb(m.pss),
          pssAnonMB: mb(m.pssAnon),
          pssFileMB: mb(m.pssFile),
          pssShmemMB: mb(m.pssShmem),
          ussMB: mb(m.uss),
          threads: {},
        });
        for (const [tid, t] of threadTicks(p.pid)) {
          const key = `${p.pid}/${tid}`;
          const known = threads.get(key);
          if (known) known.last = t.ticks;
          else threads.set(key, { name: t.name, first: sampled ? 0 : t.ticks, last: t.ticks });
        }
      }
    }
    peak.uss = Math.max(peak.uss, sum.uss);
    peak.rss = Math.max(peak.rss, sum.rss);
    if (sum.pss > peak.pss) {
      peak.pss = sum.pss;
      // Reading every mapping takes a while: only for a peak clearly above the last one so read.
      const detail = sum.pss > detailedPss * (1 + PEAK_DETAIL_STEP);
      if (detail) detailedPss = sum.pss;
      for (const part of parts) {
        part.threads = threadNames(part.pid);
        part.regions = detail ? regionsOf(part.pid) : atPeak.find((q) => q.pid === part.pid)?.regions;
      }
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
      const cpuByProcessKind: Record<string, number> = {};
      for (const [pid, end] of last) {
        const used = end - (started.has(pid) ? first.get(pid)! : 0);
        ticks += used;
        const kind = kinds.get(pid) ?? '?';
        cpuByProcessKind[kind] = (cpuByProcessKind[kind] ?? 0) + used / TICKS_PER_SECOND;
      }
      const extensionThreadCpu: Record<string, number> = {};
      for (const t of threads.values()) extensionThreadCpu[t.name] = (extensionThreadCpu[t.name] ?? 0) + (t.last - t.first) / TICKS_PER_SECOND;
      const busiestExtensionThreads = [...threads]
        .map(([key, t]) => {
          const [pid, tid] = key.split('/').map(Number);
          return { pid, tid, name: t.name, cpuS: (t.last - t.first) / TICKS_PER_SECOND };
        })
        .filter((t) => t.cpuS >= 0.1)
        .sort((a, b) => b.cpuS - a.cpuS);
      return {
        cpuSeconds: ticks / TICKS_PER_SECOND,
        peakExtensionPss: peak.pss,
        peakExtensionUss: peak.uss,
        peakExtensionRss: peak.rss,
        extensionThreadCpu,
        extensionProcessesAtPeak: atPeak,
        cpuByProcessKind,
        busiestExtensionThreads,
      };
    },
  };
}
