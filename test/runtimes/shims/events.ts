/**
 * A small stand-in for `node:events` in the browser: `getEventListeners` for
 * EventTargets (the core's tests count abort listeners to prove cleanup), made
 * possible by tracking `addEventListener`/`removeEventListener` from the start
 * of the bundle, plus `once` and a minimal `EventEmitter`.
 */

type Listener = EventListenerOrEventListenerObject;
interface Entry {
  readonly listener: Listener;
  readonly capture: boolean;
  readonly done: () => void;
}

const tracked = new WeakMap<EventTarget, Map<string, Entry[]>>();
const proto = EventTarget.prototype;
const add = proto.addEventListener;
const remove = proto.removeEventListener;

function entries(target: EventTarget, type: string): Entry[] {
  let byType = tracked.get(target);
  if (byType === undefined) {
    byType = new Map();
    tracked.set(target, byType);
  }
  let list = byType.get(type);
  if (list === undefined) {
    list = [];
    byType.set(type, list);
  }
  return list;
}

function captureOf(options: boolean | EventListenerOptions | undefined): boolean {
  return typeof options === "boolean" ? options : options?.capture === true;
}

proto.addEventListener = function (
  this: EventTarget | undefined,
  type: string,
  listener: Listener | null,
  options?: boolean | AddEventListenerOptions,
): void {
  // A bare `addEventListener(…)` in a module calls it on the global object.
  const target = this ?? globalThis;
  add.call(target, type, listener, options);
  if (listener === null) return;
  const capture = captureOf(options);
  const list = entries(target, type);
  if (list.some((e) => e.listener === listener && e.capture === capture)) return;
  const opts = typeof options === "object" ? options : {};
  if (opts.signal?.aborted) return;
  const untrack = (): void => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
    remove.call(target, type, onceDone, { capture });
    if (opts.signal !== undefined) remove.call(opts.signal, "abort", untrack);
  };
  const onceDone = (): void => untrack();
  const entry: Entry = { listener, capture, done: untrack };
  list.push(entry);
  if (opts.once === true) add.call(target, type, onceDone, { capture, once: true });
  if (opts.signal !== undefined) add.call(opts.signal, "abort", untrack, { once: true });
};

proto.removeEventListener = function (
  this: EventTarget | undefined,
  type: string,
  listener: Listener | null,
  options?: boolean | EventListenerOptions,
): void {
  const target = this ?? globalThis;
  remove.call(target, type, listener, options);
  const capture = captureOf(options);
  const list = tracked.get(target)?.get(type);
  list?.find((e) => e.listener === listener && e.capture === capture)?.done();
};

type Handler = (...args: unknown[]) => void;

/** A minimal `EventEmitter`: on/off/once/emit/listenerCount. */
export class EventEmitter {
  #handlers = new Map<string | symbol, Handler[]>();
  on(name: string | symbol, fn: Handler): this {
    this.#handlers.set(name, [...(this.#handlers.get(name) ?? []), fn]);
    return this;
  }
  addListener(name: string | symbol, fn: Handler): this {
    return this.on(name, fn);
  }
  off(name: string | symbol, fn: Handler): this {
    const list = this.#handlers.get(name) ?? [];
    const i = list.lastIndexOf(fn);
    if (i >= 0) this.#handlers.set(name, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }
  removeListener(name: string | symbol, fn: Handler): this {
    return this.off(name, fn);
  }
  once(name: string | symbol, fn: Handler): this {
    const wrapper: Handler = (...args) => {
      this.off(name, wrapper);
      fn(...args);
    };
    return this.on(name, wrapper);
  }
  emit(name: string | symbol, ...args: unknown[]): boolean {
    const list = this.#handlers.get(name) ?? [];
    if (name === "error" && list.length === 0) throw args[0];
    for (const fn of list) fn.apply(this, args);
    return list.length > 0;
  }
  listenerCount(name: string | symbol): number {
    return this.#handlers.get(name)?.length ?? 0;
  }
  listeners(name: string | symbol): Handler[] {
    return [...(this.#handlers.get(name) ?? [])];
  }
}

/** `getEventListeners(target, type)`: the listeners of an EventTarget or an EventEmitter. */
export function getEventListeners(target: EventTarget | EventEmitter, type: string): unknown[] {
  if (target instanceof EventEmitter) return target.listeners(type);
  return (tracked.get(target)?.get(type) ?? []).map((e) => e.listener);
}

/** `once(target, name)`: resolves with the event's arguments (an array), rejects on "error". */
export function once(target: EventTarget | EventEmitter, name: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    if (target instanceof EventEmitter) {
      const onError = (error: unknown): void => {
        target.off(name, onEvent);
        reject(error);
      };
      const onEvent = (...args: unknown[]): void => {
        target.off("error", onError);
        resolve(args);
      };
      target.once(name, onEvent);
      if (name !== "error") target.once("error", onError);
    } else {
      target.addEventListener(name, (event) => resolve([event]), { once: true });
    }
  });
}

export default { EventEmitter, getEventListeners, once };
