import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: parse after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the name: state(3) ppid(4) … utime(14) stime(15), so index = field − 3.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (µs, user + system) used so far by a process and all its living descendants, read
 * from `/proc` (a start script that runs a JVM counts the JVM too). Undefined where `/proc`
 * is not readable (not Linux) or the process is gone. Resolution: 10 ms.
 */
export function processTreeCpuUs(pid: number): number | undefined {
  const root = readStat(pid);
  if (!root) return undefined;
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>([[pid, root.ticks]]);
  for (const other of pids) {
    if (other === pid) continue;
    const stat = readStat(other);
    if (!stat) continue;
    ticks.set(other, stat.ticks);
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(other);
    else children.set(stat.ppid, [other]);
  }
  let total = 0;
  const todo = [pid];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    total += ticks.get(next) ?? 0;
    todo.push(...(children.get(next) ?? []));
  }
  return (total * 1_000_000) / TICKS_PER_SECOND;
}
