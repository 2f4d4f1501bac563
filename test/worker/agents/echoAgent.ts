/**
 * A test agent: joins, says who it is through participant attributes (job id, room, dispatch metadata, the
 * publisher for publisher jobs, prewarm's value), and follows commands sent as data messages on topic
 * `cmd`: "crash" (uncaught error in a timer), "hang" (busy loop), "leak" (allocates until killed),
 * "shutdown" (ctx.shutdown), "reply" (answers on topic `reply`).
 */
import { RoomEvent } from '@livekit/rtc-node';
import { defineAgent } from '../../../src/worker/index.ts';

export default defineAgent({
  prewarm: (proc) => {
    proc.userdata.prewarmedAt = Date.now();
    proc.userdata.model = 'loaded-once';
  },
  entry: async (ctx) => {
    await ctx.connect();
    ctx.room.on(RoomEvent.DataReceived, (payload, _p, _kind, topic) => {
      if (topic !== 'cmd') return;
      const cmd = new TextDecoder().decode(payload);
      if (cmd === 'crash') setTimeout(() => { throw new Error('deliberate crash'); }, 0);
      else if (cmd === 'hang') setTimeout(() => { for (;;); }, 0);
      else if (cmd === 'leak') {
        const keep: Buffer[] = [];
        const grow = () => { for (let i = 0; i < 20; i++) keep.push(Buffer.alloc(1 << 20, 1)); setTimeout(grow, 10); };
        grow();
      } else if (cmd === 'shutdown') ctx.shutdown('asked to leave');
      else if (cmd === 'reply') void ctx.agent!.publishData(new TextEncoder().encode(`pid:${process.pid}`), { reliable: true, topic: 'reply' });
    });
    await ctx.agent!.setAttributes({
      'test.job': ctx.job.id,
      'test.room': ctx.job.room.name,
      'test.metadata': ctx.job.metadata,
      'test.publisher': ctx.job.participant?.identity ?? '',
      'test.model': String(ctx.proc.userdata.model),
      'test.pid': String(process.pid),
      'test.identity': ctx.identity,
      'test.claims': JSON.stringify(ctx.tokenClaims()),
    });
  },
});
