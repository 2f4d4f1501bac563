/** The default load: this machine's CPU utilisation (0..1) since the previous sample, from os.cpus() times. */
import { cpus } from 'node:os';

export class CpuLoad {
  private last = totals();
  sample(): number {
    const now = totals();
    const busy = now.busy - this.last.busy;
    const all = now.all - this.last.all;
    this.last = now;
    return all > 0 ? Math.min(1, Math.max(0, busy / all)) : 0;
  }
}

function totals(): { busy: number; all: number } {
  let busy = 0;
  let all = 0;
  for (const c of cpus()) {
    const t = c.times;
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    all += sum;
    busy += sum - t.idle;
  }
  return { busy, all };
}
