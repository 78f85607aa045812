// Summarises a `perf record` of the scale-out bench's processes (scale-out.mjs --perf): the samples
// of the given pids grouped by where they were spent (V8's garbage collector, each npm package's
// JavaScript, TFX's own, node internals, V8 builtins, native code, the kernel's network path, its
// scheduler, the rest of the kernel), and the top symbols. With the process's CPU per message the
// shares become µs per message, so two runs (one process, two processes) compare group by group.
//   node bench/signalling/perf-summary.mjs perf.data PID[,PID…] [µs-per-message]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** [samples, symbol] of the pids' samples, heaviest first. */
export function symbolSamples(file, pids) {
  const out = execFileSync(
    'perf',
    [
      'report',
      '-i',
      file,
      '--no-children',
      '--stdio',
      '-g',
      'none',
      '--sort',
      'sym',
      '-F',
      'sample,sym',
      '--percent-limit',
      '0',
      '--pid',
      pids.join(','),
    ],
    { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const bySym = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s+(\d+)\s+(\[[.k]\]\s+.*?)\s*$/.exec(line);
    // One JS function may have several code objects (tiers): one row.
    if (m) bySym.set(m[2], (bySym.get(m[2]) ?? 0) + Number(m[1]));
  }
  return [...bySym.entries()].map(([sym, n]) => [n, sym]).sort((a, b) => b[0] - a[0]);
}

const GC =
  /v8::internal::(.*(Scaveng|Mark|Sweep|Evacuat|Compact|Marking|GCTracer|MemoryChunk|Heap::|HeapObject::SizeFromMap|BodyDescriptor|RememberedSet|SlotSet|PagedSpace|NewSpace|MemoryAllocator|Worklist))|std::__detail::_Map_base<v8::internal::MemoryChunk/;
const NET =
  /\b(tcp_|__tcp|ip_|__ip|ip6_|skb|__skb|sock_|__sock|sk_|__sk|inet_|net_|__net|loopback|__dev_|dev_|netif|__netif|napi|process_backlog|__x64_sys_(sendto|recvfrom|write|read|writev|epoll_wait)|ksys_(read|write)|do_iter|copy_(to|from)_|_copy_(to|from)_iter|ep_|do_epoll|eventfd|unix_|sendmsg|recvmsg|__sys_|release_sock|lock_sock)/;
const SCHED =
  /\b(finish_task_switch|__schedule|schedule|_raw_spin_unlock_irqrestore|try_to_wake_up|ttwu|enqueue_|dequeue_|pick_next|update_curr|irqentry_exit|exit_to_user_mode|syscall_exit|entry_SYSCALL|do_syscall|futex|__futex|hrtimer|native_sched|select_task_rq|psi_|update_load|switch_mm|__switch_to|rseq)/;

export function category(sym) {
  const kernel = sym.startsWith('[k]');
  const s = sym.replace(/^\[[.k]\]\s+/, '');
  if (kernel)
    return NET.test(s)
      ? 'kernel: network, epoll, read/write'
      : SCHED.test(s)
        ? 'kernel: scheduler, syscall entry'
        : 'kernel: other';
  if (GC.test(s)) return 'V8 garbage collector';
  const js = /^(?:JS:|LazyCompile:|Function:)?[*~+^]?\S*\s+(\S+):\d+/.exec(s);
  if (js && (s.startsWith('JS:') || s.includes('/') || s.startsWith('node:'))) {
    const path = js[1];
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:.*node_modules\/((?:@[^/]+\/)?[^/]+)\/)?/.exec(path);
    if (pkg) return `JS ${pkg[2] ?? pkg[1]}`;
    if (/packages\/server\/dist\/cluster\//.test(path)) return 'JS TFX cluster/';
    if (/packages\/server\/dist\/store\//.test(path)) return 'JS TFX store/';
    if (/packages\/[^/]+\/dist\//.test(path)) return 'JS TFX (other)';
    if (path.startsWith('node:')) return 'JS node internals';
    return 'JS other';
  }
  if (/^v8::internal::(Json|JsonStringifier|JsonParser)/.test(s))
    return 'V8 JSON.parse / stringify';
  if (
    /^v8::internal::(compiler|maglev|baseline|Compiler|OptimizingCompile|Turbofan|Parser|Scanner|interpreter::BytecodeGenerator)/.test(
      s,
    )
  )
    return 'V8 compiler';
  if (/^v8::internal::(String|SeqString|StringTable|ConsString|SlicedString|Utf8|unibrow)/.test(s))
    return 'V8 strings';
  if (/^Builtins_|^Builtin:|^Stub:|^BytecodeHandler|^RegExp:|^Interpreter/.test(s))
    return 'V8 builtins, IC, interpreter';
  if (/^v8::|^Runtime_|^node::|^uv_|^uv__|^napi_/.test(s))
    return 'V8 runtime, node and libuv (C++)';
  return 'native (libc, other)';
}

/** Lines of a Markdown table: group, samples, share, µs/msg (when given). */
export function summarise(file, pids, usPerMessage, top = 25) {
  const rows = symbolSamples(file, pids);
  const total = rows.reduce((a, [n]) => a + n, 0) || 1;
  const groups = new Map();
  for (const [n, sym] of rows) {
    const c = category(sym);
    groups.set(c, (groups.get(c) ?? 0) + n);
  }
  const us = (n) => (usPerMessage ? ((n / total) * usPerMessage).toFixed(1) : '–');
  const lines = [
    `${total} samples`,
    '',
    '| where | samples | % | µs/msg |',
    '| --- | ---: | ---: | ---: |',
    ...[...groups.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `| ${c} | ${n} | ${((100 * n) / total).toFixed(1)} | ${us(n)} |`),
    '',
    '| symbol (self) | % | µs/msg |',
    '| --- | ---: | ---: |',
    ...rows
      .slice(0, top)
      .map(
        ([n, sym]) =>
          `| \`${sym.replace(/\|/g, '\\|').slice(0, 140)}\` | ${((100 * n) / total).toFixed(1)} | ${us(n)} |`,
      ),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, pids, usPerMessage] = process.argv.slice(2);
  process.stdout.write(`${summarise(file, pids.split(','), Number(usPerMessage) || 0, 40)}\n`);
}
