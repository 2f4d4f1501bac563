/** The CLI's usage text and its usage errors (one line, then the usage; never a stack trace). */
export const USAGE = `usage: voicechart <command> [options] [agent file]

commands:
  console               run the example agent locally (no LiveKit server needed)
  dev <agent file>      run a worker against LIVEKIT_URL; restarts it when the agent file changes; readable logs
  start <agent file>    run a worker in production: JSON logs; SIGTERM/SIGINT drain (a second one exits at once)
  connect <agent file> --room <name>
                        join one room directly (created if missing), no dispatch

worker options (dev, start, connect):
  --url URL             LiveKit server (env LIVEKIT_URL), e.g. ws://localhost:7880
  --api-key KEY         (env LIVEKIT_API_KEY)
  --api-secret SECRET   (env LIVEKIT_API_SECRET)
  --agent-name NAME     explicit dispatch only (env LIVEKIT_AGENT_NAME); overrides the agent file's server.agentName
  --log-level LEVEL     debug, info (default), warn, error
  --log-format FORMAT   pretty (dev, connect) or json (start)
  --drain-timeout MS    start: how long a drain waits for running jobs (default 1800000)
  --num-idle-processes N  job processes kept warm (default: min(cpus, 4); dev: 0)
  --http-port PORT      health endpoint (GET / and GET /worker; default 8081, dev: a free port, 0: a free port)
  --http-host HOST      the health endpoint's address (default 0.0.0.0)
  --no-shared-inference  each job process runs its own Silero VAD instead of the worker's inference host
  --room NAME           connect: the room to join
  --participant-identity ID  connect: the agent's identity (default agent-<random>)

console options:
  --input FILE          a WAV file played in real time as the user's microphone (real Silero VAD)
                        (--input default: examples/sample-input.wav)
  --text "line"         a typed user turn (repeatable); without it a scripted user speaks
  --tts NAME            flite: embedded (default); espeak: the system espeak-ng program; silent: no synthesis
  --output FILE         WAV file receiving the agent's speech as heard (default: voicechart-agent.wav)
  --report FILE         JSON session report (default: voicechart-report.json)
  --llm-base-url URL    an OpenAI-compatible server for the LLM (Ollama, vLLM, llama.cpp server)
  --llm-model NAME      the model to ask (defaults: gpt-4.1-mini, llama-3.3-70b-versatile on Groq, llama3.2 local)
  --stt-base-url URL    an OpenAI-compatible transcription server for the STT (whisper.cpp, vLLM, speaches)
  --stt-model NAME      the transcription model (defaults: gpt-4o-transcribe, whisper-large-v3-turbo on Groq, whisper-1 local)
  --quiet               print nothing but errors

  -h, --help            this text
`;

/** A mistake in the command line: printed as one line plus the usage, exit code 2. */
export class UsageError extends Error {}
