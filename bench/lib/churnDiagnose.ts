/**
 * Leak diagnosis for session churn: runs sessions (one turn each), takes a heap census, runs more, takes another,
 * prints the classes that grew and the retainer paths of the biggest growers.
 *   node --expose-gc --import tsx bench/lib/churnDiagnose.ts [warm-up sessions] [measured sessions] [class key…]
 * CHURN_MIXED=1: sessions with default options closing in different phases (bench/lib/churnMixed.ts).
 */
import { oneSessionTurn } from './churn.ts';
import { mixedSession } from './churnMixed.ts';
import { census, diff, retainers } from './heapCensus.ts';
import { gc, sleep } from './stats.ts';

const [warm = 100, measured = 300] = process.argv.slice(2, 4).map(Number);
const keys = process.argv.slice(4);
const settle = async () => {
  await sleep(20);
  gc();
  gc();
};
const run = (i: number) => (process.env.CHURN_MIXED === '1' ? mixedSession(i) : oneSessionTurn());
for (let i = 0; i < warm; i++) await run(i);
await settle();
const h0 = process.memoryUsage().heapUsed;
const a = await census();
a.snap = null;
for (let i = 0; i < measured; i++) await run(i);
await settle();
const h1 = process.memoryUsage().heapUsed;
const b = await census();
console.log(`heap ${(h0 / 2 ** 20).toFixed(2)} → ${(h1 / 2 ** 20).toFixed(2)} MiB: ${((h1 - h0) / measured).toFixed(0)} bytes/session over ${measured} sessions`);
const grown = diff(a, b, 40);
for (const r of grown) console.log(`${String(r.grew).padStart(7)} (+${r.bytesGrew} B)  ${r.key}  ${r.before} → ${r.after}`);
for (const key of keys.length ? keys : grown.filter((r) => r.key.startsWith('object:') || r.key.startsWith('closure:')).slice(0, 4).map((r) => r.key)) {
  console.log(`\n== retainers of ${key}`);
  for (const p of retainers(b, key, 2, Math.floor((b.counts.get(key)?.count ?? 0) / 2))) console.log('  ' + p.join('\n    '));
}
process.exit(0);
