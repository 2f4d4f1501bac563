import { afterEach, beforeEach, describe, it } from 'vitest';
import { z } from 'zod';
import { Agent, AgentSession, functionTool } from 'voicechart';
import { FakeLLM } from 'voicechart/testing';

const getWeather = functionTool({
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

class Assistant extends Agent {
  constructor() {
    super({ instructions: 'You are a helpful assistant.', tools: [getWeather] });
  }
}

// The agent's model, scripted. Any LLM plugin works the same way, e.g. new OpenAILLM({ model: 'gpt-4.1-mini' }).
const llm = new FakeLLM([
  { input: 'What is the weather in Paris?', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
  { input: 'sunny in Paris', content: 'It is sunny in Paris today.' },
  { input: 'Thanks!', content: 'You are welcome!' },
]);

// The judge: a capable real model in a real suite; scripted here, it answers about the reply it is shown.
const judge = new FakeLLM([
  { input: 'It is sunny in Paris today.', toolCalls: [{ name: 'check_intent', arguments: { success: true, reason: 'It gives the weather in Paris.' } }] },
]);

describe('Assistant', () => {
  let session: AgentSession;

  beforeEach(async () => {
    session = new AgentSession({ llm }); // no audio input or output: text mode
    await session.start({ agent: new Assistant() });
  });
  afterEach(() => session.close());

  it('looks the weather up and reports it', async () => {
    const result = await session.run({ userInput: 'What is the weather in Paris?' });
    result.expect.nextEvent().isFunctionCall({ name: 'get_weather', arguments: { city: 'Paris' } });
    result.expect.nextEvent().isFunctionCallOutput({ output: 'sunny in Paris', isError: false });
    await result.expect.nextEvent().isMessage({ role: 'assistant' }).judge(judge, { intent: 'tells the user the weather in Paris' });
    result.expect.noMoreEvents();
  });

  it('carries the conversation on in the next run', async () => {
    await session.run({ userInput: 'What is the weather in Paris?' });
    const result = await session.run({ userInput: 'Thanks!' });
    result.expect.nextEvent().isMessage({ role: 'assistant', content: 'You are welcome!' });
    result.expect.noMoreEvents();
  });
});
