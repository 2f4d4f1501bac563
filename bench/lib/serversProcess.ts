/** Runs the local provider servers in their own process, answering every request at once; prints their URLs. */
import { chunk, finish, startChatServer } from '../../test/providerServers/sseChatServer.ts';
import { startAudioServer } from '../../test/providerServers/audioServer.ts';

const chat = await startChatServer({ fallback: { kind: 'stream', chunks: [chunk('Sure, here is the answer.'), finish('stop')] } });
const audio = await startAudioServer({ fallback: { kind: 'pcm', samples: new Int16Array(480), chunkBytes: 960 } });
process.stdout.write(JSON.stringify({ chat: chat.url, audio: audio.url }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0)); // exits with its parent
