import type { FunctionCall } from '../llm/chatContext.ts';
import type { RunContext, ToolFiller } from '../llm/tools.ts';
import type { ActivityHost } from './host.ts';
import type { SpeechHandle } from './speechHandle.ts';

/** Instructions of a generated filler when the tool asks for one without its own. */
const FILLER_INSTRUCTIONS = 'A tool is still working. Tell the user in a few words that you are on it; do not make up a result.';

/** The context a tool's `execute` gets: who called it, its session, and ways to wait, stop and speak meanwhile. */
export function makeRunContext(act: ActivityHost, h: SpeechHandle, call: FunctionCall, stepPlayout: Promise<void>, signal: AbortSignal): RunContext {
  return {
    session: act.session as unknown as RunContext['session'],
    speechHandle: h,
    functionCall: { callId: call.callId, name: call.name, arguments: call.arguments },
    get userdata() {
      return act.session.userdata;
    },
    waitForPlayout: () => stepPlayout,
    abortSignal: signal,
    // A speech of its own: the calling speech waits for this tool, so the update must not wait for it.
    update: (message: string) => {
      if (typeof message !== 'string' || !message.trim()) throw new TypeError('ctx.update() needs a non-empty message');
      return act.say(message, { userInitiated: false });
    },
  };
}

/** Speaks a slow tool's filler (its text, or a short generated line) as a speech of its own. */
export function speakFiller(act: ActivityHost, filler: ToolFiller): void {
  if (act.closed) return;
  try {
    if (filler.text) act.say(filler.text, { userInitiated: false });
    else act.generateReply({ instructions: filler.generate === true || !filler.generate ? FILLER_INSTRUCTIONS : filler.generate, toolChoice: 'none', userInitiated: false });
  } catch (e) {
    // A draining activity takes no new speech: the filler is simply not spoken.
    act.session._reportError('tool', 'filler', e, true);
  }
}
