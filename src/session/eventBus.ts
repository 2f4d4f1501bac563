import { Observable, Subject } from 'rxjs';
import type { AgentSessionEvent, AgentSessionEventType, EventOf } from './events.ts';

export type Listener<T extends AgentSessionEventType> = (ev: EventOf<T>) => void;

/**
 * The session's events: named listeners and one RxJS stream of all of them. A throwing listener is reported
 * through `onListenerError` and never breaks the conversation.
 */
export class EventBus {
  private readonly subject = new Subject<AgentSessionEvent>();
  private readonly listeners = new Map<string, Set<(ev: any) => void>>();
  readonly events$: Observable<AgentSessionEvent> = this.subject.asObservable();

  constructor(private readonly onListenerError: (type: string, e: unknown) => void) {}

  on<T extends AgentSessionEventType>(type: T, fn: Listener<T>): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn);
  }

  off<T extends AgentSessionEventType>(type: T, fn: Listener<T>): void {
    this.listeners.get(type)?.delete(fn);
  }

  once<T extends AgentSessionEventType>(type: T, fn: Listener<T>): void {
    const wrapped: Listener<T> = (ev) => {
      this.off(type, wrapped);
      fn(ev);
    };
    this.on(type, wrapped);
  }

  emit(ev: AgentSessionEvent): void {
    const set = this.listeners.get(ev.type);
    if (set?.size) {
      for (const fn of [...set]) {
        try {
          fn(ev);
        } catch (e) {
          if (ev.type !== 'error') this.onListenerError(ev.type, e);
        }
      }
    }
    this.subject.next(ev);
  }
}
