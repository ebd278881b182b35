// Live events from GET /api/v1/stream. fetch() + ReadableStream is used instead of EventSource so
// the token travels in the Authorization header and never in a URL. Reconnects with exponential
// backoff and resumes with Last-Event-ID.

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const SILENCE_LIMIT_MS = 45000; // the server sends ": heartbeat" every 15 s

// Incremental parser for the text/event-stream format (WHATWG HTML, "server-sent events").
export class SseParser {
  constructor(onMessage, onRetry = () => {}) {
    this.onMessage = onMessage;
    this.onRetry = onRetry;
    this.buffer = '';
    this.data = [];
    this.type = '';
    this.lastId = '';
  }

  feed(text) {
    this.buffer += text;
    for (;;) {
      const i = this.buffer.search(/[\r\n]/);
      if (i === -1) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (this.buffer[i] === '\r' && i === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, i);
      const eol = this.buffer[i] === '\r' && this.buffer[i + 1] === '\n' ? 2 : 1;
      this.buffer = this.buffer.slice(i + eol);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }

  dispatch() {
    const data = this.data;
    const type = this.type || 'message';
    this.data = [];
    this.type = '';
    if (data.length === 0) return;
    this.onMessage({ id: this.lastId, type, data: data.join('\n') });
  }
}

export class LiveStream {
  // onState receives 'connecting' | 'connected' | 'reconnecting' | 'stopped'.
  constructor({ url, getToken, onEvent, onState, onUnauthorized, onConnected }) {
    Object.assign(this, { url, getToken, onEvent, onState, onUnauthorized, onConnected });
    this.lastEventId = '';
    this.running = false;
    this.controller = null;
    this.backoff = BACKOFF_START_MS;
    this.wakeUp = null;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    if (this.controller) this.controller.abort();
    if (this.wakeUp) this.wakeUp();
    this.onState('stopped');
  }

  async loop() {
    let first = true;
    while (this.running) {
      this.onState(first ? 'connecting' : 'reconnecting');
      const outcome = await this.connectOnce(!first);
      if (!this.running || outcome === 'unauthorized') return;
      first = false;
      this.onState('reconnecting');
      const jitter = Math.random() * 0.3 * this.backoff;
      await new Promise((resolve) => {
        this.wakeUp = resolve;
        setTimeout(resolve, this.backoff + jitter);
      });
      this.wakeUp = null;
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    }
  }

  async connectOnce(isReconnect) {
    const token = await this.getToken();
    if (!token) {
      this.running = false;
      this.onUnauthorized();
      return 'unauthorized';
    }
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    let watchdog = null;
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
    };
    try {
      armWatchdog();
      const response = await fetch(this.url, { headers, cache: 'no-store', signal: controller.signal });
      if (response.status === 401) {
        this.running = false;
        this.onUnauthorized();
        return 'unauthorized';
      }
      if (!response.ok || !response.body) return 'failed';
      this.onState('connected');
      this.backoff = BACKOFF_START_MS;
      this.onConnected(isReconnect);
      const parser = new SseParser(
        (message) => {
          if (message.id) this.lastEventId = message.id;
          this.onEvent(message);
        },
        (retryMs) => {
          this.backoff = Math.min(Math.max(retryMs, 250), BACKOFF_MAX_MS);
        },
      );
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armWatchdog();
        parser.feed(value);
      }
      return 'closed';
    } catch {
      return 'failed';
    } finally {
      clearTimeout(watchdog);
      this.controller = null;
    }
  }
}
