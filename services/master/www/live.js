// Live updates over Buildbot's /ws protocol: one socket, `startConsuming` per path, events
// `{k, m}` dispatched to every handler whose path pattern matches `k`. The socket reconnects
// by itself; after a reconnect every handler is called with `null` so pages reload what they
// may have missed.

function matches(pattern, key) {
  const p = pattern.split("/");
  const k = key.split("/");
  return p.length === k.length && p.every((segment, i) => segment === "*" || segment === k[i]);
}

/** The /ws connection shared by all pages. */
export class Live {
  constructor(onState) {
    this.handlers = new Map(); // path -> Set of handlers
    this.onState = onState;
    this.socket = null;
    /** Resolves when the socket first opens. */
    this.opened = new Promise((resolve) => {
      this.markOpened = resolve;
    });
    this.nextId = 1;
    this.acks = new Map(); // _id -> resolve of a startConsuming waiting for its ack
    this.backoff = 500;
    this.connect();
  }

  connect() {
    const url = new URL("ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    this.onState("connecting");
    socket.onopen = () => {
      this.backoff = 500;
      this.onState("live");
      for (const path of this.handlers.keys()) this.send("startConsuming", path);
      this.markOpened();
      // Anything may have happened while disconnected.
      this.resync();
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      this.onState("offline");
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  /** Sends a command; resolves once the server acknowledged it (or at once when offline:
   * a reconnect resynchronises every page anyway). */
  send(cmd, path) {
    if (this.socket?.readyState !== WebSocket.OPEN) return Promise.resolve();
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ cmd, path, _id: id }));
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
      setTimeout(() => {
        this.acks.delete(id);
        resolve();
      }, 3000);
    });
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame.k !== "string") {
      this.acks.get(frame._id)?.();
      this.acks.delete(frame._id);
      return;
    }
    for (const [path, handlers] of this.handlers) {
      if (!matches(path, frame.k)) continue;
      for (const handler of handlers) handler(frame.k, frame.m);
    }
  }

  resync() {
    for (const handlers of this.handlers.values()) {
      for (const handler of handlers) handler(null, null);
    }
  }

  /** Calls `handler(key, message)` for each event on `path`. Returns the unsubscribe
   * function; its `ready` promise resolves once the server consumes the path. */
  subscribe(path, handler) {
    let handlers = this.handlers.get(path);
    let ready = Promise.resolve();
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(path, handlers);
      ready = this.send("startConsuming", path);
    }
    handlers.add(handler);
    const unsubscribe = () => {
      handlers.delete(handler);
      if (handlers.size === 0) {
        this.handlers.delete(path);
        this.send("stopConsuming", path);
      }
    };
    unsubscribe.ready = ready;
    return unsubscribe;
  }
}
