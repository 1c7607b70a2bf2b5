import fs from 'node:fs';
import os from 'node:os';

/**
 * Who holds a lease: the process that claimed a request, named so that another worker on the same machine can
 * tell at once whether it still runs, instead of waiting for the lease to expire (issue 7 §2).
 *
 * `start` guards against pid reuse: a pid that now belongs to a process started at another time is not the
 * holder. On Linux it is read from /proc/<pid>/stat (field 22, the start time in clock ticks since boot), which
 * is exact and can be read for any process, so pid reuse is caught for every pid. It is stored with the boot id
 * and the pid namespace it is counted in — `linux:<boot id>:<pid namespace>:<ticks>` — because ticks and pids
 * mean nothing across a reboot or in another container that happens to share the host name: such a lease is
 * judged like a remote one (it waits for expiry). Elsewhere the start time is derived from `process.uptime()`
 * (`uptime:<epoch ms>`); another process's start time cannot be read there, so only a pid that no longer exists
 * (or our own pid recorded by an earlier process) counts as gone.
 */
export interface LeaseHolder {
  /** `os.hostname()` of the holder's machine. */
  readonly host: string;
  readonly pid: number;
  /** The holder's start time, in one of the two forms described above. */
  readonly start: string;
}

/** What a Linux start token carries; undefined for other forms. */
interface LinuxStart {
  readonly scope: string; // boot id and pid namespace: where pids and ticks are comparable
  readonly ticks: string;
}

function parseLinux(start: string): LinuxStart | undefined {
  const m = /^linux:([^:]+:[^:]+):(\d+)$/.exec(start);
  return m ? { scope: m[1] as string, ticks: m[2] as string } : undefined;
}

/** The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parentheses). */
function procStat(pid: number): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 3 (state) follows the last ')'; field 22 (starttime) is then at index 22 - 3 = 19.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function linuxScope(): string | undefined {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
    return boot && ns ? `${boot}:${ns}` : undefined;
  } catch {
    return undefined;
  }
}

function identify(): LeaseHolder {
  const host = os.hostname();
  const scope = process.platform === 'linux' ? linuxScope() : undefined;
  const ticks = scope ? procStat(process.pid)?.[19] : undefined;
  if (scope && ticks && /^\d+$/.test(ticks)) return { host, pid: process.pid, start: `linux:${scope}:${ticks}` };
  return { host, pid: process.pid, start: `uptime:${Math.round(Date.now() - process.uptime() * 1000)}` };
}

let self: LeaseHolder | undefined;

/** This process as a lease holder (computed once: the start time of a running process does not change). */
export function currentHolder(): LeaseHolder {
  self ??= identify();
  return self;
}

/**
 * True when `holder` is a process on this machine that no longer runs: its pid is gone, is a zombie, or now
 * belongs to a process with another start time. False when it runs, when it is on another host (only its lease's
 * expiry tells), or when this process cannot tell (another boot or pid namespace, or no /proc and the pid exists).
 */
export function holderIsGone(holder: LeaseHolder, me: LeaseHolder = currentHolder()): boolean {
  if (holder.host !== me.host) return false;
  if (holder.pid === me.pid) return holder.start !== me.start; // an earlier process that had our pid
  const mine = parseLinux(me.start);
  const theirs = parseLinux(holder.start);
  if (mine && theirs) {
    if (theirs.scope !== mine.scope) return false;
    const stat = procStat(holder.pid);
    if (!stat) return true;
    // A killed process whose parent has not reaped it yet stays a zombie: it never runs again.
    if (stat[0] === 'Z' || stat[0] === 'X') return true;
    return stat[19] !== theirs.ticks;
  }
  if (mine || theirs) return false; // one form each: recorded by another kind of system sharing the host name
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The lease columns naming `h` (this process by default) as the holder, for a claim's update. */
export function holderColumns(h: LeaseHolder = currentHolder()) {
  return { lease_host: h.host, lease_pid: h.pid, lease_pid_start: h.start };
}

/** No holder: what every path that ends or gives back a lease writes along with `lease_owner: null`. */
export const NO_HOLDER = { lease_host: null, lease_pid: null, lease_pid_start: null } as const;
