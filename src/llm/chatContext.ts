import { shortId } from './ids.ts';

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant';

/**
 * An image in a message, for models with image input: raw RGBA pixels (e.g. a sampled video frame; the provider
 * plugin encodes them) or an image URL / data URL.
 */
export interface ImageContent {
  type: 'image_content';
  id: string;
  image: RgbaImage | string;
  /** When the image was taken (epoch ms). */
  createdAt?: number;
}

export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, row by row. */
  rgba: Uint8Array;
}

export interface ChatMessage {
  type: 'message';
  id: string;
  role: ChatRole;
  content: string[];
  interrupted: boolean;
  createdAt: number;
  transcriptConfidence?: number;
  /** Latency figures for this message, ms or epoch ms (see README "Metrics"). */
  metrics?: Record<string, number>;
  extra?: Record<string, unknown>;
  /** Images that go with the text (a user turn's latest video frame); text stays in `content`. */
  images?: ImageContent[];
}

export interface FunctionCall {
  type: 'function_call';
  id: string;
  callId: string;
  name: string;
  arguments: string;
  createdAt: number;
}

export interface FunctionCallOutput {
  type: 'function_call_output';
  id: string;
  callId: string;
  name: string;
  output: string;
  isError: boolean;
  createdAt: number;
}

export interface AgentHandoff {
  type: 'agent_handoff';
  id: string;
  oldAgentId?: string;
  newAgentId: string;
  createdAt: number;
}

export interface AgentConfigUpdate {
  type: 'agent_config_update';
  id: string;
  instructions?: string;
  toolsAdded?: string[];
  toolsRemoved?: string[];
  createdAt: number;
}

export type ChatItem = ChatMessage | FunctionCall | FunctionCallOutput | AgentHandoff | AgentConfigUpdate;

export function textContent(m: ChatMessage): string {
  return m.content.join('\n');
}

export function createMessage(
  role: ChatRole,
  text: string | string[],
  extra: Partial<Omit<ChatMessage, 'type' | 'role' | 'content'>> = {},
): ChatMessage {
  return {
    type: 'message',
    id: extra.id ?? shortId('item_'),
    role,
    content: Array.isArray(text) ? text : [text],
    interrupted: extra.interrupted ?? false,
    createdAt: extra.createdAt ?? Date.now(),
    ...(extra.transcriptConfidence !== undefined ? { transcriptConfidence: extra.transcriptConfidence } : {}),
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
    ...(extra.extra ? { extra: extra.extra } : {}),
  };
}

/** An ordered list of chat items. `insert` keeps items sorted by `createdAt`; `add` appends. */
export class ChatContext {
  constructor(readonly items: ChatItem[] = []) {}

  static empty(): ChatContext {
    return new ChatContext([]);
  }

  /** Places the item after the last item whose createdAt ≤ its own. */
  insert(item: ChatItem): ChatItem {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.createdAt > item.createdAt) i--;
    this.items.splice(i, 0, item);
    return item;
  }

  add(item: ChatItem): ChatItem {
    this.items.push(item);
    return item;
  }

  addMessage(role: ChatRole, text: string | string[], extra: Partial<ChatMessage> = {}): ChatMessage {
    const m = createMessage(role, text, extra);
    this.items.push(m);
    return m;
  }

  getById(id: string): ChatItem | undefined {
    return this.items.find((i) => i.id === id);
  }

  indexById(id: string): number {
    return this.items.findIndex((i) => i.id === id);
  }

  /** Shallow copy: items are shared, the list is not. */
  copy(): ChatContext {
    return new ChatContext([...this.items]);
  }

  messages(): ChatMessage[] {
    return this.items.filter((i): i is ChatMessage => i.type === 'message');
  }

  toJSON(): ChatItem[] {
    return this.items;
  }
}
